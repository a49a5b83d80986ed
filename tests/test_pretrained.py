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
