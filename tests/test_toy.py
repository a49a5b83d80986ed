"""The 2-D toy flow of chapter 1: invertible, exact log-det, data sampler, and it learns."""

from __future__ import annotations

import math

import pytest
import torch

from nvp.book.toy import ToyFlow, hand_coupling, train_toy, two_moons
from nvp.testing import jacobian, randomize_


def random_flow() -> ToyFlow:
    """A float64 toy flow in eval mode with every weight and batch-norm statistic randomised."""
    flow = randomize_(ToyFlow(num_couplings=4, mid_channels=8, num_blocks=1)).double()
    return flow.eval()


def test_round_trip_and_inverse_log_det():
    flow = random_flow()
    x = torch.randn(16, 2, dtype=torch.float64)
    z, ldj = flow(x)
    x_back, ldj_back = flow(z, reverse=True)
    assert not torch.allclose(z, x, atol=1e-3)  # not the identity
    assert torch.allclose(x_back, x, atol=1e-10)
    assert torch.allclose(ldj + ldj_back, torch.zeros_like(ldj), atol=1e-10)


def test_log_det_matches_autograd_jacobian():
    flow = random_flow()
    x = torch.randn(6, 2, dtype=torch.float64)
    _, ldj = flow(x)
    assert ldj.abs().max() > 1e-2  # a check that cannot pass at the identity
    for i in range(len(x)):
        jac = jacobian(flow.couplings, x[i].view(1, 2, 1, 1))  # (2, 2): the points as images
        sign, logabsdet = torch.linalg.slogdet(jac)
        assert sign.item() == 1.0  # affine couplings with exp(s) > 0 preserve orientation
        assert torch.allclose(logabsdet, ldj[i], atol=1e-10)


def test_trajectory_ends_where_forward_ends():
    flow = random_flow()
    x = torch.randn(8, 2, dtype=torch.float64)
    states = flow.trajectory(x)
    assert len(states) == 5
    assert torch.allclose(states[-1], flow(x)[0])
    back = flow.trajectory(states[-1], reverse=True)
    assert torch.allclose(back[-1], x, atol=1e-10)
    flow.train()  # trajectory runs in eval mode and gives the caller's mode back
    assert torch.equal(flow.trajectory(x)[-1], states[-1]) and flow.training


def test_hand_coupling_is_the_formula():
    a, b = 0.7, -0.4
    layer = hand_coupling(a, b).double()
    x = torch.randn(32, 2, dtype=torch.float64)
    y, ldj = layer(x.view(-1, 2, 1, 1), x.new_zeros(32))
    s = a * torch.tanh(x[:, 1])
    expected = torch.stack((x[:, 0] * torch.exp(s) + b * torch.sin(1.5 * x[:, 1]), x[:, 1]), 1)
    assert torch.allclose(y.view(-1, 2), expected)
    assert torch.allclose(ldj, s)


def test_two_moons_shape_and_determinism():
    a = two_moons(101, noise=0.1, generator=torch.Generator().manual_seed(3))
    b = two_moons(101, noise=0.1, generator=torch.Generator().manual_seed(3))
    c = two_moons(101, noise=0.1, generator=torch.Generator().manual_seed(4))
    assert a.shape == (101, 2) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    clean = two_moons(2000, noise=0.0, generator=torch.Generator().manual_seed(0))
    upper = torch.hypot(clean[:, 0] + 0.5, clean[:, 1] + 0.25)  # radius about the upper centre
    lower = torch.hypot(clean[:, 0] - 0.5, clean[:, 1] - 0.25)  # radius about the lower centre
    on_circle = ((upper - 1).abs() < 1e-5) | ((lower - 1).abs() < 1e-5)
    assert on_circle.all()
    assert clean.mean(0).abs().max() < 0.05  # centred
    with pytest.raises(ValueError):
        two_moons(0)


def test_training_lowers_the_loss():
    gen = torch.Generator().manual_seed(0)
    data = two_moons(512, generator=gen)
    flow = ToyFlow(num_couplings=4, mid_channels=16, num_blocks=1)
    before = -flow.eval().log_prob(data).mean().item()
    history = train_toy(flow, data, steps=60, batch_size=128, lr=3e-3, generator=gen)
    after = -flow.log_prob(data).mean().item()
    assert len(history) == 60 and all(math.isfinite(h) for h in history)
    assert after < before - 0.3
    assert not flow.training
