"""Conditioning Real NVP on a class label ``y`` (chapter 10): ``p(x | y)`` instead of ``p(x)``.

Two standard ways, usable alone or together (``RealNVP(num_classes=K, conditioning=...)``):

* ``"st"``: every s/t network also sees the label, as ``K`` one-hot planes joined to its input
  (the ``context`` of :class:`~nvp.AffineCoupling`). The couplings stay triangular in ``x``: the
  label is a constant for the Jacobian ``∂z/∂x``, so each layer's log-det is still ``Σ s``.
* ``"prior"``: a label-dependent Gaussian prior ``z ~ N(μ_y, diag σ_y²)`` (Glow's class-conditional
  prior, Kingma & Dhariwal 2018, §5 and appendix), written here as one more flow,
  ``z' = (z − μ_y) / σ_y`` with log-det ``−Σ log σ_y`` (:class:`ClassPrior`), so that ``z'`` is
  standard normal for every label and ``nvp.bits_per_dim(z', sldj)`` is ``−log₂ p(x | y) / D``
  as before.

The label's likelihoods (chapter 10)::

    log p(x) = logsumexp_y [log p(x | y) + log p(y)]          (the marginal)
    ŷ = argmax_y  log p(x | y) + log p(y)                     (a generative classifier)
"""

from __future__ import annotations

import math
import typing
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from .flows import Flow

Conditioning = Literal["st", "prior", "both"]
CONDITIONINGS = typing.get_args(Conditioning)


def check_labels(y: object, batch: int, num_classes: int, validate: bool = True) -> torch.Tensor:
    """Labels for a batch of ``batch`` images: an integer tensor ``(batch,)`` with values in
    ``[0, num_classes)``; ``validate=False`` skips the range check (its host sync)."""
    if num_classes == 0:
        raise ValueError("this model is unconditional (num_classes = 0): call it without y, or "
                         "build it with num_classes=K to condition on labels")
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"y must be a torch.Tensor of class indices, shape ({batch},), got "
                        f"{type(y).__name__}; e.g. torch.tensor([3, 1, 4])")
    if y.dtype == torch.bool or y.is_floating_point() or y.is_complex():
        raise TypeError(f"y must hold integer class indices (torch.long), got dtype {y.dtype}")
    if tuple(y.shape) != (batch,):
        raise ValueError(f"y must have shape ({batch},), one label per image, "
                         f"got {tuple(y.shape)}")
    if validate and not bool(((y >= 0) & (y < num_classes)).all()):
        raise ValueError(f"labels must be in 0..{num_classes - 1}, got values in "
                         f"{int(y.min())}..{int(y.max())}")
    return y


def label_planes(y: torch.Tensor, num_classes: int,
                 dtype: torch.dtype) -> torch.Tensor:
    """One-hot labels ``(B, K, 1, 1)``; each coupling expands them to its
    own ``H × W``."""
    one_hot = F.one_hot(y.long(), num_classes).to(dtype)  # (B, K)
    return one_hot[:, :, None, None]  # (B, K, 1, 1)


class ClassPrior(Flow):
    """The label-dependent prior ``N(μ_y, σ_y²)`` as a flow:
    ``z' = (z − μ_y) · exp(−log σ_y)``.

    One learned mean and log-scale per class and per dimension of ``z``
    (``K × C × H × W`` each), starting at 0 (the standard normal prior).
    ``log|det ∂z'/∂z| = −Σ log σ_y``.
    """

    def __init__(self, num_classes: int,
                 shape: tuple[int, int, int]) -> None:
        super().__init__()
        k = num_classes
        self.mean = nn.Parameter(torch.zeros(k, *shape))  # (K, C, H, W)
        self.log_scale = nn.Parameter(torch.zeros(k, *shape))  # (K, C, H, W)

    def forward(
        self, z: torch.Tensor, sldj: torch.Tensor, reverse: bool = False,
        y: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if y is None:
            raise ValueError("ClassPrior needs the labels y")
        # (B, C, H, W) each
        mean, log_scale = self.mean[y], self.log_scale[y]
        ldj = log_scale.flatten(1).sum(-1)  # Σ log σ_y, (B,)
        if reverse:
            return z * torch.exp(log_scale) + mean, sldj + ldj
        return (z - mean) * torch.exp(-log_scale), sldj - ldj


def log_prior(num_classes: int) -> torch.Tensor:
    """``log p(y)`` of the uniform label prior, ``(K,)`` (MNIST-5k has 500
    digits of each class)."""
    k = num_classes
    return torch.full((k,), -math.log(k), dtype=torch.float64)


def marginal_log_likelihood(per_class: torch.Tensor) -> torch.Tensor:
    """``log p(x) = logsumexp_y [log p(x | y) + log p(y)]`` from
    ``per_class`` = ``log p(x | y)``, ``(N, K)``."""
    prior = log_prior(per_class.shape[1]).to(per_class.device)  # (K,)
    return torch.logsumexp(per_class.double() + prior, dim=1)  # (N,)


def classify(per_class: torch.Tensor) -> torch.Tensor:
    """``ŷ = argmax_y p(x | y) p(y)``: with a uniform ``p(y)``, the argmax
    of ``per_class``, ``(N,)``."""
    return per_class.argmax(dim=1)
