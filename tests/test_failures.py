"""nvp.book.failures: the helpers that reproduce chapter 7's training failures."""

from __future__ import annotations

import math

import matplotlib
import pytest
import torch

import nvp
from nvp.book import failures
from nvp.coupling import AffineCoupling
from nvp.testing import randomize_

matplotlib.use("Agg")


def tiny_config(**changes) -> nvp.Config:
    """A model small enough for a unit test: 8×8 images, 4 channels, one block."""
    base = dict(image_size=(8, 8), mid_channels=4, num_blocks=1, batch_size=4,
                data_constraint=0.99998, dequantization="uniform", lr_schedule="constant",
                ema=0.0, precision="fp32", validation=0)
    return nvp.Config(**{**base, **changes})


def images(n: int, seed: int = 0) -> torch.Tensor:
    """``n`` random 8-bit images, (n, 1, 8, 8), values k/255."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 1, 8, 8), generator=gen).float() / 255


def test_watch_scales_bounded_only_watches():
    torch.manual_seed(0)
    layer = randomize_(AffineCoupling(1, 4, 1, "checkerboard")).eval()
    x = torch.randn(2, 1, 8, 8)
    y0, ldj0 = layer(x, torch.zeros(2))
    with failures.watch_scales() as seen:
        y1, ldj1 = layer(x, torch.zeros(2))
    assert torch.equal(y0, y1) and torch.equal(ldj0, ldj1)
    bound = layer.scale.abs().max().item()
    assert 0 < seen.largest <= bound  # |s| = |scale·tanh(·)| never exceeds the scale
    assert seen.highest <= seen.largest and len(seen.per_call) == 1


def test_unbounded_coupling_uses_raw_s_and_the_watch_sees_it():
    torch.manual_seed(0)
    layer = randomize_(AffineCoupling(4, 4, 1, "channel", bounded=False), std=1.0).eval()
    x = torch.randn(2, 4, 4, 4)
    s, t = layer.s_t(x[:, 2:])
    raw, t_raw = layer.st_net(x[:, 2:]).chunk(2, dim=1)
    assert torch.equal(s, raw) and torch.equal(t, t_raw)  # no tanh, no scale
    with failures.watch_scales() as seen:
        _, ldj = layer(x, torch.zeros(2))
    assert torch.allclose(ldj, raw.sum((1, 2, 3)))
    assert seen.largest == pytest.approx(raw.abs().max().item())
    assert seen.largest > layer.scale.abs().max().item()  # raw s goes past the tanh bound
    layer(x, torch.zeros(2))  # after the block: no longer watched
    assert len(seen.per_call) == 1
    with pytest.raises(RuntimeError), failures.watch_scales() as after_error:
        raise RuntimeError("inside the block")
    layer(x, torch.zeros(2))
    assert after_error.per_call == []  # the hooks are gone after an error too
    bounded = nvp.RealNVP(1, 2, 4, 1, bounded_scale=False)
    assert all(not m.bounded for m in bounded.modules() if isinstance(m, AffineCoupling))


def test_watch_scales_ignores_the_kept_half_of_a_checkerboard():
    torch.manual_seed(0)
    layer = randomize_(AffineCoupling(1, 4, 1, "checkerboard", bounded=False), std=1.0).eval()
    x = torch.randn(1, 1, 4, 4)
    with failures.watch_scales() as seen:
        layer(x, torch.zeros(1))
    s, _ = layer.s_t(x * layer.mask(x))
    used = s * (1 - layer.mask(x))
    assert seen.largest == pytest.approx(used.abs().max().item())


def test_short_run_is_deterministic_in_bits_per_dim():
    cfg = tiny_config(lr=1e-2)
    data = images(16)
    a = failures.short_run(cfg, data, 3)
    b = failures.short_run(cfg, data, 3)
    assert a.bpd == b.bpd and a.failed_at is None and len(a.bpd) == 3
    assert all(math.isfinite(v) for v in a.bpd)
    first = nvp.bits_per_dim(*cfg.build_model()(data[:4], noise=torch.zeros(4, 1, 8, 8)))
    assert a.bpd[0] == pytest.approx(first.mean().item(), rel=0.2)  # bits/dim, with the + 8


def test_short_run_stops_at_the_first_non_finite_loss():
    data = images(8)
    data[4:] = float("nan")  # the second batch poisons the loss
    run = failures.short_run(tiny_config(), data, 5)
    assert run.failed_at == 2 and len(run.bpd) == 1
    assert all(torch.isfinite(p).all() for p in run.model.parameters())  # never updated by NaN


def test_short_run_without_dequantization_uses_the_bin_edges():
    cfg, data = tiny_config(lr=1e-2), images(8)
    exact = failures.short_run(cfg, data, 1, dequantize=False)
    torch.manual_seed(0)
    model = cfg.build_model().train()
    z, sldj = model(data[:4], noise=torch.zeros(4, 1, 8, 8))
    assert exact.bpd[0] == pytest.approx(nvp.bits_per_dim(z, sldj).mean().item(), rel=1e-5)


def test_typical_is_two_sided():
    reference = torch.tensor([1.0, 1.2, 1.1, 0.9, 1.0, 1.1])
    flags = failures.typical(torch.tensor([1.05, 5.0, -3.0]), reference, k=3.0)
    assert flags.tolist() == [True, False, False]


def test_plot_runs_draws_one_line_per_run_and_marks_failures():
    fig = failures.plot_runs({"a": [3.0, 2.0, 1.5], "b": [3.0, 9.0]}, failed={"b": 3},
                             title="t")
    ax = fig.axes[0]
    assert len(ax.lines) == 3  # two runs and the failure's marker
    assert any("step 3" in t.get_text() for t in ax.texts)
    assert ax.get_yscale() == "log"
    linear = failures.plot_runs({"a": [3.0, -1.0]}, logy=False)
    assert linear.axes[0].get_yscale() == "linear"
