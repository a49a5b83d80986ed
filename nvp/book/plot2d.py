"""Figures in the plane: the 2-D toy flow of chapter 1 and a coupling acting on a cloud of 2-D
points (chapter 3); one function per kind (figures on the line: :mod:`nvp.book.plot1d`).

Every function draws on an ``Axes`` you pass (or makes its own figure) and returns it, so a
notebook cell is one call. Densities are drawn as ``exp(log p)`` on a regular grid::

    ∫∫ p(x) dx ≈ Σ_ij p(x_ij) · Δx₁ Δx₂                      (checked in chapter 1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from .toy import ToyFlow

Map2D = Callable[[torch.Tensor], torch.Tensor]  # (N, 2) -> (N, 2)

DATA_COLOR = "#1f77b4"
SAMPLE_COLOR = "#d62728"


def _axes(ax: Axes | None, size: tuple[float, float] = (4.0, 4.0)) -> Axes:
    return plt.subplots(figsize=size)[1] if ax is None else ax


def _square(ax: Axes, lim: float, labels: tuple[str, str] | None = None) -> None:
    """A square view on ``[−lim, lim]²``: bare, or with ticks and the axis ``labels``."""
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    if labels is None:
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        ax.tick_params(labelsize=8)


def scatter(
    x: torch.Tensor, ax: Axes | None = None, title: str = "", color: str = DATA_COLOR,
    lim: float = 2.5, size: float = 2.0,
) -> Axes:
    """A 2-D point cloud ``(N, 2)``."""
    ax = _axes(ax)
    ax.scatter(x[:, 0].numpy(), x[:, 1].numpy(), s=size, color=color, alpha=0.5, lw=0)
    _square(ax, lim)
    ax.set_title(title)
    return ax


@torch.no_grad()
def density_grid(
    log_prob: Map2D, lim: float = 2.5, n: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``exp(log_prob)`` at the centres of an ``n × n`` grid on ``[−lim, lim]²``.

    Returns ``(x₁ grid, x₂ grid, density (n, n), cell area)``; ``density.sum() · area`` is the
    midpoint-rule estimate of the total probability inside the square.
    """
    h = 2 * lim / n
    c = torch.linspace(-lim + h / 2, lim - h / 2, n)
    g1, g2 = torch.meshgrid(c, c, indexing="xy")  # (n, n) each; rows follow x₂
    pts = torch.stack((g1.flatten(), g2.flatten()), dim=1)  # (n², 2)
    dens = torch.cat([log_prob(p).exp() for p in pts.split(20000)]).view(n, n)  # (n, n)
    return g1.numpy(), g2.numpy(), dens.numpy(), h * h


def density(
    log_prob: Map2D, ax: Axes | None = None, title: str = "", lim: float = 2.5, n: int = 200
) -> Axes:
    """Heat map of a 2-D density given by its log-density function."""
    _, _, dens, _ = density_grid(log_prob, lim, n)
    return show_density(dens, ax, lim, title)


def show_density(
    dens: np.ndarray, ax: Axes | None = None, lim: float = 2.5, title: str = "",
    decades: float | None = None,
) -> Axes:
    """Heat map of a density already on a grid (``density_grid``'s third output).

    ``decades``: a logarithmic colour scale from ``peak · 10^−decades`` (black, as is anything
    lower) to the peak, with a colour bar; ``None``: a linear scale.
    """
    ax = _axes(ax)
    norm = None
    if decades is not None:
        peak = float(dens.max())
        norm = LogNorm(vmin=peak * 10.0 ** -decades, vmax=peak, clip=True)
    im = ax.imshow(dens, origin="lower", extent=(-lim, lim, -lim, lim), cmap="magma",
                   norm=norm)
    if decades is not None:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    _square(ax, lim)
    ax.set_title(title)
    return ax


