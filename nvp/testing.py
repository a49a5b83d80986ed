"""The verification toolkit: check any flow numerically (tests, chapters 1–8).

A flow ``f`` maps ``(x, sldj) -> (y, sldj + log|det ∂y/∂x|)`` and back with ``reverse=True``
(:class:`nvp.Flow`). Three properties make it usable in a normalizing flow (paper §2–3):

* **invertible**: ``f⁻¹(f(x)) = x``;
* **correct log-determinant**: the ``sldj`` increment equals ``log|det J|`` of the Jacobian
  ``J = ∂y/∂x``, computed by brute force (:func:`jacobian`, then :func:`torch.linalg.slogdet`);
* **consistent inverse**: the reverse pass subtracts exactly what the forward pass added.

A check on a freshly built layer can pass by accident: an :class:`nvp.AffineCoupling` starts as the
identity (``s = t = 0``), whose log-determinant is 0 whatever the code computes. So
:func:`check_flow` first randomises (:func:`randomize_`) every parameter and batch-norm statistic
of a *copy* of the flow, and works in float64 so that tolerances can be tight.

* :func:`randomize_`: perturb parameters and batch-norm statistics in place.
* :func:`eval_mode`: run a block in eval mode and restore the previous mode after.
* :func:`jacobian`: the ``(D, D)`` Jacobian of a flow at one example.
* :func:`check_flow`: all three properties, per example (eval mode) or over a batch (train mode).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from .mode import eval_mode  # re-exported: the chapters and tests import it from here

__all__ = ["check_flow", "eval_mode", "jacobian", "randomize_"]
# the public batch-norm classes (nvp's GlobalBatchNorm2d is a BatchNorm2d)
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def randomize_(
    module: nn.Module, std: float = 0.3, generator: torch.Generator | None = None
) -> nn.Module:
    """Perturb every parameter by ``std·N(0, 1)`` and randomise batch-norm statistics, in place.

    A freshly built :class:`~nvp.AffineCoupling` is the identity (its last convolution starts at
    zero), so any log-determinant check on it passes trivially; randomise it first. Returns
    ``module`` so calls chain: ``randomize_(layer.double()).eval()``.
    """
    with torch.no_grad():
        for p in module.parameters():
            p.add_(std * torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device))
        for m in module.modules():
            if isinstance(m, BATCH_NORMS) and m.running_mean is not None:
                m.running_mean.normal_(0.0, 0.5, generator=generator)
                m.running_var.uniform_(0.5, 2.0, generator=generator)
    return module


def _call(flow: nn.Module, x: torch.Tensor, sldj: torch.Tensor, reverse: bool = False
          ) -> tuple[torch.Tensor, torch.Tensor]:
    out = flow(x, sldj, reverse=reverse)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise AssertionError(f"a flow must return a pair (y, sldj); got {type(out).__name__}")
    return out


def jacobian(flow: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``J[i, j] = ∂y_i/∂x_j`` of ``y, _ = flow(x, sldj)``, flattened to ``(D_out, D_in)``.

    ``x`` is one example with its batch axis, e.g. ``(1, C, H, W)``; or, in train mode, a whole
    batch, whose examples then interact through batch norm (the Jacobian is over the batch).
    """
    def f_flat(v: torch.Tensor) -> torch.Tensor:
        xv = v.view(x.shape)  # (B, C, H, W)
        return _call(flow, xv, xv.new_zeros(x.shape[0]))[0].flatten()  # (D_out,)

    return torch.autograd.functional.jacobian(f_flat, x.flatten())  # (D_out, D_in)


def _log_det_errors(f: nn.Module, x: torch.Tensor, ldj: torch.Tensor, train: bool,
                    atol: float) -> float:
    """Compare the claimed log-determinants ``ldj`` (B,) with ``slogdet`` of the Jacobian."""
    groups = [x] if train else [x[i:i + 1] for i in range(len(x))]  # one Jacobian per example
    claimed = [ldj.sum()] if train else list(ldj)
    exact = []
    for k, xs in enumerate(groups):
        sign, logabsdet = torch.linalg.slogdet(jacobian(f, xs))
        if sign == 0:
            raise AssertionError(f"the Jacobian of example {k} is singular: not invertible")
        exact.append(logabsdet)
    claimed_t, exact_t = torch.stack(claimed), torch.stack(exact)
    error = (claimed_t - exact_t).abs().max().item()
    if not error <= atol:
        raise AssertionError(
            f"log-determinant is wrong: the flow adds {claimed_t.tolist()} but log|det J| = "
            f"{exact_t.tolist()} (max error {error:.3g} > atol = {atol:g})")
    return error


