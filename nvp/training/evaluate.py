"""Held-out bits/dim, one path: per image, and :func:`evaluate` as their mean (paper §4.1).

An image's bits/dim is ``−log₂ P(x) / D``, bounded with dequantization noise ``u``::

    −log₂ P(x) / D ≤ −(log N(z; 0, I) + log|det ∂z/∂x̃| − log q(u | x)) / (D ln 2) + 8

(``log q = 0`` for uniform noise; :mod:`nvp.vardeq`). The noise comes from a seeded generator,
so numbers are comparable between epochs and between models; eval mode, restored after.

With ``K`` draws ``u₁ … u_K`` the bound is either averaged (``draws=K``) or, with
``importance_weighted=True``, tightened to ``log P(x) ≥ log (1/K) Σ_k p(x̃_k) / q(u_k | x)``
(Burda et al. 2016; the UvA tutorial's evaluation with K = 8), which approaches ``log P(x)``
as K grows.

Class-conditional models (:mod:`nvp.conditional`) score ``−log p(x | y)`` under the given
``labels``; :func:`class_log_likelihoods` scores every label, from which the marginal ``p(x)``
and the generative classifier follow.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..conditional import marginal_log_likelihood
from ..loss import nll
from ..mode import eval_mode


@torch.no_grad()
def log_likelihoods(
    model: nn.Module,
    data: torch.Tensor,
    *,
    labels: torch.Tensor | None = None,
    all_classes: bool = False,
    draws: int = 1,
    seed: int = 0,
    batch_size: int = 500,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``log P(x)`` of the 8-bit images, in nats, one bound per dequantization draw:
    ``(draws, N)`` float64 on the CPU (``log p(x | y)`` under ``labels`` for a conditional model).

    ``all_classes=True`` (class-conditional models): ``log p(x | y)`` for every label ``y`` with
    the same noise, ``(draws, N, K)``.
    """
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise ValueError(f"draws must be a positive integer, got {draws!r}")
    classes = getattr(model, "num_classes", 0)
    if all_classes and not classes:
        raise ValueError("all_classes needs a class-conditional model (num_classes > 0)")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    gen = torch.Generator(device=data.device).manual_seed(seed)
    out = torch.zeros(draws, len(data), classes if all_classes else 1, dtype=torch.float64)
    with eval_mode(model):
        for d in range(draws):
            for i in range(0, len(data), batch_size):
                x = data[i:i + batch_size]  # (b, C, H, W)
                u = torch.rand(x.shape, generator=gen, dtype=x.dtype, device=x.device)
                x, u = x.to(device), u.to(device)
                if all_classes:
                    ys = [torch.full((len(x),), k, dtype=torch.long, device=device)
                          for k in range(classes)]
                else:
                    ys = [None if labels is None else labels[i:i + batch_size].to(device)]
                for k, y in enumerate(ys):
                    z, sldj = model(x, noise=u, y=y)
                    out[d, i:i + len(x), k] = -nll(z, sldj).double().cpu()
    return out if all_classes else out[..., 0]


def combine_draws(ll: torch.Tensor, importance_weighted: bool = False) -> torch.Tensor:
    """One bound from the draws along dim 0: their mean, or ``log mean exp`` (importance
    weighted, never looser than the mean by Jensen's inequality)."""
    if importance_weighted:
        return torch.logsumexp(ll, dim=0) - math.log(ll.shape[0])
    return ll.mean(dim=0)


def to_bits_per_dim(ll: torch.Tensor, dims: int) -> torch.Tensor:
    """``−log P(x) / (D ln 2)`` from nats."""
    return -ll / (dims * math.log(2))


def image_bits_per_dim(
    model: nn.Module,
    data: torch.Tensor,
    *,
    draws: int = 1,
    seed: int = 0,
    batch_size: int = 500,
    device: torch.device | str | None = None,
    labels: torch.Tensor | None = None,
    importance_weighted: bool = False,
) -> torch.Tensor:
    """Bits/dim of every image of ``data`` ``(N, C, H, W)`` (values ``k/255``) from ``draws``
    dequantization draws (averaged, or importance weighted): ``(N,)`` float64 on the CPU.

    The noise is drawn on ``data``'s device from ``seed``; the model runs on ``device`` (default:
    the model's own). ``labels``: the images' labels, for a class-conditional model.
    """
    ll = log_likelihoods(model, data, labels=labels, draws=draws, seed=seed,
                         batch_size=batch_size, device=device)
    return to_bits_per_dim(combine_draws(ll, importance_weighted), data[0].numel())


def evaluate(
    model: nn.Module,
    data: torch.Tensor,
    *,
    draws: int = 1,
    seed: int = 0,
    batch_size: int = 500,
    device: torch.device | str | None = None,
    labels: torch.Tensor | None = None,
    importance_weighted: bool = False,
) -> float:
    """Mean bits/dim over ``data``: the mean of :func:`image_bits_per_dim` (the same
    keyword arguments)."""
    return image_bits_per_dim(model, data, draws=draws, seed=seed, batch_size=batch_size,
                              device=device, labels=labels,
                              importance_weighted=importance_weighted).mean().item()


def class_log_likelihoods(
    model: nn.Module,
    data: torch.Tensor,
    *,
    draws: int = 1,
    seed: int = 0,
    batch_size: int = 500,
    device: torch.device | str | None = None,
    importance_weighted: bool = False,
) -> torch.Tensor:
    """``log p(x | y)`` in nats for every image and every label, ``(N, K)`` float64: each
    label's bound from the same noise draws, combined over the draws."""
    ll = log_likelihoods(model, data, all_classes=True, draws=draws, seed=seed,
                         batch_size=batch_size, device=device)
    return combine_draws(ll, importance_weighted)


def conditional_report(
    model: nn.Module,
    data: torch.Tensor,
    labels: torch.Tensor,
    *,
    draws: int = 1,
    seed: int = 0,
    batch_size: int = 500,
    device: torch.device | str | None = None,
    importance_weighted: bool = False,
) -> dict[str, float]:
    """The three likelihoods of a class-conditional model on ``data`` and its classifier:

    ``conditional_bpd`` = mean of ``−log₂ p(x | y) / D`` under the true labels; ``marginal_bpd``
    = mean of ``−log₂ p(x) / D`` with ``log p(x) = logsumexp_y [log p(x | y) + log p(y)]``
    (uniform ``p(y)``, per draw, then combined over the draws);
    ``label_bits`` = mean of ``log₂ p(x | y) − log₂ p(x)`` per image: what the label tells about
    the pixels; ``accuracy`` of ``ŷ = argmax_y p(x | y) p(y)``.
    """
    ll = log_likelihoods(model, data, all_classes=True, draws=draws, seed=seed,
                         batch_size=batch_size, device=device)  # (draws, N, K)
    idx = labels.view(1, -1, 1).expand(ll.shape[0], -1, 1).cpu()
    cond = combine_draws(ll.gather(2, idx)[..., 0], importance_weighted)  # (N,)
    marginal = combine_draws(marginal_log_likelihood(ll.flatten(0, 1)).view(ll.shape[:2]),
                             importance_weighted)  # (N,)
    per_class = combine_draws(ll, importance_weighted)  # (N, K)
    dims = data[0].numel()
    return {
        "conditional_bpd": to_bits_per_dim(cond, dims).mean().item(),
        "marginal_bpd": to_bits_per_dim(marginal, dims).mean().item(),
        "label_bits": ((cond - marginal) / math.log(2)).mean().item(),
        "accuracy": (per_class.argmax(1) == labels.cpu()).double().mean().item(),
    }
