"""Training curves in a notebook: a live figure redrawn in place, and a plain final figure.

``nvp.train`` reports every optimisation step (``on_step(step, bits_per_dim)``) and every epoch
(``on_epoch(epoch, metrics)``). :class:`LiveCurves` takes both and redraws one figure in the
cell's output (``IPython.display`` with a ``display_id``), at most every ``min_interval`` seconds::

    curves = nvp.book.curves.LiveCurves()
    model, metrics = nvp.train(config, "runs/mnist", on_step=curves.on_step,
                               on_epoch=curves.on_epoch)
    curves.close()                                   # one last redraw with everything

Outside IPython nothing is displayed; the numbers are still recorded. :func:`plot_curves` draws the
same figure from ``metrics`` alone, e.g. from a checkpoint.

Both plot the training objective per step (bits/dim of the mini-batch, paper §4.1, with the
8 bits of the dequantization bins included), raw and as the running mean :func:`smooth`, and the
held-out bits/dim after every epoch (``metrics["heldout_bpd"]``: validation or test images).
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def smooth(values: Sequence[float], window: int = 20) -> np.ndarray:
    """Running mean over the last ``window`` values (shorter at the start); same length.

    ``m_i = (v_{i−k+1} + … + v_i) / k`` with ``k = min(window, i + 1)``, from cumulative sums.
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    lo = np.maximum(np.arange(1, v.size + 1) - window, 0)
    return (c[1:] - c[lo]) / (np.arange(1, v.size + 1) - lo)


def draw_curves(
    fig: Figure,
    step_bpd: Sequence[float],
    epoch_heldout_bpd: Sequence[float] = (),
    epoch_train_bpd: Sequence[float] = (),
    steps_per_epoch: float | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the curves on ``fig`` (cleared first): per-step bits/dim, raw and smoothed, and the
    per-epoch train / held-out bits/dim at the step where each epoch ended."""
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    steps = np.arange(1, len(step_bpd) + 1)
    if len(step_bpd):
        # about a fifteenth of the run, and at least 2 steps (a "mean" of 1 is the raw curve)
        window = max(2, min(50, len(step_bpd) // 15))
        ax.plot(steps, step_bpd, color="#9ecae1", lw=0.8, label="mini-batch")
        ax.plot(steps, smooth(step_bpd, window), color="#08519c", lw=1.5,
                label=f"running mean of {window} steps")
    if epoch_heldout_bpd or epoch_train_bpd:
        spe = steps_per_epoch or (len(step_bpd) / max(len(epoch_heldout_bpd), 1))
        for vals, style, label in ((epoch_train_bpd, "s--", "train (epoch mean)"),
                                   (epoch_heldout_bpd, "o-", "held-out")):
            if len(vals):
                ends = spe * np.arange(1, len(vals) + 1)
                ax.plot(ends, vals, style, color="#d94801" if label == "held-out" else "#636363",
                        ms=4, label=label)
    if len(step_bpd):
        lo, hi = float(np.min(step_bpd)), float(np.percentile(step_bpd, 98))
        pad = 0.05 * (hi - lo) + 1e-3
        ax.set_ylim(lo - pad, hi + pad)  # the first steps (often > 10 bits/dim) do not dominate
    ax.set_xlabel("optimisation step")
    ax.set_ylabel("bits/dim")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_curves(metrics: dict[str, Any], title: str | None = None,
                figsize: tuple[float, float] = (6.0, 3.2)) -> Figure:
    """The final figure of a run from its ``metrics`` (as returned by ``nvp.train`` or stored
    in a checkpoint): ``step_bpd``, ``train_bpd`` and ``heldout_bpd`` (``test_bpd`` in
    checkpoints written before the rename). A pyplot figure, shown by a notebook like any other
    (end the line with ``;``)."""
    fig = plt.figure(figsize=figsize)
    heldout = metrics.get("heldout_bpd", metrics.get("test_bpd", []))
    return draw_curves(fig, metrics.get("step_bpd", []), heldout,
                       metrics.get("train_bpd", []), title=title)


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is there wherever notebooks run
        return False
    return get_ipython() is not None


class LiveCurves:
    """Callbacks for ``nvp.train(on_step=..., on_epoch=...)`` that redraw a figure in place.

    Args:
        title: figure title.
        min_interval: seconds between two redraws (rendering a PNG costs ~0.1 s).
        figsize: figure size in inches.
        history: metrics of earlier epochs (e.g. a resumed run's) to start the curves from.
    """

    def __init__(self, title: str | None = None, min_interval: float = 2.0,
                 figsize: tuple[float, float] = (6.0, 3.2),
                 history: dict[str, Any] | None = None) -> None:
        self.title = title
        self.min_interval = min_interval
        self.fig = Figure(figsize=figsize)  # not pyplot: the inline backend will not show it twice
        history = history or {}
        self.step_bpd: list[float] = list(history.get("step_bpd", []))
        self.train_bpd: list[float] = list(history.get("train_bpd", []))
        self.heldout_bpd: list[float] = list(history.get("heldout_bpd", []))
        self._handle: Any = None
        self._last = -float("inf")

    def on_step(self, step: int, bpd: float) -> None:
        """Record the mini-batch bits/dim of one step; redraw if ``min_interval`` has passed."""
        self.step_bpd.append(float(bpd))
        if time.monotonic() - self._last >= self.min_interval:
            self.redraw()

    def on_epoch(self, epoch: int, metrics: dict[str, Any]) -> None:
        """Record the epoch's train and held-out bits/dim (from ``metrics``) and redraw."""
        self.train_bpd = list(metrics.get("train_bpd", self.train_bpd))
        self.heldout_bpd = list(metrics.get("heldout_bpd", self.heldout_bpd))
        self.redraw()

    def draw(self) -> Figure:
        """Draw the current curves on :attr:`fig` and return it."""
        spe = len(self.step_bpd) / len(self.heldout_bpd) if self.heldout_bpd else None
        return draw_curves(self.fig, self.step_bpd, self.heldout_bpd, self.train_bpd, spe,
                           self.title)

    def redraw(self) -> None:
        """Draw and show the figure, replacing the previous drawing in the cell's output."""
        self._last = time.monotonic()
        if not _in_ipython():
            return
        from IPython.display import Image, display

        buf = io.BytesIO()
        self.draw().savefig(buf, format="png", dpi=80)
        image = Image(data=buf.getvalue(), format="png")
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)

    def close(self) -> None:
        """A last redraw with every recorded value (the figure stays in :attr:`fig`)."""
        self.redraw()
