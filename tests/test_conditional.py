"""Class-conditional Real NVP (nvp.conditional): a flow in x for every label, the label used,
bad labels refused before any state changes, the three likelihoods and the classifier."""

from __future__ import annotations

import math

import pytest
import torch

import nvp
from nvp.conditional import CONDITIONINGS, ClassPrior
from nvp.testing import check_flow, randomize_
from nvp.training import Config, epoch_batches, load_checkpoint, load_data, load_model, train
from nvp.training.cli import main
from nvp.training.evaluate import (
    class_log_likelihoods,
    conditional_report,
    image_bits_per_dim,
    log_likelihoods,
)

K = 3


def tiny(conditioning: str, **kw) -> nvp.RealNVP:
    args = dict(in_channels=1, num_scales=2, mid_channels=4, num_blocks=1, image_size=(4, 4),
                num_classes=K, conditioning=conditioning)
    return nvp.RealNVP(**{**args, **kw})


class WithLabel(nvp.Flow):
    """The multi-scale flow (logits -> z, class prior included) with the label held fixed: a
    flow in x alone, whose Jacobian is taken with respect to the image."""

    def __init__(self, model: nvp.RealNVP, label: int) -> None:
        super().__init__()
        self.model, self.label = model, label

    def forward(self, x, sldj, reverse=False):
        y = torch.full((x.shape[0],), self.label, dtype=torch.long)
        return self.model.flow(x, sldj, reverse, y=y)


@pytest.mark.parametrize("conditioning", CONDITIONINGS)
@pytest.mark.parametrize("label", range(K))
def test_invertible_with_the_right_log_det_for_every_label(conditioning, label):
    check_flow(WithLabel(tiny(conditioning), label), (2, 1, 4, 4), atol=1e-8)


@pytest.mark.parametrize("conditioning", CONDITIONINGS)
def test_log_det_in_train_mode_for_a_label(conditioning):
    check_flow(WithLabel(tiny(conditioning), 1), (2, 1, 4, 4), atol=1e-8, train=True)


def test_class_prior_is_a_flow():
    prior = ClassPrior(K, (1, 2, 2))

    class Bound(nvp.Flow):
        def __init__(self):
            super().__init__()
            self.prior = prior

        def forward(self, x, sldj, reverse=False):
            return self.prior(x, sldj, reverse, y=torch.full((x.shape[0],), 2))

    check_flow(Bound(), (2, 1, 2, 2), atol=1e-10)


@pytest.mark.parametrize("conditioning", CONDITIONINGS)
def test_the_label_changes_the_code_and_the_round_trip_holds(conditioning):
    model = randomize_(tiny(conditioning).double(),
                       generator=torch.Generator().manual_seed(0)).eval()
    x = torch.rand(4, 1, 4, 4, dtype=torch.float64)
    codes = [model(x, dequantize=False, y=torch.full((4,), k))[0] for k in range(K)]
    for a in range(K):
        for b in range(a + 1, K):
            assert (codes[a] - codes[b]).abs().max() > 1e-3, (a, b)
    for k, z in enumerate(codes):
        back, _ = model(z, reverse=True, y=torch.full((4,), k))
        torch.testing.assert_close(back, x, atol=1e-10, rtol=0)


def test_full_model_log_det_for_every_label():
    """Logit, multi-scale flow and class prior together, against autograd's Jacobian."""
    model = randomize_(tiny("both").double(), generator=torch.Generator().manual_seed(1)).eval()
    x = 0.1 + 0.8 * torch.rand(1, 1, 4, 4, dtype=torch.float64)
    for k in range(K):
        y = torch.tensor([k])

        def f(v, y=y):
            return model(v.view(1, 1, 4, 4), dequantize=False, validate=False, y=y)[0].flatten()

        jac = torch.autograd.functional.jacobian(f, x.flatten())
        _, sldj = model(x, dequantize=False, y=y)
        torch.testing.assert_close(sldj[0], torch.linalg.slogdet(jac)[1], atol=1e-8, rtol=0)


def test_sampling_a_label():
    model = randomize_(tiny("both")).eval()
    gen = torch.Generator().manual_seed(0)
    x = model.sample(5, y=2, generator=gen)
    assert x.shape == (5, 1, 4, 4) and x.min() >= 0 and x.max() <= 1
    x2 = model.sample(3, y=torch.tensor([0, 1, 2]))
    assert x2.shape == (3, 1, 4, 4)


def test_bad_labels_are_refused_before_any_state_changes():
    model = tiny("both").train()
    x = torch.rand(2, 1, 4, 4)
    before = [b.clone() for b in model.buffers()]
    cases = [
        (None, ValueError, "class-conditional"),
        (torch.tensor([0.0, 1.0]), TypeError, "integer"),
        (torch.tensor([True, False]), TypeError, "integer"),
        ([0, 1], TypeError, "torch.Tensor"),
        (torch.tensor([0, 1, 2]), ValueError, r"shape \(2,\)"),
        (torch.tensor([[0, 1]]), ValueError, r"shape \(2,\)"),
        (torch.tensor([0, 3]), ValueError, "0..2"),
        (torch.tensor([-1, 0]), ValueError, "0..2"),
    ]
    for y, err, match in cases:
        with pytest.raises(err, match=match):
            model(x, y=y)
    for a, b in zip(before, model.buffers(), strict=True):
        assert torch.equal(a, b)  # batch-norm statistics untouched
    with pytest.raises(ValueError, match="unconditional"):
        nvp.RealNVP(1, 2, 4, 1)(x, y=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="0..2"):
        model.sample(2, y=5)
    with pytest.raises(ValueError, match="class-conditional"):
        model.sample(2)
    with pytest.raises(ValueError, match="image_size"):
        nvp.RealNVP(1, 2, 4, 1, num_classes=K, conditioning="prior")
    with pytest.raises(ValueError, match="conditioning"):
        tiny("label")
    with pytest.raises(ValueError, match="num_classes"):
        tiny("st", num_classes=-1)
    with pytest.raises(ValueError, match="prior is for 4×4"):
        tiny("prior").eval()(torch.rand(1, 1, 8, 8), y=torch.tensor([0]))


