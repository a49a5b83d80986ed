"""Check any flow numerically: the test every invertible layer should pass (book chapter 8).

A flow ``f`` maps ``(x, sldj) -> (y, sldj + log|det ∂y/∂x|)`` and back with ``reverse=True``
(:class:`nvp.Flow`). Three properties make it usable in a normalizing flow (paper §2–3):

* **invertible**: ``f⁻¹(f(x)) = x``;
* **correct log-determinant**: the ``sldj`` increment equals ``log|det J|`` of the Jacobian
  ``J = ∂y/∂x``, computed here by brute force (:func:`torch.autograd.functional.jacobian`, then
  :func:`torch.linalg.slogdet`) on one example at a time;
* **consistent inverse**: the reverse pass subtracts exactly what the forward pass added, so
  ``sldj`` comes back to where it started.

A check on a freshly built layer can pass by accident: an :class:`nvp.AffineCoupling` starts as the
identity (``s = t = 0``), whose log-determinant is 0 whatever the code computes. So
:func:`check_flow` first randomises every parameter and batch-norm statistic of a *copy* of the
flow, works in float64 (so tolerances can be tight), and in eval mode (batch norm then maps each
example on its own, which a per-example Jacobian needs).
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode, _disable_current_modes

from .trace import randomize_


def _call(flow: nn.Module, x: torch.Tensor, sldj: torch.Tensor, reverse: bool
          ) -> tuple[torch.Tensor, torch.Tensor]:
    out = flow(x, sldj, reverse=reverse)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise AssertionError("a flow must return a pair (y, sldj); got "
                             f"{type(out).__name__}")
    return out


def check_flow(
    flow: nn.Module,
    shape: Sequence[int],
    dtype: torch.dtype = torch.float64,
    atol: float = 1e-8,
    x: torch.Tensor | None = None,
    randomize: bool = True,
    std: float = 0.3,
    seed: int = 0,
) -> dict[str, float]:
    """Check that ``flow`` is invertible and that its log-determinant is right.

    Works on a randomised copy, so ``flow`` itself is not changed. For every example ``x_b``::

        f⁻¹(f(x_b)) = x_b,     Δsldj_b = log|det ∂f/∂x (x_b)|,     Δsldj_b(f) + Δsldj_b(f⁻¹) = 0

    Args:
        flow: an :class:`nvp.Flow`: ``flow(x, sldj, reverse=False) -> (y, sldj)``.
        shape: input shape with the batch first, e.g. ``(2, 4, 3, 3)``. Keep it tiny: the
            Jacobian has ``D × D`` entries, ``D`` the size of one example.
        dtype: the precision of the check (float64 by default).
        atol: tolerance of every comparison.
        x: input to use instead of ``N(0, 1)`` draws (e.g. values in (0, 1) for a logit).
        randomize: perturb parameters and batch-norm statistics first (see module docstring).
        std: size of that perturbation.
        seed: seeds the perturbation and the input, so a failure can be repeated.

    Returns:
        the largest error of each check: ``{"round_trip", "log_det", "cancel"}``.

    Raises:
        AssertionError: with a message that names the property that failed and by how much.
    """
    gen = torch.Generator().manual_seed(seed)
    f = copy.deepcopy(flow).to(dtype)
    if randomize:
        randomize_(f, std=std, generator=gen)
    f.eval()  # batch norm: running statistics, each example on its own
    if x is None:
        x = torch.randn(tuple(shape), generator=gen, dtype=dtype)
    x = x.to(dtype)
    b = x.shape[0]
    sldj0 = torch.randn(b, generator=gen, dtype=dtype)  # a non-zero start: increments must add
    sldj0_copy = sldj0.clone()

    with torch.no_grad():
        y, sldj_y = _call(f, x, sldj0, reverse=False)
        x_back, sldj_back = _call(f, y, sldj_y, reverse=True)
    if not torch.equal(sldj0, sldj0_copy):
        raise AssertionError("the flow changed the caller's sldj in place; return a new tensor")
    if tuple(sldj_y.shape) != (b,):
        raise AssertionError(f"sldj must have shape (B,) = ({b},), got {tuple(sldj_y.shape)}")
    if y.numel() != x.numel():
        raise AssertionError(f"a flow keeps the number of dimensions: {tuple(x.shape)} -> "
                             f"{tuple(y.shape)}")
    if torch.equal(y, x):
        raise AssertionError("the flow is the identity on this input, so the check would pass "
                             "trivially; randomise its parameters (randomize=True)")

    errors = {"round_trip": (x_back - x).abs().max().item()}
    if not errors["round_trip"] <= atol:
        raise AssertionError(f"inverse does not undo forward: max |f⁻¹(f(x)) − x| = "
                             f"{errors['round_trip']:.3g} > atol = {atol:g}")

    ldj = sldj_y - sldj0  # (B,) what the forward pass claims
    exact = []
    for i in range(b):
        def f_flat(v: torch.Tensor, i: int = i) -> torch.Tensor:
            xi = v.view(1, *x.shape[1:])  # (1, C, H, W): one example
            return _call(f, xi, xi.new_zeros(1), reverse=False)[0].flatten()  # (D,)

        jac = torch.autograd.functional.jacobian(f_flat, x[i].flatten())  # (D, D)
        sign, logabsdet = torch.linalg.slogdet(jac)
        if sign == 0:
            raise AssertionError(f"the Jacobian of example {i} is singular: not invertible")
        exact.append(logabsdet)
    exact_t = torch.stack(exact)  # (B,)
    errors["log_det"] = (ldj - exact_t).abs().max().item()
    if not errors["log_det"] <= atol:
        raise AssertionError(
            f"log-determinant is wrong: the flow adds {ldj.tolist()} but log|det J| = "
            f"{exact_t.tolist()} (max error {errors['log_det']:.3g} > atol = {atol:g})")

    errors["cancel"] = (sldj_back - sldj0).abs().max().item()
    if not errors["cancel"] <= atol:
        raise AssertionError(
            f"reverse pass does not subtract what forward added: sldj goes {sldj0.tolist()} -> "
            f"{sldj_back.tolist()} (max error {errors['cancel']:.3g} > atol = {atol:g})")
    return errors


class OpCounter(TorchDispatchMode):
    """Counts the operators that reach the kernels (below autograd), on any device.

    Device-independent proxies for a GPU's costs (``benchmarks/profile_step.py``, the tests):
    ``sum(ops.values())`` ~ kernel launches; :attr:`syncs` ~ host–device synchronisations
    (``.item()``, ``bool(tensor)``: the host waits for the GPU); :attr:`from_python` ~ tensors
    built from Python data (``x[:, (0, 3)]``, ``torch.tensor([...])``: a host-to-device copy).

        with OpCounter() as counter:
            train_step(...)
        assert counter.syncs == 1
    """

    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[str(func.overloadpacket)] += 1
        return func(*args, **(kwargs or {}))

    @property
    def syncs(self) -> int:
        return self.ops["aten._local_scalar_dense"]

    @property
    def from_python(self) -> int:
        return self.ops["aten.lift_fresh"]


def uncounted(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, run outside any :class:`OpCounter`: ``optimizer.step = uncounted(optimizer.step)``
    (on CPU, Adam reads its step counts with ``.item()``, which is not a device sync there)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        with _disable_current_modes():
            return fn(*args, **kwargs)

    return call
