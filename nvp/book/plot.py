"""Figures for the book, one function per kind of figure (in the style of d2l's ``plot``).

Every function draws with pyplot and returns the :class:`~matplotlib.figure.Figure`; in a notebook
end the line with ``;`` (or assign the result) so the figure is shown once. Pass a figure to
:func:`nvp.book.widgets.frames_slider` to turn a series of them into a kernel-free slider.

* :func:`make_grid` / :func:`save_grid`: many images tiled into one array / one PNG (from
  :mod:`nvp.training.images`, which the command line uses without matplotlib).
* :func:`image_grid`: images in a grid with a title each, or rows of tiled images with a title
  per row (samples, interpolations).
* :func:`plot_masks`: binary masks ``b`` of coupling layers (paper §3.4, Figure 3).
* :func:`plot_squeeze`: the squeezing operation as in the paper's Figure 3 (``4×4×1 → 2×2×4``).
* :func:`plot_jacobian`: Jacobian matrices ``∂y/∂x`` as heat maps, optionally split into blocks.
* :func:`plot_latent_scales`: which scale each entry of ``z`` comes from (paper §3.6).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import colors as mcolors
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from ..squeeze import squeeze
from ..training.images import make_grid, save_grid

__all__ = ["image_grid", "make_grid", "plot_jacobian", "plot_latent_scales", "plot_masks",
           "plot_squeeze", "save_grid"]

ArrayLike = torch.Tensor | np.ndarray
# one colour per 2×2 offset k = 2·dy + dx (colour-blind-safe Okabe–Ito palette)
OFFSET_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7")
SCALE_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#F0E442")
KEPT, CHANGED = "#3b4cc0", "#f2f2f2"  # mask colours: b = 1 (kept), b = 0 (changed)
_ZERO_WHITE = mcolors.LinearSegmentedColormap.from_list(  # blue-white-red, exactly white at 0
    "nvp_div", ["#2166ac", "#92c5de", "#ffffff", "#f4a582", "#b2182b"])


def _np(x: ArrayLike) -> np.ndarray:
    return x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _chw(x: ArrayLike) -> np.ndarray:
    """Drop leading singleton axes until at most 3 remain; a 2-D array becomes ``(1, H, W)``."""
    a = _np(x)
    while a.ndim > 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"expected (H, W) or (C, H, W) (with optional leading 1s), got {a.shape}")
    return a  # (C, H, W)


def _pictures(images: ArrayLike | Sequence[ArrayLike]) -> list[np.ndarray]:
    """One ``(H, W)`` or ``(H, W, 3)`` array per image of ``images`` (a batch or a list)."""
    pics = [_chw(images[i]) for i in range(len(images))]  # (C, H, W) each
    return [a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0) for a in pics]  # (H, W[, 3])


def _each(v: float | Sequence[float | None] | None, n: int, default: float | None
          ) -> list[float | None]:
    """``v`` for each of ``n`` panels: a sequence as it is, one value repeated."""
    if isinstance(v, Sequence):
        return list(v)
    return [default if v is None else v] * n


def image_grid(
    images: ArrayLike | Sequence[ArrayLike],
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    rows: bool = False,
    cmap: str | mcolors.Colormap = "gray",
    vmin: float | Sequence[float | None] | None = None,
    vmax: float | Sequence[float | None] | None = None,
    size: float | None = None,
    colorbar: bool = False,
    suptitle: str | None = None,
) -> Figure:
    """Images with one title each, or (``rows=True``) rows of images with one title per row.

    * ``rows=False``: ``images`` is ``(N, C, H, W)`` / ``(N, H, W)`` or a list of ``(C, H, W)`` /
      ``(H, W)`` arrays, each in its own frame, ``ncols`` per line (default: up to 6);
      ``vmin``/``vmax``: one value for all images or one per image (``None``: the image's range).
    * ``rows=True``: ``images`` is a list of rows, each ``(N, C, H, W)`` in ``[0, 1]`` and tiled
      into one picture by :func:`make_grid` (``ncols`` images per line, default: all of them);
      grey levels are drawn as they are (0 black, 1 white). For samples, interpolations, variations.

    One-channel images use ``cmap``, three-channel ones are RGB. ``size``: inches per image
    (default 2, or 0.75 in rows).
    """
    if rows:
        pics = [make_grid(torch.as_tensor(r), nrow=ncols or len(r)) for r in images]
    else:
        pics = _pictures(images)  # (H, W) or (H, W, 3) each
    n = len(pics)
    if not n:
        raise ValueError("no images to show")
    # one tiled row per line, or `cols` images per line; an image takes `size` inches
    cols = 1 if rows else ncols or min(n, 6)
    width = images[0].shape[-1] + 2 if rows else max(p.shape[1] for p in pics)  # + padding
    inch = (size or (0.75 if rows else 2.0)) / width  # inches per pixel
    fig, axes = _grid_figure(pics, cols, inch, titles)
    lo, hi = _each(vmin, n, 0.0 if rows else None), _each(vmax, n, 1.0 if rows else None)
    for k, ax in enumerate(axes.flat):
        ax.set(xticks=[], yticks=[])  # no ticks, but a thin frame around each single image
        if k >= n or rows:
            ax.set_axis_off()
        if k >= n:
            continue
        img = ax.imshow(pics[k], cmap=cmap, vmin=lo[k], vmax=hi[k], interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
        if colorbar and pics[k].ndim == 2:
            fig.colorbar(img, ax=ax, fraction=0.046, pad=0.04)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def _grid_figure(pics: list[np.ndarray], cols: int, inch: float,
                 titles: Sequence[str] | None) -> tuple[Figure, np.ndarray]:
    """A figure with ``cols`` axes per line for ``pics`` at ``inch`` inches per pixel, each line
    as tall as its tallest picture plus room for its titles; the axes as a 2-D array."""
    n = len(pics)
    lines = [range(i, min(i + cols, n)) for i in range(0, n, cols)]
    heights = [max(pics[k].shape[0] for k in line) * inch  # room for the titles:
               + (0.25 if titles and any(titles[k] for k in line) else 0.05) for line in lines]
    fig, axes = plt.subplots(len(lines), cols, squeeze=False, layout="constrained",
                             gridspec_kw={"height_ratios": heights},
                             figsize=(max(p.shape[1] for p in pics) * inch * cols + 0.1,
                                      sum(heights) + 0.1))
    return fig, axes


def _draw_cells(
    ax: plt.Axes, values: np.ndarray, x0: float, colors: np.ndarray | Sequence,
    texts: np.ndarray | None = None,
) -> None:
    """Draw an ``(H, W)`` grid of square cells with its top-left corner at ``(x0, 0)``."""
    h, w = values.shape
    for i in range(h):
        for j in range(w):
            ax.add_patch(Rectangle((x0 + j, -i - 1), 1, 1, facecolor=colors[i][j],
                                   edgecolor="black", linewidth=0.8))
            if texts is not None:
                ax.text(x0 + j + 0.5, -i - 0.5, texts[i][j], ha="center", va="center",
                        fontsize=10)


def _finish_cells(ax: plt.Axes, width: float, height: float, top: float = 0.9) -> None:
    ax.set_xlim(-0.2, width + 0.2)
    ax.set_ylim(-height - 0.2, top)
    ax.set_aspect("equal")
    ax.set_axis_off()


def plot_masks(
    masks: Sequence[ArrayLike], titles: Sequence[str] | None = None, size: float = 0.35,
) -> Figure:
    """Binary masks ``b`` (1 = kept by the coupling, 0 = transformed), side by side.

    Each mask is ``(H, W)`` (checkerboard, e.g. :func:`nvp.checkerboard_mask`) or ``(C, H, W)``
    (e.g. a channel-wise mask: its ``C`` channels are drawn next to each other).
    """
    arrays = [_chw(m) for m in masks]
    widths = [a.shape[0] * (a.shape[2] + 0.6) for a in arrays]
    height = max(a.shape[1] for a in arrays)
    # at most 6.8 in wide, so the page does not scale the figure (and its text) down
    size = min(size, 6.8 / (sum(widths) + 1.5 * len(arrays)))
    fig, axes = plt.subplots(1, len(arrays), figsize=(size * (sum(widths) + 1.5 * len(arrays)),
                                                      size * height + 1.1),
                             gridspec_kw={"width_ratios": widths}, squeeze=False,
                             layout="constrained")
    for k, (a, ax) in enumerate(zip(arrays, axes[0], strict=True)):
        c, h, w = a.shape
        for ch in range(c):
            colors = np.where(a[ch] > 0.5, KEPT, CHANGED)
            _draw_cells(ax, a[ch], ch * (w + 0.6), colors)
            if c > 1:
                ax.text(ch * (w + 0.6) + w / 2, -h - 0.8, f"ch {ch}", ha="center", va="center",
                        fontsize=8)
        _finish_cells(ax, widths[k], height + 1.0, top=0.2)
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
    fig.legend(handles=[Patch(facecolor=KEPT, edgecolor="black", label="b = 1: kept"),
                        Patch(facecolor=CHANGED, edgecolor="black", label="b = 0: transformed")],
               loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    return fig


def plot_squeeze(
    x: ArrayLike,
    squeeze_fn: Callable[[torch.Tensor], torch.Tensor] = squeeze,
    title: str | None = None,
) -> Figure:
    """The squeezing operation drawn like the paper's Figure 3: ``(1, H, W) → (4, H/2, W/2)``.

    Cells are numbered with the values of ``x`` (use ``torch.arange(1, 17).view(1, 1, 4, 4)``)
    and coloured by their offset ``k = 2·dy + dx`` inside each 2×2 block; the colours are carried
    through ``squeeze_fn`` itself, so the right side shows where ``squeeze_fn`` really puts them.
    """
    a = _chw(x)
    if a.shape[0] != 1:
        raise ValueError(f"plot_squeeze draws a one-channel image, got {a.shape[0]} channels")
    _, h, w = a.shape
    i, j = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    offset = torch.from_numpy(2 * (i % 2) + j % 2).double().view(1, 1, h, w)  # (1, 1, H, W)
    y = _chw(squeeze_fn(torch.from_numpy(a).view(1, 1, h, w)))  # (4, H/2, W/2)
    y_off = _chw(squeeze_fn(offset)).astype(int)  # (4, H/2, W/2): where each offset went
    palette = np.array(OFFSET_COLORS)

    fmt = np.vectorize(lambda t: f"{t:g}")  # the text of each cell
    gap, arrow = 0.5, 2.5
    right0 = w + arrow
    total = right0 + 4 * (w // 2) + 3 * gap
    fig, ax = plt.subplots(figsize=(0.45 * total + 0.5, 0.45 * h + 1.0))
    _draw_cells(ax, a[0], 0, palette[2 * (i % 2) + j % 2], fmt(a[0]))
    ax.annotate("", xy=(right0 - 0.4, -h / 2), xytext=(w + 0.4, -h / 2),
                arrowprops={"arrowstyle": "->", "linewidth": 1.5})
    ax.text(w + arrow / 2, -h / 2 + 0.35, getattr(squeeze_fn, "__name__", "squeeze"),
            ha="center", fontsize=8)
    for ch in range(y.shape[0]):
        x0 = right0 + ch * (w // 2 + gap)
        _draw_cells(ax, y[ch], x0, palette[y_off[ch]], fmt(y[ch]))
        ax.text(x0 + w / 4, 0.3, f"ch {ch}", ha="center", fontsize=8)
    ax.text(w / 2, 0.3, f"{h}×{w}×1", ha="center", fontsize=9)
    _finish_cells(ax, total, h)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_jacobian(
    jacobians: ArrayLike | Sequence[ArrayLike],
    titles: Sequence[str] | None = None,
    split: int | Sequence[int | None] | None = None,
    size: float = 3.4,
    log: bool = True,
) -> Figure:
    """Heat maps of Jacobians ``J[i, j] = ∂y_i/∂x_j`` (rows: outputs, columns: inputs).

    ``split``: draw block boundaries after the first ``split`` rows and columns (e.g. the number of
    kept entries, once they are ordered first); one value for all panels or one per panel.
    Zeros are white; the colour scale is symmetric, and logarithmic beyond 1% of the largest
    entry (``log=True``) so that small non-zero entries stay visible next to a large diagonal.
    """
    mats = [_np(jacobians)] if isinstance(jacobians, (torch.Tensor, np.ndarray)) and \
        _np(jacobians).ndim == 2 else [_np(j) for j in jacobians]
    splits = list(split) if isinstance(split, Sequence) else [split] * len(mats)
    fig, axes = plt.subplots(1, len(mats), figsize=(size * len(mats) + 0.6, size), squeeze=False)
    for k, (m, ax) in enumerate(zip(mats, axes[0], strict=True)):
        if m.ndim != 2:
            raise ValueError(f"a Jacobian must be a matrix, got shape {m.shape}")
        v = float(np.abs(m).max()) or 1.0
        norm = mcolors.SymLogNorm(0.01 * v, vmin=-v, vmax=v) if log else mcolors.Normalize(-v, v)
        img = ax.imshow(m, cmap=_ZERO_WHITE, norm=norm, interpolation="nearest")
        if splits[k] is not None:
            for line in (ax.axhline, ax.axvline):
                line(splits[k] - 0.5, color="black", linewidth=1.0)
        ax.set_xlabel("input $x_j$", fontsize=9)
        ax.set_ylabel("output $y_i$", fontsize=9)
        ax.tick_params(labelsize=7)
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
        cbar = fig.colorbar(img, ax=ax, fraction=0.046, pad=0.04)
        cbar.ax.tick_params(labelsize=7)
        if log:  # ticks inside the linear range (|J| < 1% of max) crowd the 0 label
            cbar.set_ticks([t for t in cbar.get_ticks() if t == 0 or 0.01 * v <= abs(t) <= v])
    fig.tight_layout()
    return fig


def plot_latent_scales(
    levels: ArrayLike, title: str | None = None, size: float = 3.0,
    names: Sequence[str] | None = None,
) -> Figure:
    """Map ``(C, H, W)`` (or ``(H, W)``) of integers: the scale each entry of ``z`` comes from.

    ``names``: the legend's name for each value ``k`` (default ``"scale k+1"``: scales count
    from 1, as in the paper), followed by how many entries have it. Each entry is a square of a
    whole number of pixels (about ``size`` inches per channel at the figure's dpi): a
    checkerboard drawn at a fractional zoom would show moiré, its squares alternately one pixel
    wider and narrower.
    """
    a = _chw(levels).astype(int)  # (C, H, W)
    c, h, w = a.shape
    n = int(a.max()) + 1
    cmap = mcolors.ListedColormap(SCALE_COLORS[:n] if n <= len(SCALE_COLORS) else
                          plt.get_cmap("tab10").colors[:n])
    names = [f"scale {k + 1}" for k in range(n)] if names is None else list(names)
    dpi = plt.rcParams["figure.dpi"]
    # the layout in whole pixels: panels, gaps, room for titles above and the legend right
    gap, pad, legend = round(0.25 * dpi), round(0.05 * dpi), round(2.4 * dpi)
    # pixels per entry, a whole number; at most 6.8 in wide, so the page does not rescale it
    room = (round(6.8 * dpi) - legend - (c - 1) * gap - 2 * pad) // c
    zoom = max(1, min(round(size * dpi / max(h, w)), room // w))
    pw, ph = zoom * w, zoom * h
    top = pad + (round(0.3 * dpi) if c > 1 else 0) + (round(0.35 * dpi) if title else 0)
    panels = c * pw + (c - 1) * gap
    fw, fh = pad + panels + legend, top + ph + pad
    fig = plt.figure(figsize=(fw / dpi, fh / dpi), dpi=dpi)
    for ch in range(c):
        ax = fig.add_axes(((pad + ch * (pw + gap)) / fw, pad / fh, pw / fw, ph / fh))
        ax.imshow(a[ch], cmap=cmap, vmin=-0.5, vmax=n - 0.5, interpolation="nearest")
        ax.set(xticks=[], yticks=[])
        if c > 1:
            ax.set_title(f"channel {ch}", fontsize=9)
    if title:
        fig.suptitle(title, x=(pad + panels / 2) / fw, y=1 - pad / fh, va="top")
    handles = [Patch(facecolor=cmap(k), label=f"{names[k]}: {(a == k).sum()} of {a.size}")
               for k in range(n)]
    fig.legend(handles=handles, loc="center left", fontsize=8, frameon=False,
               bbox_to_anchor=((2 * pad + panels) / fw, (pad + ph / 2) / fh))
    return fig
