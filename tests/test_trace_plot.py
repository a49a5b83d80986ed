"""Fast tests for ``nvp.book.trace`` (shape traces, counts, latent scales), ``nvp.book.table`` and
the figures of ``nvp.book.plot`` and ``nvp.book.plot2d``."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import nvp  # noqa: E402
from nvp.book import plot, plot1d, plot2d  # noqa: E402
from nvp.book.table import Table  # noqa: E402
from nvp.book.trace import (  # noqa: E402
    count_macs,
    describe_mask,
    latent_scales,
    num_params,
    trace,
    trace_table,
)
from nvp.testing import randomize_  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("c, scales, size", [(1, 3, (28, 28)), (3, 2, (4, 8)), (2, 1, (3, 5))])
def test_trace_shapes_and_params(c, scales, size):
    model = nvp.RealNVP(in_channels=c, num_scales=scales, mid_channels=4, num_blocks=1)
    shape = (c, *size)
    rows = trace(model, shape)
    assert rows[0].op == "logit" and rows[0].in_shape == shape
    assert rows[-1].out_shape == shape  # z has the shape of x
    for a, b in zip(rows, rows[1:], strict=False):  # consecutive steps fit together
        assert a.out_shape == b.in_shape
    assert sum(r.params for r in rows) == num_params(model)  # every parameter is in one row
    couplings = [r for r in rows if r.op == "coupling"]
    assert len(couplings) == 6 * (scales - 1) + 4
    for r in couplings:
        assert r.in_shape == r.out_shape and r.params > 0 and r.macs > 0 and r.mask
    # scale i works on C·2^i channels at H/2^i × W/2^i (checkerboard couplings)
    for r in couplings:
        if r.mask.startswith("checkerboard"):
            i = r.scale
            assert r.in_shape == (c * 2**i, size[0] // 2**i, size[1] // 2**i)
    assert sum(r.op == "split" for r in rows) == scales - 1
    assert sum(r.macs for r in rows) == count_macs(model, torch.rand(2, *shape),
                                                   dequantize=False)


def test_trace_keeps_model_state():
    model = nvp.RealNVP(in_channels=1, num_scales=2, mid_channels=4, num_blocks=1).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    trace(model, (1, 4, 4))
    latent_scales(model, (1, 4, 4))
    assert torch.equal(torch.get_rng_state(), rng)  # the caller's random numbers are untouched
    assert model.training
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_trace_rejects_bad_input():
    with pytest.raises(TypeError):
        trace(nvp.Scale(1, 4, 1, last=True), (1, 4, 4))
    with pytest.raises(ValueError):
        trace(nvp.RealNVP(1, 1, 4, 1), (4, 4))


def test_count_macs_of_one_conv():
    conv = torch.nn.Conv2d(3, 5, 3, padding=1)
    assert count_macs(conv, torch.zeros(2, 3, 6, 7)) == 5 * 6 * 7 * 3 * 9


def test_describe_mask():
    assert describe_mask(nvp.AffineCoupling(1, 4, 1, "checkerboard")) == \
        "checkerboard, keep even"
    assert describe_mask(nvp.AffineCoupling(4, 4, 1, "channel", True)) == \
        "channels, keep 1st half"


@pytest.mark.parametrize("c, scales, size", [(1, 3, (8, 8)), (3, 2, (4, 4)), (1, 1, (3, 3))])
def test_latent_scales_fractions(c, scales, size):
    model = nvp.RealNVP(in_channels=c, num_scales=scales, mid_channels=4, num_blocks=1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    levels = latent_scales(model, (c, *size))
    assert levels.shape == (c, *size)
    expected = [2.0 ** -(j + 1) for j in range(scales - 1)] + [2.0 ** -(scales - 1)]
    got = [(levels == j).double().mean().item() for j in range(scales)]
    assert got == pytest.approx(expected)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_randomize_changes_every_parameter():
    layer = nvp.AffineCoupling(1, 4, 1, "checkerboard")
    before = [p.clone() for p in layer.parameters()]
    randomize_(layer, 0.3)
    assert all(not torch.equal(a, b) for a, b in zip(before, layer.parameters(), strict=True))
    x = torch.randn(2, 1, 4, 4)
    y, _ = layer.eval()(x, x.new_zeros(2))
    assert not torch.allclose(x, y)  # no longer the identity


def test_table_renders():
    t = Table(["name", "n"], [["a<b", 1234], ["c", 5]])
    md = t.to_markdown().splitlines()
    assert md[0] == "| name | n |" and md[1] == "| :--- | ---: |" and md[2] == "| a<b | 1,234 |"
    assert "a&lt;b" in t._repr_html_() and "<table" in t.to_html()
    rows = trace(nvp.RealNVP(1, 2, 4, 1), (1, 4, 4))
    assert len(trace_table(rows).to_markdown().splitlines()) == len(rows) + 2
    with pytest.raises(ValueError):
        Table(["a"], [[1, 2]])


def test_plot_functions_return_figures():
    x = torch.arange(1, 17).view(1, 1, 4, 4)
    figs = [
        plot.image_grid(torch.rand(3, 1, 5, 5), titles=["a", "b", "c"], colorbar=True),
        plot.image_grid([torch.rand(3, 4, 4), torch.rand(4, 4)], suptitle="mixed"),
        plot.plot_masks([nvp.checkerboard_mask(5, 5), torch.ones(4, 2, 2)], ["odd", "channel"]),
        plot.plot_squeeze(x),
        plot.plot_squeeze(x, nvp.squeeze_alt, title="alt"),
        plot.plot_jacobian(torch.randn(6, 6), split=3),
        plot.plot_jacobian([torch.eye(4), torch.randn(4, 4)], titles=["I", "J"]),
        plot2d.coupling_points(torch.randn(50, 2), torch.randn(50, 2),
                               lines=([torch.randn(5, 2)], [torch.randn(5, 2)]), title="t"),
        plot.plot_latent_scales(torch.randint(0, 3, (2, 4, 4)), title="z"),
        plot.image_grid([torch.rand(5, 1, 8, 8), torch.rand(3, 3, 8, 8)], ["a", "b"], rows=True),
    ]
    for fig in figs:
        assert isinstance(fig, matplotlib.figure.Figure) and fig.axes
        fig.canvas.draw()  # renders without error


@pytest.mark.parametrize("fn, order",
                         [(nvp.squeeze, (0, 1, 2, 3)), (nvp.squeeze_alt, (0, 3, 1, 2))])
def test_plot_squeeze_colours_follow_squeeze(fn, order):
    fig = plot.plot_squeeze(torch.arange(1, 17).view(1, 1, 4, 4), fn)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts[:16] == [str(v) for v in range(1, 17)]
    cells = [p.get_facecolor() for p in ax.patches]
    assert len(cells) == 32
    for ch, k in enumerate(order):  # channel ch collects the pixels at offset k = 2·dy + dx
        colour = matplotlib.colors.to_rgba(plot.OFFSET_COLORS[k])
        assert all(c == colour for c in cells[16 + 4 * ch: 20 + 4 * ch])


def test_plot_rejects_bad_shapes():
    with pytest.raises(ValueError):
        plot.plot_squeeze(torch.zeros(1, 2, 4, 4))
    with pytest.raises(ValueError):
        plot.image_grid([])


def test_image_grid_titles_per_image():
    fig = plot.image_grid(torch.rand(7, 1, 5, 6), titles=list("abcdefg"), ncols=3)
    assert len(fig.axes) == 9  # 3 lines of 3, the last two empty
    assert [ax.get_title() for ax in fig.axes[:7]] == list("abcdefg")
    assert fig.axes[0].images[0].get_array().shape == (5, 6)
    assert not fig.axes[7].axison and not fig.axes[8].images


def test_image_grid_rows_one_axes_per_row():
    rows = [torch.rand(5, 1, 8, 8), torch.rand(3, 1, 8, 8)]
    fig = plot.image_grid(rows, titles=["five", ""], rows=True)
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "five"
    assert fig.axes[0].images[0].get_array().shape == (8 + 4, 5 * 10 + 2)  # one line, padding 2
    assert torch.equal(torch.from_numpy(fig.axes[1].images[0].get_array().data),
                       torch.from_numpy(plot.make_grid(rows[1], nrow=3)))  # the one tiling
    fig = plot.image_grid([torch.rand(16, 1, 8, 8)], rows=True, ncols=8)
    assert fig.axes[0].images[0].get_array().shape == (2 * 10 + 2, 8 * 10 + 2)  # 8 per line


def test_make_grid_tiles_and_saves(tmp_path):
    x = torch.rand(5, 3, 4, 6)
    grid = plot.make_grid(x, nrow=2, padding=1)
    assert grid.shape == (3 * 5 + 1, 2 * 7 + 1, 3) and (grid[0] == 1).all()  # white padding
    assert torch.equal(torch.from_numpy(grid[1:5, 8:14]), x[1].permute(1, 2, 0))
    for images in (x[:, :1], x):  # grey and RGB, read back by an independent PNG decoder
        plot.save_grid(images, tmp_path / "g.png")
        back = matplotlib.pyplot.imread(tmp_path / "g.png")
        expected = plot.make_grid(images)
        assert back.shape[:2] == expected.shape[:2]
        if back.ndim == 3:  # a reader may expand grey to RGB(A)
            back = back[..., 0] if expected.ndim == 2 else back[..., :3]
        assert abs(back - expected).max() <= 0.5 / 255 + 1e-6  # 8-bit rounding only


def test_curve_draws_the_running_mean_of_curves_smooth():
    ax = plot1d.curve([1.0, 3.0, 5.0, 7.0], window=2)
    raw, mean = ax.lines
    assert list(raw.get_ydata()) == [1.0, 3.0, 5.0, 7.0]
    assert list(mean.get_ydata()) == [1.0, 2.0, 4.0, 6.0]
