"""Helpers of chapter 10 (conditioning on the label): style transfer between labels, two simple
measures of a digit's style (ink, slant), calibration of a classifier and a confusion matrix.

The maths of class-conditional Real NVP lives in :mod:`nvp.conditional`; this module only draws
and measures for the book.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from ..loss import nll
from ..mode import eval_mode


def bin_centres(x: torch.Tensor) -> torch.Tensor:
    """The centre of each image's 8-bit dequantization bins, ``(255·x + 0.5) / 256``: a point
    where the model was trained (exact values ``k/255`` sit at the edge of their bins)."""
    return (torch.round(255 * x) + 0.5) / 256


@torch.no_grad()
def transfer_style(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor,
                   targets: torch.Tensor) -> torch.Tensor:
    """Encode each image of ``x`` ``(N, C, H, W)`` under its own label ``y`` ``(N,)`` and decode
    its code under each label of ``targets`` ``(K,)``: ``(N, K, C, H, W)`` in ``[0, 1]``.

    With a class prior the code ``z' = (z − μ_y)/σ_y`` is standardised for every label, so the
    same ``z'`` decoded under another label is that label's digit at the same place in its
    own prior.
    """
    with eval_mode(model):
        z, _ = model(bin_centres(x), dequantize=False, y=y)  # (N, C, H, W)
        out = []
        for k in targets.tolist():
            label = torch.full((len(x),), k, dtype=torch.long, device=x.device)
            out.append(model(z, reverse=True, y=label)[0])
    return torch.stack(out, dim=1)  # (N, K, C, H, W)


@torch.no_grad()
def prior_class_log_likelihoods(model: torch.nn.Module, x: torch.Tensor,
                                noise: torch.Tensor) -> torch.Tensor:
    """``log p(x | y)`` in nats for every image and label, ``(N, K)`` float64, from ONE pass
    through the flow: only for ``conditioning="prior"``, where the code ``z`` before the class
    prior does not depend on the label, so ``log p(x | y) = log N(z; μ_y, σ_y²) + sldj``.

    ``noise``: the uniform dequantization draw ``u₀`` ``(N, C, H, W)`` (the same for every
    label). Equal to :func:`nvp.training.evaluate.class_log_likelihoods` with that noise, at a
    tenth of its cost for ten labels.
    """
    if getattr(model, "conditioning", None) != "prior" or not model.num_classes:
        raise ValueError("prior_class_log_likelihoods needs conditioning='prior'")
    with eval_mode(model):
        y0 = torch.zeros(len(x), dtype=torch.long, device=x.device)
        z0, sldj0 = model(x, noise=noise, y=y0)
        z, sldj = model.prior(z0, sldj0, reverse=True, y=y0)  # the code before the prior
        out = []
        for k in range(model.num_classes):
            zk, sk = model.prior(z, sldj, y=torch.full_like(y0, k))
            out.append(-nll(zk, sk).double())
    return torch.stack(out, dim=1).cpu()  # (N, K)


def ink(x: torch.Tensor) -> torch.Tensor:
    """Mean grey level of each image ``(..., H, W)``: how much ink (thick strokes: more)."""
    return x.flatten(-2).mean(-1)


def slant(x: torch.Tensor) -> torch.Tensor:
    """Slant of each image ``(..., H, W)`` from its ink's second moments: ``cov(col, row) /
    var(row)``, the horizontal shift per row going down (a digit leaning right: negative, as
    rows count downwards)."""
    h, w = x.shape[-2:]
    rows = torch.arange(h, dtype=x.dtype, device=x.device).view(h, 1)
    cols = torch.arange(w, dtype=x.dtype, device=x.device).view(1, w)
    mass = x.sum((-2, -1)).clamp_min(1e-8)
    mr = (x * rows).sum((-2, -1)) / mass
    mc = (x * cols).sum((-2, -1)) / mass
    dr = rows - mr[..., None, None]
    dc = cols - mc[..., None, None]
    cov = (x * dr * dc).sum((-2, -1)) / mass
    var = (x * dr * dr).sum((-2, -1)) / mass
    return cov / var.clamp_min(1e-8)


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Pearson correlation of two 1-D tensors."""
    a, b = a.double() - a.double().mean(), b.double() - b.double().mean()
    return (a @ b / (a.norm() * b.norm()).clamp_min(1e-12)).item()


def calibration(proba: torch.Tensor, labels: torch.Tensor, bins: int = 10) -> dict[str, float]:
    """How well a classifier's confidence ``max_y p(y | x)`` matches its accuracy.

    ``proba`` ``(N, K)``, ``labels`` ``(N,)``. Returns ``accuracy``, ``ece`` (expected
    calibration error: the mean over equal-width confidence bins of ``|accuracy − confidence|``,
    weighted by the share of images in the bin), ``confidence_right`` and ``confidence_wrong``
    (mean confidence of right and wrong answers; NaN when there are none).
    """
    confidence, guess = proba.max(dim=1)
    right = guess == labels
    edges = torch.linspace(0, 1, bins + 1, dtype=confidence.dtype)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            gap = right[inside].double().mean() - confidence[inside].double().mean()
            ece += inside.double().mean().item() * abs(gap.item())
    return {
        "accuracy": right.double().mean().item(),
        "ece": ece,
        "confidence_right": confidence[right].double().mean().item(),
        "confidence_wrong": confidence[~right].double().mean().item(),
    }


def confusion_matrix(labels: torch.Tensor, guesses: torch.Tensor, k: int = 10) -> torch.Tensor:
    """``(k, k)`` counts: row = true label, column = the classifier's answer."""
    counts = torch.zeros(k * k, dtype=torch.long)
    counts.index_add_(0, labels.long() * k + guesses.long(), torch.ones_like(labels.long()))
    return counts.view(k, k)


def plot_confusions(matrices: dict[str, torch.Tensor], width: float = 6.8) -> Figure:
    """One confusion matrix per classifier side by side, counts written in the off-diagonal
    cells that are not zero (the diagonal: the right answers, shaded)."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(width, width / len(matrices) + 0.4),
                             squeeze=False)
    for ax, (name, m) in zip(axes[0], matrices.items(), strict=True):
        k = m.shape[0]
        ax.imshow(m.numpy(), cmap="Blues", vmin=0, vmax=int(m.sum(1).max()))
        for i in range(k):
            for j in range(k):
                if m[i, j] and i != j:
                    ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=7,
                            color="tab:red")
        ax.set(xticks=range(k), yticks=range(k), xlabel="answer", ylabel="true label",
               title=f"{name}: {int(m.trace())} of {int(m.sum())} right")
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def plot_design_curves(curves: dict[str, list[float]], width: float = 6.8,
                       ylim: tuple[float, float] | None = None,
                       ax: plt.Axes | None = None) -> Figure:
    """Validation bits/dim after each epoch, one line per design (``{name: [bpd, ...]}``)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(width, 3.0))
    else:
        fig = ax.figure
    for name, values in curves.items():
        style = "--" if name.startswith("none") else "-"
        ax.plot(range(1, len(values) + 1), values, style, label=name, linewidth=1.5)
    ax.set(xlabel="epoch", ylabel="validation bits/dim")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig
