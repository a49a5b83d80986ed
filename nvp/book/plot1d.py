"""Figures on the line: a curve with its running mean, a 1-D density beside a histogram of
samples, histograms of pixel values, and the logit transform of chapter 2 (one function per
kind). Like :mod:`nvp.book.plot2d`, every function draws on an ``Axes`` you pass (or makes its
own figure) and returns it. A density is drawn against a histogram normalised to integrate to 1::

    Σ_b count_b / (N · Δ) · Δ = 1                      (Δ: the width of a bin)
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..preprocess import Logit
from .curves import smooth
from .plot2d import DATA_COLOR, SAMPLE_COLOR, _axes


def curve(
    history: Sequence[float], ax: Axes | None = None, ylabel: str = "loss (nats / point)",
    window: int = 20,
) -> Axes:
    """A training curve, raw (grey) and as its running mean over ``window`` steps
    (:func:`nvp.book.curves.smooth`)."""
    ax = _axes(ax, (5.0, 3.0))
    ax.plot(history, color="0.8", lw=0.8)
    ax.plot(smooth(history, window))
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    return ax


def density_1d(
    x: torch.Tensor, p: torch.Tensor, samples: torch.Tensor | None = None,
    ax: Axes | None = None, title: str = "", bins: int = 80, label: str = "density",
) -> Axes:
    """A 1-D density curve ``p(x)`` over a histogram of ``samples`` on the range of ``x``.

    Bar heights are (samples in the bin) / (all samples · bin width), so samples outside the
    range lower the bars instead of being renormalised away.
    """
    ax = _axes(ax, (4.0, 3.0))
    lo, hi = float(x.min()), float(x.max())
    if samples is not None:
        s = samples.numpy()
        ax.hist(s, bins=bins, range=(lo, hi), weights=np.full(len(s), bins / (len(s) * (hi - lo))),
                color="0.8", label="histogram of samples")
    ax.plot(x.numpy(), p.numpy(), color=SAMPLE_COLOR, label=label)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def histograms(
    values: Sequence[torch.Tensor], titles: Sequence[str], bins: Sequence[int],
    ranges: Sequence[tuple[float, float] | None] | None = None,
    logy: bool | Sequence[bool] = True, cols: int | None = None,
) -> Figure:
    """Histograms in a grid, e.g. of pixel values at each pre-processing stage.

    ``ranges[i]`` (optional) zooms panel ``i`` into ``(lo, hi)``; ``logy`` (one flag, or one per
    panel) puts counts on a log scale; ``cols`` panels per row (default: all in one row).
    """
    n = len(values)
    ranges = [None] * n if ranges is None else ranges
    logs = [logy] * n if isinstance(logy, bool) else logy
    cols = n if cols is None else cols
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
    for ax, v, t, b, r, lg in zip(axes.flat, values, titles, bins, ranges, logs, strict=False):
        ax.hist(v.flatten().numpy(), bins=b, range=r, color=DATA_COLOR,
                histtype="stepfilled")  # one polygon, not a patch per bin: fast
        ax.set_title(t, fontsize=10)
        if lg:
            ax.set_yscale("log")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


@torch.no_grad()
def logit_frame(x_tilde: torch.Tensor, beta: float, ylim: float = 8.0) -> Figure:
    """The logit pre-processing with data constraint ``beta`` (paper §4.1), two panels.

    Left: ``y = logit(β x̃ + (1 − β)/2)`` against ``x̃``; right: the histogram of ``y`` over the
    dequantized pixels ``x_tilde``.
    """
    logit = Logit(beta)
    grid = torch.linspace(0, 1, 501, dtype=torch.float64).view(-1, 1, 1, 1)  # (501, 1, 1, 1)
    curve = logit(grid, grid.new_zeros(len(grid)))[0].flatten()
    y = logit(x_tilde, x_tilde.new_zeros(len(x_tilde)))[0].flatten()
    # 6.8 in at 96 dpi: the frame fits the 684 px text column at 1280 px
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(6.8, 3.0))
    ax0.plot(grid.flatten().numpy(), curve.numpy(), color=SAMPLE_COLOR)
    ax0.set_ylim(-ylim, ylim)
    ax0.set_xlabel("dequantized pixel x~")
    ax0.set_ylabel("y")
    ax0.set_title(f"beta = {beta:g}: y in [{curve.min():.2f}, {curve.max():.2f}]", fontsize=10)
    ax1.hist(y.numpy(), bins=160, range=(-ylim, ylim), color=DATA_COLOR,
             histtype="stepfilled")
    ax1.set_yscale("log")
    ax1.set_xlabel("y")
    ax1.set_title("histogram of the logits", fontsize=10)
    fig.tight_layout()
    return fig
