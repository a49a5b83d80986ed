"""Figures for the book, one function per kind of figure (in the style of d2l's ``plot``).

Every function draws with pyplot and returns the :class:`~matplotlib.figure.Figure`; in a notebook
end the line with ``;`` (or assign the result) so the figure is shown once. Pass a figure to
:func:`nvp.widgets.frames_slider` to turn a series of them into a kernel-free slider.

* :func:`make_grid` / :func:`save_grid`: many images tiled into one array / one PNG.
* :func:`image_grid`: images side by side, with titles.
* :func:`plot_masks`: binary masks ``b`` of coupling layers (paper §3.4, Figure 3).
* :func:`plot_squeeze`: the squeezing operation as in the paper's Figure 3 (``4×4×1 → 2×2×4``).
* :func:`plot_jacobian`: Jacobian matrices ``∂y/∂x`` as heat maps, optionally split into blocks.
* :func:`plot_coupling_2d`: a coupling layer acting on a cloud of 2-D points.
* :func:`plot_latent_scales`: which scale each entry of ``z`` comes from (paper §3.6).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import LinearSegmentedColormap, ListedColormap, Normalize, SymLogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from ..squeeze import squeeze

ArrayLike = torch.Tensor | np.ndarray
# one colour per 2×2 offset k = 2·dy + dx (colour-blind-safe Okabe–Ito palette)
OFFSET_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7")
SCALE_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#F0E442")
KEPT, CHANGED = "#3b4cc0", "#f2f2f2"  # mask colours: b = 1 (kept), b = 0 (changed)
_ZERO_WHITE = LinearSegmentedColormap.from_list(  # diverging blue-white-red, exactly white at 0
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


def image_grid(
    images: ArrayLike | Sequence[ArrayLike],
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    cmap: str = "gray",
    vmin: float | Sequence[float | None] | None = None,
    vmax: float | Sequence[float | None] | None = None,
    size: float = 2.0,
    colorbar: bool = False,
    suptitle: str | None = None,
) -> Figure:
    """Images ``(N, C, H, W)`` / ``(N, H, W)`` (or a list of ``(C, H, W)`` / ``(H, W)``) in a grid.

    One-channel images use ``cmap``; three-channel images are shown as RGB. ``vmin``/``vmax``:
    one value for all images or one per image (``None``: the image's own range).
    """
    items = list(images) if not isinstance(images, (torch.Tensor, np.ndarray)) else \
        [images[i] for i in range(len(images))]
    if not items:
        raise ValueError("no images to show")
    n = len(items)
    ncols = ncols or min(n, 6)
    nrows = -(-n // ncols)
    lo = list(vmin) if isinstance(vmin, Sequence) else [vmin] * n
    hi = list(vmax) if isinstance(vmax, Sequence) else [vmax] * n
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.set_axis_off()
            continue
        ax.set_xticks([])
        ax.set_yticks([])  # no ticks, but keep a thin frame around each image
        a = _chw(items[k])
        img = ax.imshow(a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0),  # (H, W) or (H, W, 3)
                        cmap=cmap, vmin=lo[k], vmax=hi[k], interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
        if colorbar and a.shape[0] == 1:
            fig.colorbar(img, ax=ax, fraction=0.046, pad=0.04)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


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

    def fmt(v: np.ndarray) -> np.ndarray:
        return np.vectorize(lambda t: f"{t:g}")(v)

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
        norm = SymLogNorm(linthresh=0.01 * v, vmin=-v, vmax=v) if log else Normalize(-v, v)
        img = ax.imshow(m, cmap=_ZERO_WHITE, norm=norm, interpolation="nearest")
        if splits[k] is not None:
            for line in (ax.axhline, ax.axvline):
                line(splits[k] - 0.5, color="black", linewidth=1.0)
        ax.set_xlabel("input $x_j$", fontsize=9)
        ax.set_ylabel("output $y_i$", fontsize=9)
        ax.tick_params(labelsize=7)
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
        fig.colorbar(img, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def plot_coupling_2d(
    x: ArrayLike,
    y: ArrayLike,
    lines: tuple[Sequence[ArrayLike], Sequence[ArrayLike]] | None = None,
    lim: float = 4.0,
    title: str | None = None,
    size: float = 3.2,
) -> Figure:
    """Points ``x`` (N, 2) and their images ``y`` (N, 2), coloured by the second coordinate.

    For a coupling that keeps ``x_2`` and transforms ``x_1 ↦ x_1·e^{s(x_2)} + t(x_2)``, every
    horizontal line is mapped onto itself, stretched and shifted. ``lines``: optional polylines
    ``(before, after)``, each a list of ``(M, 2)`` arrays, drawn in grey.
    """
    a, b = _np(x).reshape(-1, 2), _np(y).reshape(-1, 2)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 0.4, size), sharex=True, sharey=True)
    for k, (ax, pts, name) in enumerate(zip(axes, (a, b), ("input x", "output y"),
                                            strict=True)):
        if lines is not None:
            for line in lines[k]:
                seg = _np(line).reshape(-1, 2)
                ax.plot(seg[:, 0], seg[:, 1], color="0.6", linewidth=0.7, zorder=1)
        ax.scatter(pts[:, 0], pts[:, 1], c=a[:, 1], cmap="viridis", s=6, zorder=2)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("1st coordinate (transformed)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("2nd coordinate (kept)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_latent_scales(
    levels: ArrayLike, title: str | None = None, size: float = 3.0
) -> Figure:
    """Map ``(C, H, W)`` (or ``(H, W)``) of integers: the scale each entry of ``z`` comes from."""
    a = _chw(levels).astype(int)
    n = int(a.max()) + 1
    cmap = ListedColormap(SCALE_COLORS[:n] if n <= len(SCALE_COLORS) else
                          plt.get_cmap("tab10").colors[:n])
    fig, axes = plt.subplots(1, a.shape[0], figsize=(size * a.shape[0] + 1.6, size + 0.3),
                             squeeze=False)
    for ch, ax in enumerate(axes[0]):
        ax.imshow(a[ch], cmap=cmap, vmin=-0.5, vmax=n - 0.5, interpolation="nearest")
        ax.set_axis_off()
        if a.shape[0] > 1:
            ax.set_title(f"channel {ch}", fontsize=9)
    total = a.size
    handles = [Patch(facecolor=cmap(k), label=f"scale {k}: {(a == k).sum()} of {total}")
               for k in range(n)]
    fig.legend(handles=handles, loc="center right", fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1 - 1.6 / (size * a.shape[0] + 1.6), 1))
    return fig


def make_grid(x: torch.Tensor, nrow: int | None = None, padding: int = 2,
              pad_value: float = 1.0) -> np.ndarray:
    """Tile ``(N, C, H, W)`` images in ``[0, 1]`` into an ``(H', W')`` (C = 1) or ``(H', W', C)``
    float array; ``nrow`` images per row (default: a square-ish grid)."""
    if x.dim() != 4:
        raise ValueError(f"expected images (N, C, H, W), got shape {tuple(x.shape)}")
    n, c, h, w = x.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    grid = np.full((c, rows * (h + padding) + padding, nrow * (w + padding) + padding), pad_value,
                   dtype=np.float32)
    imgs = x.detach().float().cpu().clamp(0, 1).numpy()
    for k in range(n):
        r, col = divmod(k, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top:top + h, left:left + w] = imgs[k]
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)  # (H', W') or (H', W', C)


def save_grid(x: torch.Tensor, path: str | os.PathLike, nrow: int | None = None) -> None:
    """Write :func:`make_grid` of ``x`` as a PNG."""
    import matplotlib.image

    grid = make_grid(x, nrow)
    matplotlib.image.imsave(path, grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1)
