"""The whole Real NVP drawn from the model itself (in the idea of the paper's Figure 4(b)).

:func:`draw_model` draws every step of an :class:`nvp.RealNVP` as a box, one column per scale,
in the order the model runs them: the logit pre-processing, the couplings (coloured by mask
type, with a glyph of the part they keep), the squeezes, and at the end of each scale but the
last the ``squeeze_alt`` and the split that factors half of the dimensions out into ``z``. The
half that goes on starts the next column, one step to the right (a staircase, as in Figure
4(b)); the factored-out halves are put back in place at the bottom, so ``z`` has the shape of
``x``.

The boxes come from :func:`nvp.book.trace.trace`, which replays the real model module by module
and checks that it reproduces ``model.flow`` exactly; so the drawing cannot disagree with the
code. :func:`model_boxes` returns the boxes as data (for asserts); every patch drawn for a box
carries the box's ``kind`` as its matplotlib ``gid``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Patch, Rectangle

from ..model import RealNVP
from .trace import TraceRow, trace

# box kinds; the colours follow nvp.book.plot (Okabe–Ito)
COLORS = {"input": "#ffffff", "logit": "#dddddd", "checkerboard": "#9ecae1",
          "channel": "#fdd0a2", "squeeze": "#f0f0f0", "split": "#c7e9c0",
          "z": "#ffffff", "merge": "#ffffff"}
KEPT, CHANGED = "#3b4cc0", "#ffffff"  # glyph colours, as in plot.plot_masks
COL_W, ROW_H = 3.0, 1.0  # one column per scale; one row per step (data units)


@dataclass(frozen=True)
class Box:
    """One drawn box: its ``kind`` (a key of :data:`COLORS`), its text, the scale it belongs to
    (``None`` for the input, the logit and the final merge), and its column and row."""

    kind: str
    label: str
    scale: int | None
    col: float
    row: int
    mask: str = ""  # for couplings: trace's "checkerboard, keep even", "channels, keep 2nd half"


def _shape(s: Sequence[int]) -> str:
    return "×".join(str(v) for v in s)  # (C, H, W) -> "C×H×W"


def _z(scale: int, shape: Sequence[int]) -> str:
    return f"$z^{{({scale + 1})}}$: {_shape(shape)}"  # the paper's z^(i), from 1


def _kind(r: TraceRow) -> str:
    if r.op == "coupling":
        return "checkerboard" if r.mask.startswith("checkerboard") else "channel"
    return {"squeeze_alt": "squeeze", "unsqueeze": "squeeze"}.get(r.op, r.op)


def _label(r: TraceRow) -> str:
    if r.op == "coupling":
        return r.mask  # e.g. "checkerboard, keep even"
    if r.op == "split":
        return f"split → keep {_shape(r.out_shape)}"
    if r.op == "logit":
        return "logit (pre-processing)"
    return f"{r.op} → {_shape(r.out_shape)}"


def model_boxes(model: RealNVP, image_shape: Sequence[int]) -> list[Box]:
    """The boxes :func:`draw_model` draws for ``model`` on images ``(C, H, W)``, from its trace.

    One box per traced step (merges excepted), a ``"z"`` box per factored-out part and for
    the last scale's output, an ``"input"`` box on top and one ``"merge"`` box at the bottom.
    """
    rows = trace(model, image_shape)
    boxes = [Box("input", f"x  {_shape(rows[0].in_shape)}", None, 0, 0)]
    col, row, last = 0, 1, len(model.scales) - 1
    for r in rows:
        if r.op == "merge":
            continue
        if r.scale is not None and r.scale != col:  # the kept half starts the next column
            col, row = r.scale, row - 1
        boxes.append(Box(_kind(r), _label(r), r.scale, col, row, r.mask))
        row += 1
        if r.op == "split":  # the other half leaves the flow: z^(i)
            boxes.append(Box("z", _z(r.scale, r.out_shape), r.scale, col, row))
    out = [r for r in rows if r.scale == last and r.op == "coupling"][-1].out_shape
    boxes.append(Box("z", _z(last, out), last, last, row))
    merged = _shape(rows[-1].out_shape)
    boxes.append(Box("merge", f"z  {merged}: every part put back in place (unsqueeze_alt)",
                     None, last / 2, row + 2))
    return boxes


def _glyph(ax: plt.Axes, x: float, y: float, mask: str, gid: str, aspect: float) -> None:
    """A 2×2 checkerboard or two channel halves, the kept part dark (paper Figure 3).

    ``aspect``: data units in x per data unit in y on the page, so that the cells are square.
    """
    u, v = 0.2 * aspect, 0.2  # cell width, height

    def cell(x0: float, y0: float, width: float, kept: bool) -> None:
        ax.add_patch(Rectangle((x0, y0), width, v, gid=gid, lw=0.5, ec="0.3",
                               fc=KEPT if kept else CHANGED))

    if mask.startswith("checkerboard"):
        odd = mask.endswith("odd")
        for i in range(2):  # row i from the top, column j
            for j in range(2):
                cell(x + j * u, y - i * v, u, (i + j) % 2 == odd)
    else:  # top: the 1st half of the channels
        first = "1st" in mask
        cell(x, y, 2 * u, first)
        cell(x, y - v, 2 * u, not first)


def _centre(b: Box) -> tuple[float, float]:
    """Where box ``b`` sits: columns left to right, rows top to bottom."""
    return b.col * COL_W, -b.row * ROW_H


def _draw_boxes(ax: plt.Axes, boxes: list[Box], ncols: int, w: float, h: float,
                aspect: float) -> None:
    """Every box, its mask glyph (couplings) and its label."""
    for b in boxes:
        cx, cy = _centre(b)
        bw = COL_W * (ncols - 1) + w if b.kind == "merge" else w
        ax.add_patch(FancyBboxPatch((cx - bw / 2, cy - h / 2), bw, h, gid=b.kind,
                                    boxstyle="round,pad=0,rounding_size=0.12",
                                    fc=COLORS[b.kind], ec="0.25",
                                    lw=1.2 if b.kind in ("z", "merge") else 0.7))
        if b.kind in ("checkerboard", "channel"):
            _glyph(ax, cx - bw / 2 + 0.08, cy, b.mask, f"glyph {b.kind}", aspect)
        ax.text(cx + (0.25 if b.mask else 0), cy, b.label, ha="center", va="center",
                fontsize=8, fontweight="bold" if b.kind in ("z", "merge") else "normal")


def _draw_arrows(ax: plt.Axes, boxes: list[Box], w: float, h: float) -> None:
    """Down each column; from each split to the next scale; from each part of z to the merge."""
    arrow = dict(arrowstyle="-|>", color="0.3", lw=0.8, shrinkA=0, shrinkB=0)
    for a, b in zip(boxes, boxes[1:], strict=False):
        (ax_, ay), (bx, by) = _centre(a), _centre(b)
        if a.kind in ("z", "merge") or b.kind == "merge":
            continue
        if b.col == a.col:  # down the column
            ax.annotate("", (bx, by + h / 2), (ax_, ay - h / 2), arrowprops=arrow)
    for s in (b for b in boxes if b.kind == "split"):  # the kept half goes right
        nxt = next(b for b in boxes if b.scale == s.scale + 1)
        (sx, sy), (nx, ny) = _centre(s), _centre(nxt)
        ax.annotate("", (nx - w / 2, ny), (sx + w / 2, sy), arrowprops=arrow)
    merge = boxes[-1]
    for z in (b for b in boxes if b.kind == "z"):  # every part of z goes to the merge
        (zx, zy), (_, my) = _centre(z), _centre(merge)
        ax.annotate("", (zx, my + h / 2), (zx, zy - h / 2), arrowprops=arrow)


def draw_model(model: RealNVP, image_shape: Sequence[int], title: str = "") -> Figure:
    """Draw ``model`` (an :class:`nvp.RealNVP`) as a diagram of boxes, for images
    ``image_shape = (C, H, W)``; returns the figure. See :func:`model_boxes` for what is drawn.

    Example: ``draw_model(nvp.RealNVP(1, 2, 32, 2), (1, 28, 28))``.
    """
    boxes = model_boxes(model, image_shape)
    ncols = len(model.scales)
    nrows = max(b.row for b in boxes) + 1
    size = (2.5 * ncols + 0.2, 0.32 * nrows + 0.7)  # inches
    fig, ax = plt.subplots(figsize=size)
    w, h = COL_W - 0.3, ROW_H * 0.68
    aspect = (COL_W * ncols / size[0]) / (ROW_H * nrows / size[1])
    _draw_boxes(ax, boxes, ncols, w, h, aspect)
    _draw_arrows(ax, boxes, w, h)
    for k in range(ncols):  # a heading above each column
        top = min((b for b in boxes if b.col == k), key=lambda b: b.row)
        ax.text(k * COL_W, -top.row * ROW_H + 0.5, f"scale {k + 1}", ha="center",
                fontsize=9.5, fontweight="bold")
    ax.set_xlim(-COL_W / 2, COL_W * (ncols - 0.5))
    ax.set_ylim(-(nrows - 0.4) * ROW_H, 1.2)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    legend = [Patch(fc=COLORS["checkerboard"], ec="0.25", label="coupling, checkerboard mask"),
              Patch(fc=COLORS["channel"], ec="0.25", label="coupling, channel-wise mask"),
              Patch(fc=KEPT, ec="0.3", label="(glyph) the part a coupling keeps")]
    fig.legend(handles=legend, loc="lower center", ncol=3 if ncols > 2 else 2,
               fontsize=8, frameon=False)
    fig.tight_layout(pad=0.2, rect=(0, 0.35 / size[1], 1, 1))  # room for the legend
    return fig