def test_importance_weighting_is_a_tighter_bound():
    model = randomize_(tiny("both")).eval()
    x = torch.randint(0, 256, (6, 1, 4, 4)) / 255.0
    y = torch.arange(6) % K
    mean = image_bits_per_dim(model, x, draws=6, labels=y)
    iw = image_bits_per_dim(model, x, draws=6, labels=y, importance_weighted=True)
    assert (iw <= mean + 1e-12).all() and (iw < mean).any()  # Jensen, never looser
    one = image_bits_per_dim(model, x, draws=1, labels=y)
    torch.testing.assert_close(image_bits_per_dim(model, x, draws=1, labels=y,
                                                  importance_weighted=True), one)


def test_three_likelihoods_and_the_classifier_agree():
    model = randomize_(tiny("both")).eval()
    x = torch.randint(0, 256, (8, 1, 4, 4)) / 255.0
    y = torch.arange(8) % K
    ll = class_log_likelihoods(model, x)  # (8, K) nats
    assert ll.shape == (8, K)
    # the column of the true label is log p(x | y) as the model scores it directly
    direct = log_likelihoods(model, x, labels=y)[0]
    torch.testing.assert_close(ll[torch.arange(8), y], direct, rtol=0, atol=1e-9)
    report = conditional_report(model, x, y)
    d = x[0].numel()
    marginal = torch.logsumexp(ll - math.log(K), dim=1)
    assert report["marginal_bpd"] == pytest.approx((-marginal / (d * math.log(2))).mean().item())
    # log p(x) ≥ log p(x | y) + log p(y): the label is worth at most log2 K bits
    assert report["label_bits"] <= math.log2(K) + 1e-9
    assert report["accuracy"] == (ll.argmax(1) == y).double().mean().item()


def test_batches_carry_the_labels_of_their_images():
    data = torch.arange(20, dtype=torch.float32).view(20, 1, 1, 1).expand(20, 1, 2, 2) / 20
    labels = torch.arange(20) % 7
    config = Config(batch_size=6, seed=4)
    seen = 0
    for x, _, n, y in epoch_batches(data, config, 2, labels=labels):
        index = (x[:, 0, 0, 0] * 20).round().long()
        assert torch.equal(y, labels[index]) and n == len(x)
        seen += n
    assert seen == 20
    x, y = load_data(Config(validation=50), "valid", labels=True)
    images, all_labels = nvp.data.load_dataset("mnist5k", "train", with_labels=True)
    for i in range(0, 50, 7):  # each held-out image keeps its own label
        match = (images == x[i]).flatten(1).all(1).nonzero()[:, 0]
        assert set(all_labels[match].tolist()) == {y[i].item()}


def test_train_resume_evaluate_and_sample_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--epochs", "1", "--out", str(out), "--quiet", "--mid-channels", "4",
            "--num-blocks", "1", "--train-subset", "96", "--validation", "32",
            "--test-subset", "24", "--device", "cpu", "--num-classes", "10",
            "--conditioning", "both", "--precision", "fp32"]
    assert main(args) == 0
    assert main(args[:2] + ["2"] + args[3:] + ["--resume"]) == 0
    ckpt = load_checkpoint(out / "last.pt")
    assert ckpt["epoch"] == 2 and ckpt["config"]["num_classes"] == 10
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(out / "best.pt"), "--device", "cpu",
                 "--draws", "2", "--importance-weighted"]) == 0
    printed = capsys.readouterr().out
    assert "given the label" in printed and "marginal" in printed and "classifier" in printed
    png = tmp_path / "three.png"
    assert main(["sample", "--checkpoint", str(out / "best.pt"), "--label", "3", "--n", "4",
                 "--out", str(png), "--device", "cpu"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["sample", "--checkpoint", str(out / "best.pt"), "--label", "12",
                 "--out", str(png), "--device", "cpu"]) == 1
    assert "0..9" in capsys.readouterr().err
    assert main(["sample", "--checkpoint", str(out / "best.pt"), "--out", str(png)]) == 1
    assert "--label" in capsys.readouterr().err


def test_labels_out_of_range_for_the_data_are_refused(tmp_path):
    config = Config(epochs=1, mid_channels=4, num_blocks=1, validation=16,
                    num_classes=5, precision="fp32")
    with pytest.raises(ValueError, match="num_classes = 5"):
        train(config, tmp_path, progress=False, log=lambda s: None)
    assert not any(tmp_path.iterdir())  # refused before any checkpoint is written


def test_label_argument_on_an_unconditional_checkpoint(tmp_path, capsys):
    png = tmp_path / "x.png"
    path = nvp.training.hub._path("mnist5k")
    assert main(["sample", "--checkpoint", str(path), "--label", "3", "--out", str(png)]) == 1
    assert "unconditional" in capsys.readouterr().err
    assert load_model(path).num_classes == 0
