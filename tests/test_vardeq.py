"""Variational dequantization: log q against autograd's Jacobian, and the bound against a
brute-force integral of the model's density over an 8-bit image's bin (float64, tiny case)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import nvp
from nvp.flows import Flow
from nvp.loss import nll
from nvp.testing import check_flow, jacobian, randomize_


class GivenImage(Flow):
    """The dequantizer's map ``u₀ ↦ u`` for one fixed image, in the flow interface."""

    def __init__(self, dequantizer: nvp.VariationalDequantizer, x: torch.Tensor) -> None:
        super().__init__()
        self.dequantizer = dequantizer
        self.register_buffer("x", x)

    def forward(self, u, sldj, reverse=False):
        v, ldj = self.dequantizer.flow(u, self.x.expand_as(u), reverse)
        return v, sldj + ldj


def pixels(*levels: int) -> torch.Tensor:
    """A (1, 1, 2, 2) image with 8-bit values k/255."""
    return torch.tensor(levels, dtype=torch.float64).view(1, 1, 2, 2) / 255


def test_the_dequantizer_is_a_flow_with_the_right_log_det():
    x = pixels(0, 37, 128, 255)
    u0 = torch.rand(2, 1, 2, 2, dtype=torch.float64) * 0.98 + 0.01
    errors = check_flow(GivenImage(nvp.VariationalDequantizer(1, 4, 1, 3), x), u0.shape, x=u0)
    assert max(errors.values()) < 1e-8


def test_log_q_is_minus_log_det_of_the_noise_map():
    """log q(u | x) = log q₀(u₀) − log|det ∂u/∂u₀| with q₀ = U(0, 1): what the model subtracts."""
    deq = randomize_(nvp.VariationalDequantizer(1, 4, 1, 4).double()).eval()
    x = pixels(0, 5, 200, 255)
    u0 = torch.rand(1, 1, 2, 2, dtype=torch.float64)
    x_tilde, log_q = deq(x, u0)
    jac = jacobian(lambda u, s, reverse=False: (deq(x, u)[0], s), u0)  # ∂x̃/∂u₀ = ∂u/∂u₀ / 256
    _, logabsdet = torch.linalg.slogdet(jac * 256)
    torch.testing.assert_close(log_q, -logabsdet.view(1), rtol=1e-10, atol=1e-10)
    assert abs(log_q.item()) > 0.1  # randomised: far from uniform, the check is not trivial
    k = (x * 255).round()
    assert torch.all((x_tilde >= k / 256) & (x_tilde <= (k + 1) / 256))  # inside the bins


def test_it_starts_as_uniform_dequantization():
    model = nvp.RealNVP(1, 2, 4, 1, dequantization="variational").double().eval()
    x = torch.rand(3, 1, 4, 4, dtype=torch.float64)
    u0 = torch.rand(3, 1, 4, 4, dtype=torch.float64)
    x_tilde, log_q = model.dequantizer(x, u0)
    torch.testing.assert_close(x_tilde, nvp.dequantize(x, noise=u0), rtol=0, atol=1e-15)
    assert torch.equal(log_q, torch.zeros(3, dtype=torch.float64))


def test_the_model_folds_minus_log_q_into_sldj():
    model = randomize_(nvp.RealNVP(1, 2, 4, 1, data_constraint=0.99,
                                   dequantization="variational").double()).eval()
    x = torch.rand(2, 1, 4, 4, dtype=torch.float64)
    u0 = torch.rand(2, 1, 4, 4, dtype=torch.float64)
    z, sldj = model(x, noise=u0)
    x_tilde, log_q = model.dequantizer(x, u0)
    z2, sldj_flow = model(x_tilde, dequantize=False)
    torch.testing.assert_close(z, z2)
    torch.testing.assert_close(sldj, sldj_flow - log_q)
    with pytest.raises(ValueError, match="noise"):
        model(x, noise=u0 + 1)  # uniform draws only


