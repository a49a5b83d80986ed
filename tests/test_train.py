"""Training, checkpoints and the command line, on tiny configurations of the embedded data."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

import nvp.training as train_module
import nvp.training.steps as steps_module
from nvp.data import load_dataset
from nvp.training.checkpoint import load_checkpoint, load_model, migrate, save_checkpoint
from nvp.training.cli import main
from nvp.training.config import Config


def tiny_config(**kw) -> Config:
    # the paper's plain recipe on a tiny model; tests of the other options set them
    base = dict(dataset="mnist5k", epochs=2, batch_size=32, mid_channels=8, num_blocks=1,
                train_subset=96, test_subset=64, lr=2e-3, validation=0, precision="fp32",
                dequantization="uniform", ema=0.0, lr_schedule="constant",
                data_constraint=0.9)
    return Config(**{**base, **kw})


def params(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_training_lowers_held_out_bits_per_dim(tmp_path):
    config = tiny_config(epochs=3, train_subset=256)
    _, metrics = train_module.train(config, tmp_path, device="cpu", progress=False, log=lambda s: s)
    assert len(metrics["heldout_bpd"]) == 3
    assert metrics["heldout_bpd"][-1] < metrics["heldout_bpd"][0] - 0.1
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
    assert len(metrics["heldout_bpd"]) == 2


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
    real_nll, calls = steps_module.nll, []

    def nll_that_explodes(z, sldj):
        calls.append(1)
        out = real_nll(z, sldj)
        return out * float("nan") if len(calls) == 2 else out

    monkeypatch.setattr(steps_module, "nll", nll_that_explodes)
    # epochs counted from 1, as the log counts them: the resumed run is in its second epoch
    with pytest.raises(FloatingPointError, match=r"at step 5 \(epoch 2\)"):
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
            "--validation", "16", "--test-subset", "32", "--device", "cpu"]
    assert main(args) == 0  # otherwise the defaults: the shipped model's recipe
    assert "best validation bits/dim" in capsys.readouterr().out
    assert main(["evaluate", "--checkpoint", str(out / "best.pt"), "--device", "cpu"]) == 0
    bpd = float(capsys.readouterr().out.split("test bits/dim:")[1])
    model, config = load_model(out / "best.pt"), Config.from_dict(
        load_checkpoint(out / "best.pt")["config"])
    assert bpd == pytest.approx(train_module.evaluate(model, train_module.load_data(config,
                                                                                   "test")),
                                abs=1e-4)  # the CLI prints what nvp.evaluate measures
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
                 "--precision", "bf16", "--dequantization", "variational", "--ema", "0.9",
                 "--validation", "8"]) == 0
    config = load_checkpoint(out / "last.pt")["config"]
    assert config["data_constraint"] == 0.99998 and config["lr_schedule"] == "cosine"
    assert config["precision"] == "bf16" and config["dequantization"] == "variational"
    assert config["ema"] == 0.9 and config["validation"] == 8
    assert load_model(out / "last.pt").logit.data_constraint == 0.99998


def test_python_dash_m_nvp_help():
    out = subprocess.run([sys.executable, "-m", "nvp", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "train" in out and "evaluate" in out and "sample" in out


def test_every_config_field_has_a_command_line_option():
    import dataclasses

    from nvp.training.cli import DERIVED, _parser

    train_parser = _parser()._subparsers._group_actions[0].choices["train"]
    actions = {a.dest: a for a in train_parser._actions}
    fields = [f for f in dataclasses.fields(Config) if f.name not in DERIVED]
    assert set(actions) == {f.name for f in fields} | {"help", "out", "resume", "device", "quiet"}
    for f in fields:  # the field's default, and its comment as help
        assert actions[f.name].default == f.default and actions[f.name].help, f.name


def test_validation_split_is_random_disjoint_and_fixed():
    config = tiny_config(train_subset=0, validation=500)
    train, valid = (train_module.load_data(config, s) for s in ("train", "valid"))
    full = load_dataset("mnist5k", "train")
    assert len(train) == 4000 and len(valid) == 500
    rows = {tuple(r): i for i, r in enumerate(full.flatten(1).numpy().round(3))}
    assert len(rows) > 4400  # near-unique images, so membership below is meaningful
    v = {tuple(r) for r in valid.flatten(1).numpy().round(3)}
    t = {tuple(r) for r in train.flatten(1).numpy().round(3)}
    assert not v & t
    _, labels = load_dataset("mnist5k", "train", with_labels=True)  # sorted by class
    counts = torch.bincount(labels[[rows[r] for r in v]], minlength=10)
    assert counts.min() > 25 and counts.max() < 75  # a random draw, every class in it
    same_seed = train_module.load_data(tiny_config(train_subset=0, validation=500, seed=9),
                                       "valid")
    assert torch.equal(same_seed, valid)  # the validation images do not depend on the seed
    with pytest.raises(ValueError, match="no validation images"):
        train_module.load_data(tiny_config(), "valid")
    with pytest.raises(ValueError, match="leaves no training images"):
        train_module.load_data(tiny_config(validation=96), "train")


def test_weight_average_is_what_is_scored_saved_and_loaded(tmp_path):
    lines = []
    config = tiny_config(epochs=2, ema=0.9, validation=32, dequantization="variational")
    scored, metrics = train_module.train(config, tmp_path, device="cpu", progress=False,
                                         log=lines.append)
    ckpt = load_checkpoint(tmp_path / "last.pt")
    assert set(ckpt["ema"]) == set(ckpt["model"])
    assert metrics["heldout"] == "validation" and len(metrics["raw_heldout_bpd"]) == 2
    assert metrics["heldout_bpd"] != metrics["raw_heldout_bpd"]  # two different sets of weights
    for k, v in scored.state_dict().items():
        torch.testing.assert_close(v, ckpt["ema"][k], rtol=0, atol=0, msg=k)
    loaded = load_model(tmp_path / "last.pt")
    valid = train_module.load_data(config, "valid")
    bpd = train_module.evaluate(loaded, valid, seed=config.seed)
    assert bpd == pytest.approx(metrics["heldout_bpd"][-1], rel=1e-6)
    assert any("s per epoch of training" in line for line in lines)  # the expected time


def test_resume_is_exact_with_averaging_and_learned_noise(tmp_path):
    log = lambda s: s  # noqa: E731
    config = tiny_config(epochs=2, ema=0.9, dequantization="variational")
    straight, _ = train_module.train(config, tmp_path / "a", device="cpu", progress=False,
                                     log=log)
    train_module.train(tiny_config(epochs=1, ema=0.9, dequantization="variational"),
                       tmp_path / "b", device="cpu", progress=False, log=log)
    resumed, _ = train_module.train(config, tmp_path / "b", resume=True, device="cpu",
                                    progress=False, log=log)
    a, b = params(straight), params(resumed)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)


def test_automatic_precision_is_timed_and_changes_nothing(tmp_path):
    lines = []
    config = tiny_config(epochs=1, precision="auto")
    _, metrics = train_module.train(config, tmp_path / "auto", device="cpu", progress=False,
                                    log=lines.append)
    assert metrics["precision"] in ("fp32", "bf16")
    assert any(line.startswith("precision: ") and "fp32" in line for line in lines)
    fixed, _ = train_module.train(tiny_config(epochs=1, precision=metrics["precision"]),
                                  tmp_path / "fixed", device="cpu", progress=False,
                                  log=lambda s: s)
    auto = load_model(tmp_path / "auto" / "last.pt")
    for k, v in fixed.state_dict().items():  # the probe ran on copies: the run is the same
        torch.testing.assert_close(auto.state_dict()[k], v, rtol=0, atol=0, msg=k)


def test_checkpoints_from_before_the_new_fields_still_load():
    old = {**tiny_config().to_dict(), "bf16": True}
    for k in ("precision", "validation", "dequantization", "ema", "num_classes", "conditioning"):
        del old[k]
    ckpt = migrate({"format": "nvp-checkpoint-1", "config": old})
    config = Config.from_dict(ckpt["config"])  # what those runs did, not today's defaults
    assert config.precision == "bf16" and config.dequantization == "uniform"
    assert config.validation == 0 and config.ema == 0.0 and config.num_classes == 0
