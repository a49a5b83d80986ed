"""The shipped pretrained model: loads offline, samples images, and still scores what it claims."""

from __future__ import annotations

import pytest
import torch

import nvp
from nvp.data import load_dataset


def test_loads_offline_and_samples_images():
    model = nvp.pretrained("mnist5k")
    assert not model.training
    x = model.sample(16, temperature=0.7, generator=torch.Generator().manual_seed(0))
    assert x.shape == (16, 1, 28, 28)
    assert torch.isfinite(x).all() and x.min() >= 0 and x.max() <= 1


def test_held_out_bits_per_dim_matches_the_recorded_value():
    info = nvp.pretrained_info("mnist5k")
    recorded = info["recipe"]["held_out_bpd"]
    model = nvp.pretrained("mnist5k")
    bpd = nvp.evaluate(model, load_dataset("mnist5k", "test"), seed=info["recipe"]["eval_seed"])
    assert bpd == pytest.approx(recorded, abs=0.01)
    assert bpd < 2.0  # a trained model, not a fresh one (those start near 10 bits/dim)


def test_unknown_name():
    with pytest.raises(ValueError, match="mnist5k"):
        nvp.pretrained("imagenet")
