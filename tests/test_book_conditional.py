"""nvp.book.conditional: chapter 10's helpers (style transfer, style measures, the one-pass
generative classifier of the class-prior design, calibration, confusion matrices)."""

from __future__ import annotations

import math

import matplotlib
import pytest
import torch

import nvp
from nvp.book import conditional as bc
from nvp.testing import randomize_
from nvp.training.evaluate import class_log_likelihoods

matplotlib.use("Agg")


def tiny(conditioning: str = "prior") -> nvp.RealNVP:
    model = nvp.RealNVP(in_channels=1, num_scales=2, mid_channels=4, num_blocks=1,
                        image_size=(4, 4), num_classes=3, conditioning=conditioning)
    model = randomize_(model.double(), generator=torch.Generator().manual_seed(0))
    if model.prior is None:
        return model.eval()
    with torch.no_grad():  # a class prior away from N(0, I)
        model.prior.mean.normal_(0, 0.5, generator=torch.Generator().manual_seed(1))
        model.prior.log_scale.normal_(0, 0.2, generator=torch.Generator().manual_seed(2))
    return model.eval()


def test_one_pass_class_likelihoods_equal_one_pass_per_label():
    model = tiny()
    x = torch.randint(0, 256, (5, 1, 4, 4)).double() / 255
    u = torch.rand(5, 1, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    fast = bc.prior_class_log_likelihoods(model, x, u)
    slow = class_log_likelihoods(model, x, seed=0)  # draws the same u from seed 0
    assert fast.shape == (5, 3)
    torch.testing.assert_close(fast, slow, atol=1e-8, rtol=0)
    assert (fast[:, 0] - fast[:, 1]).abs().max() > 1e-3  # the labels matter


def test_one_pass_refuses_other_designs():
    with pytest.raises(ValueError, match="prior"):
        bc.prior_class_log_likelihoods(tiny("st"), torch.rand(1, 1, 4, 4),
                                       torch.rand(1, 1, 4, 4))


def test_transfer_style_reconstructs_under_the_own_label():
    model = tiny()
    x = torch.randint(0, 256, (4, 1, 4, 4)).double() / 255
    y = torch.tensor([0, 1, 2, 1])
    out = bc.transfer_style(model, x, y, torch.arange(3))
    assert out.shape == (4, 3, 1, 4, 4) and out.min() >= 0 and out.max() <= 1
    own = out[torch.arange(4), y]  # decoded under the label it was encoded with
    torch.testing.assert_close(own, bc.bin_centres(x), atol=1e-8, rtol=0)
    assert (out[:, 0] - out[:, 2]).abs().max() > 1e-3


def test_ink_and_slant():
    img = torch.zeros(2, 9, 9)
    img[0, 2:7, 4] = 1  # upright bar
    for r in range(2, 7):  # bar leaning right: column grows going up
        img[1, r, 8 - r] = 1
    assert torch.allclose(bc.ink(img), torch.tensor([5 / 81, 5 / 81]))
    s = bc.slant(img)
    assert abs(s[0]) < 1e-6 and math.isclose(s[1].item(), -1.0, abs_tol=1e-6)


def test_correlation():
    a = torch.arange(10.0)
    assert math.isclose(bc.correlation(a, 2 * a + 1), 1.0, abs_tol=1e-12)
    assert math.isclose(bc.correlation(a, -a), -1.0, abs_tol=1e-12)


def test_calibration_and_confusion():
    proba = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]],
                         dtype=torch.float64)
    labels = torch.tensor([0, 1, 1, 0])
    c = bc.calibration(proba, labels, bins=10)
    assert c["accuracy"] == 0.75
    assert math.isclose(c["confidence_wrong"], 0.8)
    assert math.isclose(c["confidence_right"], (0.9 + 0.7 + 0.6) / 3)
    # bins: 0.9 (right), 0.8 (wrong), 0.7 (right), 0.6 (right): each alone in its bin
    assert math.isclose(c["ece"], (0.1 + 0.8 + 0.3 + 0.4) / 4)
    m = bc.confusion_matrix(labels, proba.argmax(1), k=2)
    assert m.tolist() == [[2, 0], [1, 1]]
    fig = bc.plot_confusions({"a": m, "b": m})
    assert fig.get_size_inches()[0] <= 6.8


def test_design_curves_figure_fits():
    fig = bc.plot_design_curves({"prior": [1.5, 1.3], "none": [1.6, 1.4]})
    assert fig.get_size_inches()[0] <= 6.8 and len(fig.axes[0].lines) == 2
