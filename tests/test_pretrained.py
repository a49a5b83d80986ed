"""The shipped pretrained model: loads offline, samples images, still scores what it claims, and
is what ``nvp.Config()``'s defaults train."""

from __future__ import annotations

import dataclasses
from importlib import resources

import numpy as np
import pytest
import torch

import nvp
from nvp.training import load_data


def test_loads_offline_and_samples_images():
    model = nvp.pretrained("mnist5k")
    assert not model.training
    x = model.sample(16, temperature=0.7, generator=torch.Generator().manual_seed(0))
    assert x.shape == (16, 1, 28, 28)
    assert torch.isfinite(x).all() and x.min() >= 0 and x.max() <= 1


@pytest.mark.parametrize("split", ["valid", "test"])
def test_bits_per_dim_match_the_recorded_values(split):
    info = nvp.pretrained_info("mnist5k")
    config = nvp.Config.from_dict(info["config"])
    bpd = nvp.evaluate(nvp.pretrained("mnist5k"), load_data(config, split),
                       seed=info["recipe"]["eval_seed"])
    # the same computation as at export, on this machine's kernels: float32 rounding only
    assert bpd == pytest.approx(info["recipe"][f"{split}_bpd"], abs=1e-3)
    assert bpd < 1.25  # a trained model, not a fresh one (those start near 10 bits/dim)


def test_the_defaults_are_the_shipped_recipe():
    shipped = nvp.Config.from_dict(nvp.pretrained_info("mnist5k")["config"])
    ours = nvp.Config()
    for f in dataclasses.fields(nvp.Config):
        if f.name not in ("notes", "compile"):
            assert getattr(ours, f.name) == getattr(shipped, f.name), f.name


def test_samples_of_the_run_at_a_few_epochs():
    path = resources.files("nvp").joinpath("weights", "mnist5k_samples.npz")
    with path.open("rb") as f, np.load(f) as npz:
        epochs, samples = npz["epochs"], npz["samples"]
    assert samples.shape == (len(epochs), 16, 28, 28) and samples.dtype == np.uint8
    assert list(epochs) == sorted(epochs) and epochs[0] == 1


def test_unknown_name():
    with pytest.raises(ValueError, match="mnist5k"):
        nvp.pretrained("imagenet")


def test_the_conditional_model_and_the_second_seed_score_what_they_claim():
    """Both GPU-trained models, re-scored on this CPU (float32 and TF32 rounding: 1e-3)."""
    for name in ("mnist5k-cond", "mnist5k-seed1"):
        path = resources.files("nvp").joinpath("weights", nvp.training.hub.PRETRAINED[name])
        assert path.stat().st_size < 10 * 2**20  # ≤ 10 MB, as shipped
        info, model = nvp.pretrained_info(name), nvp.pretrained(name)
        config = nvp.Config.from_dict(info["config"])
        assert model.num_classes == config.num_classes == (10 if name.endswith("cond") else 0)
        x, y = load_data(config, "valid", labels=True)
        bpd = nvp.evaluate(model, x, seed=info["recipe"]["eval_seed"],
                           labels=y if model.num_classes else None)
        assert bpd == pytest.approx(info["recipe"]["valid_bpd"], abs=1e-3)
        assert bpd < 1.2


def test_the_shipped_per_label_likelihoods_are_the_models():
    """nvp/weights/mnist5k_cond_test.npz (chapter 10 reads it): the first 16 test digits
    re-scored under every label with the same noise."""
    path = resources.files("nvp").joinpath("weights", "mnist5k_cond_test.npz")
    with path.open("rb") as f, np.load(f) as npz:
        shipped, labels = torch.from_numpy(npz["log_likelihood"]), torch.from_numpy(npz["labels"])
    x, y = load_data(nvp.Config(), "test", labels=True)
    assert shipped.shape == (500, 10) and torch.equal(labels, y)
    from nvp.training.evaluate import class_log_likelihoods

    ll = class_log_likelihoods(nvp.pretrained("mnist5k-cond"), x[:16])  # same first draws
    # 1e-3 bits/dim, in nats per image
    torch.testing.assert_close(ll, shipped[:16], rtol=0, atol=1e-3 * 784 * np.log(2))


def test_recorded_test_scores_are_consistent():
    """evaluation.json: K = 8 importance weighting never loosens the bound; the marginal is at
    most log2(10) bits per image above the conditional."""
    import json

    path = resources.files("nvp").joinpath("weights", "evaluation.json")
    record = json.loads(path.read_text())
    assert record["mnist5k"]["k8"] <= record["mnist5k"]["k1"]
    cond = record["mnist5k-cond"]
    for k in ("k1", "k8"):
        assert cond[k]["marginal_bpd"] <= cond[k]["conditional_bpd"] + np.log2(10) / 784 + 1e-9
        assert 0 <= cond[k]["label_bits"] <= np.log2(10) + 1e-9
    assert cond["k8"]["conditional_bpd"] <= cond["k1"]["conditional_bpd"]
    info = nvp.pretrained_info("mnist5k-cond")
    assert info["recipe"]["test_report"] == cond
    assert cond["k1"]["conditional_bpd"] == pytest.approx(info["recipe"]["test_bpd"], abs=1e-6)
