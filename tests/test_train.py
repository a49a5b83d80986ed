"""Training, checkpoints and the command line, on tiny configurations of the embedded data."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

import nvp.training as train_module
from nvp.checkpoint import load_checkpoint, load_model, save_checkpoint
from nvp.cli import main
from nvp.config import Config


def tiny_config(**kw) -> Config:
    base = dict(dataset="mnist5k", epochs=2, batch_size=32, mid_channels=8, num_blocks=1,
                train_subset=96, test_subset=64, lr=2e-3)
    return Config(**{**base, **kw})


def params(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_training_lowers_held_out_bits_per_dim(tmp_path):
    config = tiny_config(epochs=3, train_subset=256)
    _, metrics = train_module.train(config, tmp_path, device="cpu", progress=False, log=lambda s: s)
    assert len(metrics["test_bpd"]) == 3
    assert metrics["test_bpd"][-1] < metrics["test_bpd"][0] - 0.1
    assert metrics["step_bpd"][-1] < metrics["step_bpd"][0]
    assert (tmp_path / "last.pt").exists() and (tmp_path / "best.pt").exists()


def test_resume_equals_uninterrupted_run(tmp_path):
    log = lambda s: s  # noqa: E731
    straight, _ = train_module.train(tiny_config(epochs=2), tmp_path / "a", device="cpu",
                                     progress=False, log=log)
    train_module.train(tiny_config(epochs=1), tmp_path / "b", device="cpu", progress=False, log=log)
    torch.manual_seed(123)  # whatever happens in between must not matter
    resumed, metrics = train_module.train(tiny_config(epochs=2), tmp_path / "b", resume=True,
                                          device="cpu", progress=False, log=log)
    a, b = params(straight), params(resumed)
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)
    assert len(metrics["test_bpd"]) == 2


def test_cosine_schedule_resumes_exactly_after_a_crash(tmp_path):
    log = lambda s: s  # noqa: E731
    config = tiny_config(epochs=2, lr_schedule="cosine")
    straight, _ = train_module.train(config, tmp_path / "a", device="cpu", progress=False, log=log)
    ckpt = load_checkpoint(tmp_path / "a" / "last.pt")
    last_lr = ckpt["optimizer"]["param_groups"][0]["lr"]  # the rate of the run's last step
    assert last_lr == train_module.learning_rate(config, ckpt["step"] - 1, ckpt["step"])
    assert last_lr < 0.2 * config.lr  # decayed: the schedule was applied

    def crash(epoch, metrics):
        raise KeyboardInterrupt  # killed after epoch 1, its checkpoint on disk

    with pytest.raises(KeyboardInterrupt):
        train_module.train(config, tmp_path / "b", device="cpu", progress=False, log=log,
                           on_epoch=crash)
    resumed, _ = train_module.train(config, tmp_path / "b", resume=True, device="cpu",
                                    progress=False, log=log)
    a, b = params(straight), params(resumed)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)


def test_learning_rate_schedules():
    lr = train_module.learning_rate
    constant, cosine = tiny_config(lr=1e-3), tiny_config(lr=1e-3, lr_schedule="cosine")
    assert [lr(constant, s, 100) for s in (0, 50, 99)] == [1e-3] * 3
    assert lr(cosine, 0, 100) == 1e-3
    assert lr(cosine, 50, 100) == pytest.approx(5e-4, rel=1e-12)  # half way: half the rate
    assert lr(cosine, 75, 100) == pytest.approx(1e-3 * (1 + 2**-0.5 * -1) / 2, rel=1e-12)
    assert lr(cosine, 100, 100) == pytest.approx(0, abs=1e-18)
    with pytest.raises(ValueError, match="lr_schedule"):
        tiny_config(lr_schedule="step")


def test_save_load_gives_identical_outputs(tmp_path):
    model, _ = train_module.train(tiny_config(epochs=1), tmp_path, device="cpu", progress=False,
                                  log=lambda s: s)
    loaded = load_model(tmp_path / "last.pt")
    model.eval()
    x = torch.rand(3, 1, 28, 28)
    for a, b in zip(model(x, dequantize=False), loaded(x, dequantize=False), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_nan_loss_stops_with_step_and_keeps_last_checkpoint(tmp_path, monkeypatch):
    log = lambda s: s  # noqa: E731
    train_module.train(tiny_config(epochs=1), tmp_path, device="cpu", progress=False, log=log)
    before = (tmp_path / "last.pt").read_bytes()
    real_nll, calls = train_module.nll, []

    def nll_that_explodes(z, sldj):
        calls.append(1)
        out = real_nll(z, sldj)
        return out * float("nan") if len(calls) == 2 else out

    monkeypatch.setattr(train_module, "nll", nll_that_explodes)
    with pytest.raises(FloatingPointError, match=r"at step 5 \(epoch 1\)"):
        train_module.train(tiny_config(epochs=2), tmp_path, resume=True, device="cpu",
                           progress=False, log=log)
    assert (tmp_path / "last.pt").read_bytes() == before


def test_write_killed_midway_leaves_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    ckpt = {"format": "nvp-checkpoint-1", "config": tiny_config().to_dict(),
            "model": tiny_config().build_model().state_dict()}
    save_checkpoint(ckpt, path)
    good = path.read_bytes()

    def dying_save(obj, f):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt  # killed mid-write

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(ckpt, path)
    assert path.read_bytes() == good
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind
    monkeypatch.undo()
    load_model(path)


def test_truncated_foreign_and_pickled_files_are_refused(tmp_path):
    path = tmp_path / "c.pt"
    ckpt = {"format": "nvp-checkpoint-1", "config": tiny_config().to_dict(),
            "model": tiny_config().build_model().state_dict()}
    save_checkpoint(ckpt, path)
    (tmp_path / "trunc.pt").write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        load_checkpoint(tmp_path / "trunc.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not an nvp checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    torch.save({"format": "nvp-checkpoint-1", "x": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="refuses"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")


def test_mismatched_weights_are_refused(tmp_path):
    config = tiny_config()
    wrong = tiny_config(mid_channels=16).build_model().state_dict()
    save_checkpoint({"format": "nvp-checkpoint-1", "config": config.to_dict(), "model": wrong},
                    tmp_path / "m.pt")
    with pytest.raises(ValueError, match="do not match"):
        load_model(tmp_path / "m.pt")


def test_cli_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--dataset", "mnist5k", "--epochs", "1", "--out", str(out), "--quiet",
            "--mid-channels", "4", "--num-blocks", "1", "--train-subset", "64",
            "--test-subset", "32", "--device", "cpu"]
    assert main(args) == 0
    assert "best held-out bits/dim" in capsys.readouterr().out
    assert main(["evaluate", "--checkpoint", str(out / "best.pt"), "--device", "cpu"]) == 0
    bpd = float(capsys.readouterr().out.split("bits/dim:")[1])
    assert 0 < bpd < 16
    png = tmp_path / "grid.png"
    assert main(["sample", "--checkpoint", str(out / "best.pt"), "--n", "9", "--temperature",
                 "0.7", "--out", str(png), "--device", "cpu"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["sample", "--checkpoint", str(tmp_path / "nope.pt"), "--out", str(png)]) == 1
    assert "no checkpoint" in capsys.readouterr().err


def test_cli_passes_the_preprocessing_schedule_and_precision_options(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(out), "--quiet", "--mid-channels", "4",
                 "--num-blocks", "1", "--train-subset", "32", "--test-subset", "32",
                 "--device", "cpu", "--data-constraint", "0.99998", "--lr-schedule", "cosine",
                 "--bf16"]) == 0
    config = load_checkpoint(out / "last.pt")["config"]
    assert config["data_constraint"] == 0.99998 and config["lr_schedule"] == "cosine"
    assert config["bf16"]
    assert load_model(out / "last.pt").logit.data_constraint == 0.99998


def test_python_dash_m_nvp_help():
    out = subprocess.run([sys.executable, "-m", "nvp", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "train" in out and "evaluate" in out and "sample" in out
