"""``nvp.book.diagram``: the drawing of a Real NVP agrees with the model it is drawn from."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import nvp  # noqa: E402
from nvp.book.diagram import draw_model, model_boxes  # noqa: E402
from nvp.coupling import CHECKERBOARD  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def drawn(fig: plt.Figure, kind: str) -> int:
    """Number of patches drawn for boxes of ``kind`` (each box patch carries it as its gid)."""
    return sum(p.get_gid() == kind for ax in fig.axes for p in ax.patches)


@pytest.mark.parametrize("c, scales, size", [(1, 2, (28, 28)), (3, 3, (32, 32)),
                                             (2, 1, (4, 4))])
def test_the_drawing_has_the_models_couplings_and_factor_outs(c, scales, size):
    model = nvp.RealNVP(c, scales, mid_channels=4, num_blocks=1)
    couplings = [m for m in model.modules() if isinstance(m, nvp.AffineCoupling)]
    checker = sum(m.mask_type == CHECKERBOARD for m in couplings)
    fig = draw_model(model, (c, *size))
    assert drawn(fig, "checkerboard") == checker
    assert drawn(fig, "channel") == len(couplings) - checker
    assert drawn(fig, "split") == scales - 1  # one factor-out per scale but the last
    assert drawn(fig, "z") == scales  # the factored-out parts and the last scale's output
    assert drawn(fig, "merge") == 1 and drawn(fig, "input") == 1
    # a mask glyph per coupling: 4 cells for a checkerboard, 2 channel halves
    assert drawn(fig, "glyph checkerboard") == 4 * checker
    assert drawn(fig, "glyph channel") == 2 * (len(couplings) - checker)


def test_boxes_follow_the_model_in_order():
    model = nvp.RealNVP(1, 3, mid_channels=4, num_blocks=1)
    boxes = model_boxes(model, (1, 16, 16))
    kinds = [b.kind for b in boxes]
    assert kinds[:2] == ["input", "logit"] and kinds[-1] == "merge"
    # scale by scale, in model order: the masks of the model's own couplings
    for i, scale in enumerate(model.scales):
        layers = list(scale.in_couplings.flows)
        layers += list(scale.out_couplings.flows) if scale.out_couplings is not None else []
        drawn_masks = [b.mask for b in boxes if b.scale == i and b.mask]
        want = [("checkerboard, keep " + ("odd" if m.reverse_mask else "even"))
                if m.mask_type == CHECKERBOARD else
                ("channels, keep " + ("1st" if m.reverse_mask else "2nd") + " half")
                for m in layers]
        assert drawn_masks == want
        # each scale sits in its own column, and the next one starts on the row of the split
        assert {b.col for b in boxes if b.scale == i} == {i}
    splits = [b for b in boxes if b.kind == "split"]
    firsts = [next(b for b in boxes if b.scale == i) for i in (1, 2)]
    assert [s.row for s in splits] == [f.row for f in firsts]
    # shapes: 1×16×16 → factored out 2×8×8, then 4×4×4; the last scale keeps 4×4×4
    assert [b.label.split(": ")[1] for b in boxes if b.kind == "z"] == ["2×8×8", "4×4×4",
                                                                         "4×4×4"]


def test_needs_a_realnvp():
    with pytest.raises(TypeError):
        draw_model(nvp.AffineCoupling(1, 4, 1, "checkerboard"), (1, 4, 4))
