"""nvp.testing.check_flow (it must pass on good flows and FAIL on wrong ones), nvp.book.explore,
nvp.book.curves and nvp.image_bits_per_dim (which chapter 8 uses), on tiny untrained models."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pytest
import torch

import nvp
from nvp.book import curves, explore
from nvp.book.trace import latent_scales
from nvp.testing import check_flow, randomize_


class Scale2(nvp.Flow):
    """``y = 2x``, log|det| = D·log 2; ``sign`` and ``inverse`` let a test break it."""

    def __init__(self, sign: float = 1.0, inverse: float = 0.5, cancel: bool = True,
                 inplace: bool = False) -> None:
        super().__init__()
        self.sign, self.inverse, self.cancel, self.inplace = sign, inverse, cancel, inplace

    def forward(self, x, sldj, reverse=False):
        ldj = math.log(2.0) * x[0].numel()
        if reverse:
            return x * self.inverse, sldj - (ldj if self.cancel else 0.0)
        if self.inplace:
            sldj += self.sign * ldj
            return 2.0 * x, sldj
        return 2.0 * x, sldj + self.sign * ldj


def test_check_flow_passes_on_correct_flows():
    errors = check_flow(Scale2(), (2, 1, 2, 2), randomize=False)
    assert set(errors) == {"round_trip", "log_det", "cancel"}
    coupling = nvp.AffineCoupling(2, 4, 1, "checkerboard")
    check_flow(coupling, (2, 2, 4, 4))
    check_flow(nvp.AffineCoupling(4, 4, 1, "channel", reverse_mask=True), (2, 4, 2, 2))
    check_flow(nvp.Squeeze(alt_order=True), (2, 1, 4, 4))
    check_flow(nvp.Scale(1, 4, 1, last=False), (1, 1, 4, 4))
    check_flow(nvp.Logit(0.9), (2, 1, 3, 3), x=torch.rand(2, 1, 3, 3) * 0.9 + 0.05)


def test_check_flow_does_not_change_the_flow():
    coupling = nvp.AffineCoupling(1, 4, 1, "checkerboard")
    before = {k: v.clone() for k, v in coupling.state_dict().items()}
    check_flow(coupling, (2, 1, 4, 4))
    after = coupling.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert next(coupling.parameters()).dtype == torch.float32


@pytest.mark.parametrize("flow, message", [
    (Scale2(sign=-1.0), "log-determinant is wrong"),
    (Scale2(inverse=0.51), "inverse does not undo forward"),
    (Scale2(cancel=False), "does not subtract"),
    (Scale2(inplace=True), "in place"),
])
def test_check_flow_fails_on_wrong_flows(flow, message):
    with pytest.raises(AssertionError, match=message):
        check_flow(flow, (2, 1, 2, 2), randomize=False)


def test_check_flow_catches_a_wrong_coupling_log_det():
    class Buggy(nvp.AffineCoupling):
        def forward(self, x, sldj, reverse=False):
            y, new = super().forward(x, sldj, reverse)
            return y, sldj + 0.5 * (new - sldj)  # half the log-determinant

    check_flow(nvp.AffineCoupling(1, 4, 1, "checkerboard"), (2, 1, 4, 4))
    with pytest.raises(AssertionError, match="log-determinant is wrong"):
        check_flow(Buggy(1, 4, 1, "checkerboard"), (2, 1, 4, 4))


def test_check_flow_refuses_the_identity():
    with pytest.raises(AssertionError, match="identity"):
        check_flow(nvp.AffineCoupling(1, 4, 1, "checkerboard"), (2, 1, 4, 4), randomize=False)


@pytest.fixture
def model():
    m = nvp.RealNVP(in_channels=1, num_scales=2, mid_channels=4, num_blocks=1)
    return randomize_(m, std=0.05).eval()


def test_encode_decode_round_trip(model):
    x = torch.randint(0, 256, (3, 1, 8, 8)) / 255.0
    z = explore.encode(model, x, batch_size=2)
    assert z.shape == x.shape
    x_back = explore.decode(model, z, batch_size=2)
    assert (x_back - x).abs().max() < 1e-4
    model.train()  # encode runs in eval mode whatever the caller's mode, and puts it back
    assert torch.equal(explore.encode(model, x, batch_size=2), z) and model.training


def test_interpolate_ends_and_arc(model):
    z0, z1 = torch.randn(2, 1, 8, 8)
    path = explore.interpolate_latents(z0, z1, steps=5)
    assert path.shape == (5, 1, 8, 8)
    torch.testing.assert_close(path[0], z0)
    torch.testing.assert_close(path[-1], z1)
    mid = explore.interpolate_latents(z0, z1, 3, "linear")[1]
    torch.testing.assert_close(mid, (z0 + z1) / 2)
    x = torch.randint(0, 256, (2, 1, 8, 8)) / 255.0
    imgs = explore.interpolate(model, x[0], x[1], steps=4)
    assert imgs.shape == (4, 1, 8, 8)
    # the ends are the dequantized images: inside the images' 8-bit bins (but for a pixel
    # within float rounding of a bin's edge)
    for end, xi in ((imgs[0], x[0]), (imgs[-1], x[1])):
        assert (explore.quantize(end) != xi).sum() <= 1
        assert (end - xi).abs().max() < 1 / 256 + 1e-4
    with pytest.raises(ValueError):
        explore.interpolate_latents(z0, z1, method="spline")


def test_resample_latents_keeps_the_other_scales(model):
    levels = latent_scales(model, (1, 8, 8))
    assert levels.shape == (1, 8, 8) and set(levels.unique().tolist()) == {0, 1}
    assert (levels == 0).sum() == 32  # half of the entries are factored out after scale 0
    z = torch.randn(2, 1, 8, 8)
    gen = torch.Generator().manual_seed(0)
    z_new = explore.resample_latents(z, levels, scales=[0], n=3, generator=gen)
    assert z_new.shape == (2, 3, 1, 8, 8)
    kept = levels == 1  # the coarse scale's latents stay those of z
    z_rep = z.unsqueeze(1).expand_as(z_new)  # (2, 3, 1, 8, 8)
    assert torch.equal(z_new[:, :, kept], z_rep[:, :, kept])
    assert (z_new[:, :, ~kept] != z_rep[:, :, ~kept]).all()
    assert not torch.equal(z_new[:, 0], z_new[:, 1])  # every copy gets its own draw
    assert torch.equal(explore.resample_latents(z, levels, [], n=1)[:, 0], z)


def test_resample_scales_images(model):
    x = torch.randint(0, 256, (2, 1, 8, 8)) / 255.0
    out = explore.resample_scales(model, x, scales=[0, 1], n=2)
    assert out.shape == (2, 2, 1, 8, 8) and (out >= 0).all() and (out <= 1).all()
    same = explore.resample_scales(model, x, scales=[], n=1)
    assert (explore.quantize(same[:, 0]) != x).sum() <= 1  # nothing redrawn: x̃ again
    with pytest.raises(ValueError):
        explore.resample_scales(model, x, scales=[2])


def test_nearest_neighbours_matches_brute_force():
    data, queries = torch.rand(50, 1, 4, 4), torch.rand(7, 1, 4, 4)
    queries[0] = data[13]
    d, i = explore.nearest_neighbours(queries, data, k=3, chunk=8)  # several chunks
    full = torch.cdist(queries.flatten(1).double(), data.flatten(1).double())  # (7, 50)
    d_ref, i_ref = full.topk(3, dim=1, largest=False)
    assert torch.equal(i, i_ref)
    torch.testing.assert_close(d, d_ref.float(), atol=1e-5, rtol=0)
    assert i[0, 0] == 13 and d[0, 0] < 1e-6


def test_image_bits_per_dim_matches_evaluate(model):
    x = torch.randint(0, 256, (6, 1, 8, 8)) / 255.0
    model.train()
    per_image = nvp.image_bits_per_dim(model, x, draws=2, seed=3, batch_size=4)
    assert per_image.shape == (6,) and per_image.dtype == torch.float64
    assert model.training  # eval mode inside, the caller's mode after
    # nvp.evaluate with the same noise (same seed, same batches) gives the mean
    mean = nvp.evaluate(model, x, batch_size=4, draws=2, seed=3)
    assert abs(per_image.mean().item() - mean) < 1e-4
    assert torch.isfinite(per_image).all() and (per_image > 0).all()


def test_curves_record_and_draw():
    assert curves.smooth([]).size == 0
    s = curves.smooth([1.0, 3.0, 5.0], window=2)
    assert s.tolist() == [1.0, 2.0, 4.0]
    live = curves.LiveCurves(min_interval=0.0)
    for step in range(1, 11):
        live.on_step(step, 10.0 / step)
    live.on_epoch(1, {"train_bpd": [3.0], "heldout_bpd": [2.5]})
    live.close()  # outside IPython: records, draws nothing
    assert len(live.step_bpd) == 10 and live.heldout_bpd == [2.5]
    fig = live.draw()
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 4
    fig = curves.plot_curves({"step_bpd": [5.0, 4.0, 3.0], "train_bpd": [4.0],
                              "heldout_bpd": [3.5]}, title="run")
    assert fig.axes[0].get_title() == "run" and len(fig.axes[0].lines) == 4
    old = curves.plot_curves({"step_bpd": [5.0, 4.0], "train_bpd": [4.0], "test_bpd": [3.5]})
    assert len(old.axes[0].lines) == 4  # checkpoints from before the rename still draw
    plt.close("all")



def test_dequantize_stays_in_the_bins_and_quantize_undoes_it(model):
    x = torch.randint(0, 256, (3, 1, 8, 8)) / 255.0
    x_tilde = explore.sample_x_tilde(model, x, generator=torch.Generator().manual_seed(0))
    k = (x * 255).round()
    assert torch.all((x_tilde >= k / 256) & (x_tilde < (k + 1) / 256))
    assert torch.equal(explore.quantize(x_tilde), x)
    assert not torch.equal(x_tilde, explore.sample_x_tilde(model, x))  # noise, drawn afresh
