"""Model-level behaviour: the public contract, gradients, sampling, bad input."""

from __future__ import annotations

import re

import pytest
import torch

import nvp
from nvp.testing import randomize_


def tiny(**kw) -> nvp.RealNVP:
    args = dict(in_channels=1, num_scales=2, mid_channels=4, num_blocks=1, image_size=(4, 4))
    return nvp.RealNVP(**{**args, **kw})


def test_contract_shapes_and_reverse():
    model = randomize_(tiny(in_channels=3, image_size=(8, 4))).eval()
    x = torch.rand(5, 3, 8, 4)
    z, sldj = model(x)
    assert z.shape == x.shape and sldj.shape == (5,)
    z2, sldj2 = model(x, dequantize=False)
    x_back, _ = model(z2, reverse=True)
    torch.testing.assert_close(x_back, x, atol=1e-5, rtol=0)
    assert not torch.equal(z, z2)  # dequantization noise changes z


def test_log_likelihood_is_a_density():
    """log p(x̃) = log N(z) + sldj: sampling x̃ from the model and averaging 1/p is impossible
    here, but its bits/dim are finite and differ between examples."""
    model = randomize_(tiny()).eval()
    bpd = nvp.bits_per_dim(*model(torch.rand(6, 1, 4, 4)))
    assert bpd.shape == (6,) and torch.isfinite(bpd).all() and bpd.std() > 0


def test_every_parameter_gets_a_gradient():
    model = randomize_(tiny(num_scales=3, image_size=(8, 8)))
    z, sldj = model(torch.rand(4, 1, 8, 8))
    loss = nvp.nll(z, sldj).mean() + nvp.l2_penalty(model)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert not missing


def test_l2_penalty_only_on_weight_norm_scales():
    model = tiny()
    gs = [p for n, p in model.named_parameters() if n.endswith("original0")]
    expected = 5e-5 * sum((g ** 2).sum() for g in gs)
    torch.testing.assert_close(nvp.l2_penalty(model), expected)
    assert len(gs) == sum(1 for n, _ in model.named_parameters() if "original0" in n) > 0


def test_bits_per_dim_includes_the_8_bits_of_dequantization():
    z = torch.zeros(1, 1, 2, 2)
    sldj = torch.zeros(1)
    # log N(0; 0, 1) = -½ log 2π per dim, so bpd = ½ log₂(2π) + 8
    expected = 0.5 * torch.log2(torch.tensor(2 * torch.pi)) + 8
    torch.testing.assert_close(nvp.bits_per_dim(z, sldj)[0], expected)


def test_sample_in_unit_interval_and_mode_restored():
    model = randomize_(tiny()).train()
    gen = torch.Generator().manual_seed(1)
    x = model.sample(7, temperature=0.7, generator=gen)
    assert x.shape == (7, 1, 4, 4) and x.min() >= 0 and x.max() <= 1
    assert model.training
    x2 = model.sample(7, temperature=0.7, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(x, x2)


def test_sample_undoes_the_data_constraint():
    """z that the model maps from an all-black/all-white image must sample back to 0 and 1."""
    model = randomize_(tiny()).eval()
    x = torch.tensor([0.0, 1.0]).view(2, 1, 1, 1).expand(2, 1, 4, 4).contiguous()
    z, _ = model(x, dequantize=False)
    x_back, _ = model(z, reverse=True)
    torch.testing.assert_close(x_back, x, atol=1e-5, rtol=0)


def bn_stats(model):
    return [b.clone() for n, b in model.named_buffers() if "running" in n]


BAD_INPUTS = [
    ([[0.5]], TypeError, "torch.Tensor"),
    (torch.zeros(2, 1, 4, 4, dtype=torch.uint8), TypeError, "divide uint8 images by 255"),
    (torch.zeros(2, 1, 4, 4, dtype=torch.int64), TypeError, "floating-point"),
    (torch.rand(1, 4, 4), ValueError, "unsqueeze"),
    (torch.rand(2, 3, 4, 4), ValueError, "channels"),
    (torch.rand(2, 1, 5, 4), ValueError, "multiples of 2"),
    (torch.rand(2, 1, 4, 4) * 255, ValueError, "divide 8-bit images by 255"),
    (torch.rand(2, 1, 4, 4) - 0.5, ValueError, "[0, 1]"),
    (torch.full((2, 1, 4, 4), float("nan")), ValueError, "NaN"),
    (torch.rand(0, 1, 4, 4), ValueError, "empty"),
]


@pytest.mark.parametrize("x, error, message", BAD_INPUTS)
def test_bad_input_rejected_before_any_state_changes(x, error, message):
    model = randomize_(tiny()).train()
    before = bn_stats(model)
    with pytest.raises(error, match=re.escape(message)):
        model(x)
    for a, b in zip(before, bn_stats(model), strict=True):
        assert torch.equal(a, b)


def test_bad_latents_rejected():
    model = tiny()
    with pytest.raises(ValueError, match="NaN"):
        model(torch.full((1, 1, 4, 4), float("inf")), reverse=True)
    with pytest.raises(ValueError, match="channels"):
        model(torch.randn(1, 2, 4, 4), reverse=True)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=0), "n must be"), (dict(n=2.5), "n must be"),
    (dict(n=2, temperature=0), "temperature"), (dict(n=2, temperature=float("nan")), "temperature"),
    (dict(n=2, image_size=(5, 4)), "multiples"),
])
def test_bad_sample_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tiny().sample(**kwargs)


def test_sample_needs_a_size():
    with pytest.raises(ValueError, match="image_size"):
        tiny(image_size=None).sample(2)


@pytest.mark.parametrize("kwargs", [
    dict(num_scales=0), dict(in_channels=1.5), dict(mid_channels=-1), dict(num_blocks=True),
    dict(image_size=(5, 5)), dict(data_constraint=1.0),
])
def test_bad_constructor_arguments(kwargs):
    with pytest.raises(ValueError):
        tiny(**kwargs)