def log_prob_8bit(model: nvp.RealNVP, x: torch.Tensor, nodes: int) -> float:
    """Brute force: log P(x) = log ∫_bin p(x̃) dx̃, by Gauss–Legendre quadrature in the logit
    coordinates y, where the integrand p_Y(y) = N(f(y)) |det ∂f/∂y| is smooth."""
    beta = model.logit.data_constraint
    k = (x.flatten() * 255).round()

    def logit_of(x_tilde: torch.Tensor) -> torch.Tensor:
        p = ((2 * x_tilde - 1) * beta + 1) / 2
        return p.log() - (1 - p).log()

    lo, hi = logit_of(k / 256), logit_of((k + 1) / 256)  # (D,) ends of each bin in y
    t, w = (torch.from_numpy(a) for a in np.polynomial.legendre.leggauss(nodes))
    grids = torch.meshgrid(*[(hi[d] - lo[d]) / 2 * t + (hi[d] + lo[d]) / 2
                             for d in range(len(k))], indexing="ij")
    weights = torch.meshgrid(*[(hi[d] - lo[d]) / 2 * w for d in range(len(k))], indexing="ij")
    y = torch.stack([g.flatten() for g in grids], dim=1).view(-1, *x.shape[1:])  # (n^D, 1, 2, 2)
    log_w = sum(wd.flatten().log() for wd in weights)  # (n^D,)
    with torch.no_grad():
        z, ldj = model.flow(y, y.new_zeros(len(y)))
    return torch.logsumexp(nvp.gaussian_log_prob(z) + ldj + log_w, dim=0).item()


def bound(model: nvp.RealNVP, x: torch.Tensor, draws: int, seed: int) -> tuple[float, float, float]:
    """(mean of log p(x̃) − log q − D log 256, its standard error, importance-sampling log P)."""
    gen = torch.Generator().manual_seed(seed)
    xs = x.expand(draws, *x.shape[1:])
    with torch.no_grad():
        log_w = -nll(*model(xs, noise=torch.rand(xs.shape, generator=gen, dtype=x.dtype)))
    return (log_w.mean().item(), log_w.std().item() / math.sqrt(draws),
            (torch.logsumexp(log_w, 0) - math.log(draws)).item())


def test_the_bound_against_brute_force_and_learned_noise_tightens_it():
    torch.manual_seed(0)
    # two black pixels, β close to 1: p(x̃) varies a lot inside their bins
    model = randomize_(nvp.RealNVP(1, 1, 4, 1, data_constraint=0.999,
                                   dequantization="variational").double(), std=0.2).eval()
    x = pixels(0, 0, 90, 255)
    exact = log_prob_8bit(model, x, nodes=24)
    assert abs(exact - log_prob_8bit(model, x, nodes=16)) < 1e-6  # the quadrature converged

    uniform = nvp.RealNVP(1, 1, 4, 1, data_constraint=0.999).double().eval()
    uniform.load_state_dict(model.state_dict(), strict=False)  # the same p, uniform noise
    elbo_u, se_u, _ = bound(uniform, x, 10000, seed=1)
    assert elbo_u <= exact + 4 * se_u  # a lower bound ...
    assert exact - elbo_u > 1.0  # ... and a loose one here

    # train q alone on the bound (p fixed): the gap KL(q ‖ p(u | x)) shrinks
    model.dequantizer.train()
    opt = torch.optim.Adam(model.dequantizer.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(2)
    for _ in range(100):
        xs = x.expand(128, 1, 2, 2)
        loss = nll(*model(xs, noise=torch.rand(xs.shape, generator=gen, dtype=x.dtype))).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.dequantizer.eval()
    elbo_q, se_q, is_q = bound(model, x, 10000, seed=3)
    assert elbo_q <= exact + 4 * se_q  # still a lower bound
    assert exact - elbo_q < 0.5 * (exact - elbo_u)  # more than half of the gap closed
    # with q close to p(u | x), importance sampling is precise: E_q[p/q] = P, so q is normalised
    assert abs(is_q - exact) < 0.05