def grid_lines(
    lim: float = 2.5, lines: int = 17, points: int = 200
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The square grid ``warped_grid`` draws: ``(rows, columns)``, each a list of ``lines``
    polylines ``(points, 2)`` on ``[−lim, lim]²``; a row has a fixed ``x₂``, a column a fixed
    ``x₁``."""
    t = torch.linspace(-lim, lim, points)
    levels = torch.linspace(-lim, lim, lines)
    rows = [torch.stack((t, v.expand_as(t)), 1) for v in levels]  # (points, 2) each
    columns = [torch.stack((v.expand_as(t), t), 1) for v in levels]
    return rows, columns


def point_map(layer: torch.nn.Module) -> Map2D:
    """A flow on ``(B, 2, 1, 1)`` images (e.g. a coupling) as a map of points ``(N, 2)``."""

    def fn(p: torch.Tensor) -> torch.Tensor:
        y, _ = layer(p.reshape(-1, 2, 1, 1), p.new_zeros(len(p)))  # (N, 2, 1, 1)
        return y.reshape(-1, 2)  # (N, 2)

    return fn


@torch.no_grad()
def warped_grid(
    fn: Map2D | None, ax: Axes | None = None, lim: float = 2.5, lines: int = 17,
    color: str = "0.4", view: float | None = None, title: str = "",
    labels: tuple[str, str] | None = None,
) -> Axes:
    """Draw the lines of a square grid on ``[−lim, lim]²`` (:func:`grid_lines`) after mapping
    them through ``fn``; ``labels`` names the axes and shows ticks (default: bare)."""
    ax = _axes(ax)
    rows, columns = grid_lines(lim, lines)
    for pts in rows + columns:
        out = pts if fn is None else fn(pts)  # (200, 2)
        ax.plot(out[:, 0].numpy(), out[:, 1].numpy(), color=color, lw=0.6)
    _square(ax, lim if view is None else view, labels)
    ax.set_title(title)
    return ax


def layers(
    flow: ToyFlow, z: torch.Tensor, lim: float = 2.5, grid_lim: float = 2.5, cols: int = 5,
) -> Figure:
    """Sampling layer by layer: ``z ~ N(0, I)`` and a grid, through each inverse coupling.

    Panel ``k`` shows the points and the grid after the last ``k`` couplings were inverted.
    """
    horizontal, vertical = grid_lines(grid_lim, 13)
    # per line: its states after each layer
    lines = [flow.trajectory(g, reverse=True) for g in horizontal + vertical]
    points = flow.trajectory(z, reverse=True)
    n = len(points)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.4 * rows))
    for k, ax in enumerate(np.ravel(axes)):
        if k >= n:
            ax.axis("off")
            continue
        for states in lines:
            ax.plot(states[k][:, 0].numpy(), states[k][:, 1].numpy(), color="0.75", lw=0.5)
        ax.scatter(points[k][:, 0].numpy(), points[k][:, 1].numpy(), s=1.5, color=SAMPLE_COLOR,
                   lw=0, alpha=0.6)
        _square(ax, lim)
        ax.set_title("z ~ N(0, I)" if k == 0 else f"after {k} inverse coupling{'s' * (k > 1)}",
                     fontsize=9)
    fig.tight_layout()
    return fig


@torch.no_grad()
def coupling_frame(
    layer: torch.nn.Module, a: float, b: float, lim: float = 1.2, view: float = 3.5,
) -> Figure:
    """One affine coupling acting on the plane: grid before and after, coloured by ``e^s``.

    ``layer`` maps ``(B, 2, 1, 1)`` images with the flow interface (e.g.
    :func:`nvp.book.toy.hand_coupling`); the colour of each cell is the local area change
    ``|det ∂y/∂x| = exp(s)``.
    """

    fn = point_map(layer)  # (N, 2) -> (N, 2)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(7.5, 3.6))
    warped_grid(None, ax0, lim=lim, view=view, title="before: x")
    c = torch.linspace(-lim, lim, 60)
    g1, g2 = torch.meshgrid(c, c, indexing="xy")
    pts = torch.stack((g1.flatten(), g2.flatten()), 1)  # (3600, 2)
    _, ldj = layer(pts.view(-1, 2, 1, 1), pts.new_zeros(len(pts)))
    y = fn(pts).view(60, 60, 2)  # (60, 60, 2)
    area = ldj.exp().view(60, 60)
    mesh = ax1.pcolormesh(y[..., 0].numpy(), y[..., 1].numpy(), area.numpy(), cmap="coolwarm",
                          norm=LogNorm(vmin=1 / 3, vmax=3), shading="gouraud")
    warped_grid(fn, ax1, lim=lim, view=view, color="0.2",
                title=f"after: y   (a = {a:+.1f}, b = {b:+.1f})")
    bar = fig.colorbar(mesh, ax=[ax0, ax1], label="area change  exp(s)", fraction=0.03,
                       ticks=[1 / 3, 1 / 2, 1, 2, 3])
    bar.ax.minorticks_off()
    bar.ax.set_yticklabels(["1/3", "1/2", "1", "2", "3"])
    return fig


def _points(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """Points as a float64 array ``(N, 2)``."""
    return torch.as_tensor(x).detach().cpu().double().reshape(-1, 2).numpy()  # (N, 2)


def coupling_points(
    x: torch.Tensor, y: torch.Tensor,
    lines: tuple[Sequence[torch.Tensor], Sequence[torch.Tensor]] | None = None,
    lim: float = 4.0, title: str | None = None, size: float = 3.2,
) -> Figure:
    """Points ``x`` (N, 2) and their images ``y`` (N, 2), coloured by the second coordinate.

    For a coupling that keeps ``x₂`` and transforms ``x₁ ↦ x₁·e^{s(x₂)} + t(x₂)``, every
    horizontal line is mapped onto itself, stretched and shifted. ``lines``: optional polylines
    ``(before, after)``, each a list of ``(M, 2)`` arrays, drawn in grey.
    """
    a, b = _points(x), _points(y)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 0.4, size), sharex=True, sharey=True)
    for k, (ax, pts, name) in enumerate(zip(axes, (a, b), ("input x", "output y"),
                                            strict=True)):
        for line in lines[k] if lines is not None else []:
            seg = _points(line)  # (M, 2)
            ax.plot(seg[:, 0], seg[:, 1], color="0.6", linewidth=0.7, zorder=1)
        ax.scatter(pts[:, 0], pts[:, 1], c=a[:, 1], cmap="viridis", s=6, zorder=2)
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("1st coordinate (transformed)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("2nd coordinate (kept)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
