"""Every invertible piece, one generic test through ``nvp.testing.check_flow``: round trip,
log-det == slogdet of the autograd Jacobian, forward and reverse log-dets cancel.

float64, tiny inputs, randomised weights (``check_flow`` randomises a copy of each piece).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

import nvp
from nvp.flows import Flow
from nvp.testing import check_flow, jacobian, randomize_


class ModelAsFlow(Flow):
    """The whole ``RealNVP`` (logit included, no dequantization) in the flow interface."""

    def __init__(self, model: nvp.RealNVP) -> None:
        super().__init__()
        self.model = model

    def forward(self, x, sldj, reverse=False):
        y, ldj = self.model(x, reverse=reverse, dequantize=False)
        return y, sldj + ldj


def unit(shape):  # images strictly inside (0, 1)
    return torch.rand(shape, dtype=torch.float64) * 0.98 + 0.01


def gauss(shape):
    return torch.randn(shape, dtype=torch.float64)


def model(c, scales, mid=4, blocks=1):
    return ModelAsFlow(nvp.RealNVP(in_channels=c, num_scales=scales, mid_channels=mid,
                                   num_blocks=blocks))


# name -> (builder, input shape (C, H, W), input sampler)
CASES: dict[str, tuple[Callable[[], Flow], tuple[int, int, int], Callable]] = {
    "logit": (lambda: nvp.Logit(0.9), (2, 3, 3), unit),
    "squeeze": (lambda: nvp.Squeeze(), (2, 4, 6), gauss),
    "squeeze_alt": (lambda: nvp.Squeeze(alt_order=True), (3, 4, 2), gauss),
    "checkerboard": (lambda: nvp.AffineCoupling(2, 4, 1, "checkerboard"), (2, 3, 4), gauss),
    "checkerboard_rev": (lambda: nvp.AffineCoupling(1, 4, 2, "checkerboard", True), (1, 5, 4),
                         gauss),
    "channel": (lambda: nvp.AffineCoupling(4, 4, 1, "channel"), (4, 2, 3), gauss),
    "channel_rev": (lambda: nvp.AffineCoupling(6, 4, 1, "channel", True), (6, 2, 2), gauss),
    "scale": (lambda: nvp.Scale(1, 4, 1, last=False), (1, 4, 4), gauss),
    "scale_last": (lambda: nvp.Scale(2, 4, 1, last=True), (2, 3, 3), gauss),
    "sequence": (lambda: nvp.FlowSequence(nvp.Squeeze(), nvp.AffineCoupling(4, 4, 1, "channel"),
                                          nvp.Squeeze(alt_order=True)), (1, 4, 4), gauss),
    "model_c1_s2": (lambda: model(1, 2), (1, 4, 4), unit),
    "model_c3_s2": (lambda: model(3, 2), (3, 2, 4), unit),
    "model_c1_s3_nonsquare": (lambda: model(1, 3), (1, 4, 8), unit),
    "model_c3_s3": (lambda: model(3, 3, blocks=2), (3, 4, 4), unit),
}


def build(name: str) -> tuple[Flow, torch.Tensor]:
    make, shape, sampler = CASES[name]
    return make(), sampler((2, *shape))


@pytest.mark.parametrize("name", CASES)
def test_flow(name):
    flow, x = build(name)
    errors = check_flow(flow, x.shape, x=x, atol=1e-8)
    assert set(errors) == {"round_trip", "log_det", "cancel"}


@pytest.mark.parametrize("name", ["checkerboard", "channel", "model_c1_s2"])
def test_log_det_in_train_mode_over_the_batch(name):
    """With batch statistics, an example's output depends on the whole batch; the batch's joint
    Jacobian is still triangular, and its log-det is the sum of the per-example sldj."""
    flow, x = build(name)
    check_flow(flow, x.shape, x=x, atol=1e-8, train=True)


def test_check_flow_catches_a_wrong_log_det_and_a_wrong_inverse():
    class OffByOne(nvp.Logit):
        def forward(self, x, sldj, reverse=False):
            y, s = super().forward(x, sldj, reverse)
            return y, s + (0.0 if reverse else 1.0)

    class BadInverse(nvp.Logit):
        def forward(self, x, sldj, reverse=False):
            y, s = super().forward(x, sldj, reverse)
            return (y * 1.001 if reverse else y), s

    x = torch.rand(2, 1, 2, 2, dtype=torch.float64) * 0.9 + 0.05
    with pytest.raises(AssertionError, match="log-determinant is wrong"):
        check_flow(OffByOne(0.9), x.shape, x=x)
    with pytest.raises(AssertionError, match="inverse does not undo forward"):
        check_flow(BadInverse(0.9), x.shape, x=x)
    class InPlace(nvp.Logit):  # the numbers come out right; the caller's tensor is changed
        def forward(self, x, sldj, reverse=False):
            y, s = super().forward(x, sldj.new_zeros(sldj.shape), reverse)
            sldj += s  # reverse passes s < 0: the tensor comes back to its start
            return y, sldj

    with pytest.raises(AssertionError, match="in place"):
        check_flow(InPlace(0.9), x.shape, x=x)
    with pytest.raises(AssertionError, match="identity"):
        check_flow(nvp.AffineCoupling(1, 4, 1, "checkerboard"), (2, 1, 2, 2), randomize=False)


def test_jacobian_of_a_coupling_is_triangular_after_ordering():
    layer = randomize_(nvp.AffineCoupling(1, 4, 1, "checkerboard").double()).eval()
    x = torch.randn(1, 1, 2, 2, dtype=torch.float64)
    jac = jacobian(layer, x)  # (4, 4)
    kept = nvp.checkerboard_mask(2, 2).flatten().bool()
    order = torch.cat((kept.nonzero(), (~kept).nonzero())).flatten()
    assert torch.equal(jac[order][:, order].triu(1), torch.zeros(4, 4, dtype=torch.float64))


def test_logit_log_det_is_log_derivative():
    """The softplus form equals log ∂y/∂x = log β − log p − log(1 − p), elementwise."""
    beta = 0.9
    x = torch.linspace(0, 1, 101, dtype=torch.float64).view(1, 1, 1, -1)
    y, ldj = nvp.Logit(beta)(x, x.new_zeros(1))
    p = ((2 * x - 1) * beta + 1) / 2
    expected = (math.log(beta) - p.log() - (1 - p).log()).sum()
    torch.testing.assert_close(ldj[0], expected.to(ldj), rtol=1e-12, atol=1e-10)
    assert y.min() == pytest.approx(torch.logit(torch.tensor(0.05, dtype=torch.float64)).item())


def test_squeeze_matches_paper_figure_3():
    x = torch.arange(1, 17).view(1, 1, 4, 4)
    y = nvp.squeeze(x)  # (1, 4, 2, 2): four subsampled copies
    assert y.shape == (1, 4, 2, 2)
    assert y[0, 0].tolist() == [[1, 3], [9, 11]]
    assert y[0, 1].tolist() == [[2, 4], [10, 12]]
    assert y[0, 2].tolist() == [[5, 7], [13, 15]]
    assert y[0, 3].tolist() == [[6, 8], [14, 16]]


def test_squeeze_alt_factors_out_a_checkerboard():
    x = torch.arange(2 * 4 * 6).view(1, 2, 4, 6).double()
    kept, out = nvp.squeeze_alt(x).chunk(2, dim=1)
    b = nvp.checkerboard_mask(4, 6, dtype=torch.float64)  # 1 where i + j even
    assert sorted(kept.flatten().tolist()) == sorted(x[(b.expand_as(x)) == 1].tolist())
    assert sorted(out.flatten().tolist()) == sorted(x[(b.expand_as(x)) == 0].tolist())


def test_checkerboard_mask():
    m = nvp.checkerboard_mask(3, 4)
    assert m.shape == (1, 1, 3, 4)
    assert m[0, 0].tolist() == [[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0]]
    torch.testing.assert_close(nvp.checkerboard_mask(3, 4, reverse=True), 1 - m)


def test_coupling_starts_as_identity_and_still_learns():
    layer = nvp.AffineCoupling(2, 8, 1, "checkerboard")
    x = torch.randn(4, 2, 6, 6)
    y, ldj = layer(x, x.new_zeros(4))
    torch.testing.assert_close(y, x)
    assert torch.all(ldj == 0)
    (y.pow(2).sum() - ldj.sum()).backward()
    g = layer.st_net.out_conv.weight.grad
    assert g is not None and g.abs().sum() > 0