def _there_and_back(f: nn.Module, x: torch.Tensor, sldj0: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """``f⁻¹(f(x))`` and its sldj, in eval mode; an ``AssertionError`` if ``f`` changes the
    caller's ``sldj`` in place, returns a wrongly shaped one, changes the number of dimensions,
    or is the identity on ``x`` (a check that would pass trivially)."""
    sldj0_copy = sldj0.clone()
    with torch.no_grad(), eval_mode(f):
        y, sldj_y = _call(f, x, sldj0)
        changed = not torch.equal(sldj0, sldj0_copy)  # right after forward
        x_back, sldj_back = _call(f, y, sldj_y, reverse=True)
    if changed or not torch.equal(sldj0, sldj0_copy):
        raise AssertionError("the flow changed the caller's sldj in place; "
                             "return a new tensor")
    if tuple(sldj_y.shape) != (x.shape[0],):
        raise AssertionError(f"sldj must have shape (B,) = ({x.shape[0]},), "
                             f"got {tuple(sldj_y.shape)}")
    if y.numel() != x.numel():
        raise AssertionError("a flow keeps the number of dimensions: "
                             f"{tuple(x.shape)} -> {tuple(y.shape)}")
    if torch.equal(y, x):
        raise AssertionError("the flow is the identity on this input, so "
                             "the check would pass trivially; randomise its "
                             "parameters (randomize=True)")
    return x_back, sldj_back


def check_flow(
    flow: nn.Module,
    shape: Sequence[int],
    dtype: torch.dtype = torch.float64,
    atol: float = 1e-8,
    x: torch.Tensor | None = None,
    randomize: bool = True,
    std: float = 0.3,
    seed: int = 0,
    train: bool = False,
) -> dict[str, float]:
    """Check that ``flow`` is invertible and its log-determinant is right.

    Works on a randomised copy, so ``flow`` itself is not changed::

        f⁻¹(f(x)) = x,   Δsldj = log|det ∂f/∂x|,   Δsldj(f) + Δsldj(f⁻¹) = 0

    Args:
        flow: an :class:`nvp.Flow`:
            ``flow(x, sldj, reverse=False) -> (y, sldj)``.
        shape: input shape with the batch first, e.g. ``(2, 4, 3, 3)``. Keep
            it tiny: the Jacobian has ``D × D`` entries.
        dtype: the precision of the check (float64 by default).
        atol: tolerance of every comparison.
        x: input to use instead of ``N(0, 1)`` draws (e.g. values in (0, 1)
            for a logit).
        randomize: perturb parameters and batch-norm statistics first (see
            module docstring).
        std: size of that perturbation.
        seed: seeds the perturbation and the input, so a failure can be
            repeated.
        train: check in train mode, where batch norm normalises by the
            batch's statistics: the examples interact, and the Jacobian of
            the whole batch must have ``log|det| = Σ_b Δsldj_b``. (The
            inverse of a train-mode pass is only exact with the same
            statistics, so the round trip is checked in eval mode either
            way.)

    Returns:
        the largest error of each check:
        ``{"round_trip", "log_det", "cancel"}``.

    Raises:
        AssertionError: with a message that names the property that failed
            and by how much.
    """
    gen = torch.Generator().manual_seed(seed)
    f = copy.deepcopy(flow).to(dtype)
    if randomize:
        randomize_(f, std=std, generator=gen)
    x = (torch.randn(tuple(shape), generator=gen, dtype=dtype)
         if x is None else x).to(dtype)
    # non-zero: increments must add
    sldj0 = torch.randn(x.shape[0], generator=gen, dtype=dtype)
    x_back, sldj_back = _there_and_back(f, x, sldj0)
    errors = {"round_trip": (x_back - x).abs().max().item()}
    if not errors["round_trip"] <= atol:
        raise AssertionError(
            f"inverse does not undo forward: max |f⁻¹(f(x)) − x| = "
            f"{errors['round_trip']:.3g} > atol = {atol:g}")
    f.train(train)
    with torch.no_grad():
        # (B,) what the forward pass claims
        ldj = _call(f, x, sldj0)[1] - sldj0
    errors["log_det"] = _log_det_errors(f, x, ldj, train, atol)
    errors["cancel"] = (sldj_back - sldj0).abs().max().item()
    if not errors["cancel"] <= atol:
        raise AssertionError(
            "reverse pass does not subtract what forward added: "
            f"sldj goes {sldj0.tolist()} -> {sldj_back.tolist()} "
            f"(max error {errors['cancel']:.3g} > atol = {atol:g})")
    return errors
