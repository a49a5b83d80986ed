"""Looking inside a Real NVP model: shape traces, compute counts, latent scales (paper §3.6).

:func:`trace` replays :meth:`nvp.RealNVP.flow` one step at a time (the model's own coupling
modules and squeeze functions, in the model's order) and records, for every step, its input and
output shape, its mask, its parameters and its convolution multiply-accumulates. It then checks
that the replay produced *exactly* the ``z`` and ``sldj`` of ``model.flow``, so the table cannot
drift from the model it describes. :func:`trace_table` shows the rows as a
:class:`~nvp.book.table.Table`.

The multi-scale architecture (paper Figure 4(b)): at each scale but the last::

    x -> 3 checkerboard couplings -> squeeze -> 3 channel-wise couplings -> unsqueeze
      -> squeeze_alt -> split: half goes on to the next scale, half is factored out into z

:func:`latent_scales` answers "which entries of ``z`` went through which scale" empirically.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from ..coupling import CHECKERBOARD, AffineCoupling
from ..mode import eval_mode
from ..model import RealNVP
from ..squeeze import squeeze, squeeze_alt, unsqueeze, unsqueeze_alt
from ..testing import randomize_
from .table import Table

Shape = tuple[int, ...]
Step = Callable[[torch.Tensor], torch.Tensor]  # a step without log-determinant, e.g. squeeze


def num_params(module: nn.Module) -> int:
    """Number of trainable scalars (weight norm counts both ``g`` and ``v``)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@contextmanager
def _conv_macs(module: nn.Module) -> Iterator[list[int]]:
    """Count multiply-accumulates of every ``Conv2d`` in ``module`` (per example) while active."""
    total = [0]

    def hook(conv: nn.Conv2d, _inputs: tuple, out: torch.Tensor) -> None:
        kh, kw = conv.kernel_size
        total[0] += out[0].numel() * (conv.in_channels // conv.groups) * kh * kw

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, nn.Conv2d)]
    try:
        yield total
    finally:
        for h in handles:
            h.remove()


def count_macs(module: nn.Module, *args: object, **kwargs: object) -> int:
    """Convolution multiply-accumulates per example of one call ``module(*args, **kwargs)``.

    For a conv with kernel ``k×k``: ``MACs = (C_out·H_out·W_out) · (C_in/groups) · k²``.
    """
    with torch.no_grad(), _conv_macs(module) as total:
        module(*args, **kwargs)
    return total[0]


def describe_mask(coupling: AffineCoupling) -> str:
    """Which part a coupling keeps (paper Figure 3).

    ``"checkerboard, keep even"``: keeps pixels with ``i + j`` even (odd with ``reverse_mask``);
    ``"channels, keep 2nd half"``: keeps the second half of the channels (first with
    ``reverse_mask``).
    """
    if coupling.mask_type == CHECKERBOARD:
        return f"checkerboard, keep {'odd' if coupling.reverse_mask else 'even'}"
    return f"channels, keep {'1st' if coupling.reverse_mask else '2nd'} half"


@dataclass(frozen=True)
class TraceRow:
    """One step of the flow. Shapes are per example ``(C, H, W)``; ``macs`` per example."""

    name: str  # e.g. "coupling 2" (numbered within its scale), "squeeze"
    op: str  # "logit", "coupling", "squeeze", "unsqueeze", "squeeze_alt", "split", "merge"
    scale: int | None  # index of its scale, from 0: model.scales[scale], the paper's f^(scale+1)
    in_shape: Shape
    out_shape: Shape
    mask: str = ""
    params: int = 0
    macs: int = 0

    @property
    def dims(self) -> int:
        """Number of dimensions entering the step."""
        return math.prod(self.in_shape)


class _Replay:
    """The state of a replay of :meth:`nvp.RealNVP.flow`: the current ``x`` ``(1, C, H, W)`` and
    ``sldj`` ``(1,)``, the rows recorded so far, and the halves factored out at each scale."""

    def __init__(self, x: torch.Tensor, macs: list[int]) -> None:
        self.x, self.sldj = x, x.new_zeros(1)
        self.macs = macs  # running count of conv MACs (see _conv_macs)
        self.rows: list[TraceRow] = []
        self.factored: list[torch.Tensor] = []

    def step(self, name: str, op: str, scale: int | None, fn: Step | None = None,
             mod: nn.Module | None = None) -> None:
        """Apply a plain function ``fn`` (no log-det) or a flow module ``mod``; record a row."""
        before, in_shape = self.macs[0], tuple(self.x.shape[1:])
        if mod is None:
            self.x = fn(self.x)
        else:
            self.x, self.sldj = mod(self.x, self.sldj)
        mask = describe_mask(mod) if isinstance(mod, AffineCoupling) else ""
        self.rows.append(TraceRow(name, op, scale, in_shape, tuple(self.x.shape[1:]), mask,
                                  num_params(mod) if mod is not None else 0,
                                  self.macs[0] - before))

    def split(self, x: torch.Tensor) -> torch.Tensor:
        """Keep the first half of the channels; factor out the second."""
        keep, out = x.chunk(2, dim=1)  # (1, 2C, H/2, W/2) each
        self.factored.append(out)
        return keep


def _sup(i: int) -> str:
    """``"⁽ⁱ⁾"``: the paper's superscript of the i-th factored-out part, ``z⁽¹⁾``, in text."""
    return "⁽" + str(i).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")) + "⁾"


def _merge(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Put a factored-out half back: ``unsqueeze_alt([x, out])``, ``(1, C, H, W)``."""
    return unsqueeze_alt(torch.cat((x, out), dim=1))


def _replay_scales(replay: _Replay, model: RealNVP) -> None:
    """The steps of ``model.flow``, in its order (paper Figure 4(b))."""
    last = len(model.scales) - 1
    for i, sc in enumerate(model.scales):
        for k, c in enumerate(sc.in_couplings):
            replay.step(f"coupling {k}", "coupling", i, mod=c)
        if sc.out_couplings is not None:
            replay.step("squeeze", "squeeze", i, squeeze)  # (4C, H/2, W/2)
            for k, c in enumerate(sc.out_couplings, start=len(sc.in_couplings)):
                replay.step(f"coupling {k}", "coupling", i, mod=c)
            replay.step("unsqueeze", "unsqueeze", i, unsqueeze)  # (C, H, W)
        if i < last:
            replay.step("squeeze_alt", "squeeze_alt", i, squeeze_alt)  # (4C, H/2, W/2)
            replay.step(f"split: factor out z{_sup(i + 1)}", "split", i,
                        replay.split)  # (2C, H/2, W/2)
    for j in reversed(range(len(replay.factored))):
        replay.step(f"merge: z{_sup(j + 1)} back in place", "merge", j,
                    functools.partial(_merge, out=replay.factored[j]))  # (C, H, W)


def trace(model: RealNVP, image_shape: Sequence[int]) -> list[TraceRow]:
    """Shape trace of ``model`` on one image of shape ``(C, H, W)``, in execution order.

    Runs in eval mode without gradients (batch-norm statistics are not touched) and raises
    ``RuntimeError`` if the replay disagrees with ``model.flow``.
    """
    if not isinstance(model, RealNVP):
        raise TypeError(f"trace needs an nvp.RealNVP, got {type(model).__name__}")
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3:
        raise ValueError(f"image_shape must be (C, H, W), got {shape}")
    param = next(model.parameters())
    # fork_rng: tracing does not change the caller's random numbers
    with torch.no_grad(), eval_mode(model), _conv_macs(model) as macs, \
            torch.random.fork_rng(devices=[]):
        x = torch.rand(1, *shape, dtype=param.dtype, device=param.device) * 0.9 + 0.05
        replay = _Replay(x, macs)
        replay.step("logit (pre-processing)", "logit", None, mod=model.logit)
        y0, sldj0 = replay.x.clone(), replay.sldj.clone()
        _replay_scales(replay, model)
        z, sldj = model.flow(y0, sldj0)
        if not (torch.equal(z, replay.x) and torch.equal(sldj, replay.sldj)):
            raise RuntimeError("trace is out of sync with RealNVP.flow: update nvp/book/trace.py")
    return replay.rows


def latent_scales(model: RealNVP, image_shape: Sequence[int]) -> torch.Tensor:
    """``(C, H, W)`` integer map: the last scale each entry of ``z`` passed through, as its
    index in ``model.scales`` (0 for the entries of the paper's ``z⁽¹⁾``, 1 for ``z⁽²⁾``, ...).

    Found empirically: perturbing the parameters of scale ``j`` changes exactly the entries of
    ``z`` that went through scale ``j``; entries factored out earlier never see it. Works on a
    randomised float64 copy, so ``model`` is not changed.
    """
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        m = randomize_(copy.deepcopy(model).double()).eval()
        y = torch.randn(1, *image_shape, dtype=torch.float64, device=next(m.parameters()).device)
        z0, _ = m.flow(y, y.new_zeros(1))
        levels = torch.full(z0.shape[1:], -1, dtype=torch.long)
        for j, sc in enumerate(m.scales):
            saved = copy.deepcopy(sc.state_dict())
            randomize_(sc)
            z1, _ = m.flow(y, y.new_zeros(1))
            levels[(z1 != z0)[0].cpu()] = j  # later scales overwrite: the last one wins
            sc.load_state_dict(saved)
    if (levels < 0).any():
        raise RuntimeError("some entries of z went through no scale")
    return levels


def trace_table(rows: Sequence[TraceRow]) -> Table:
    """The trace as a :class:`Table`: scale, step, shapes ``C×H×W``, mask, parameters and
    thousands of MACs (rounded; the rows keep exact counts). Scales are numbered from 1, as the
    paper's ``f⁽ⁱ⁾`` that factors out ``z⁽ⁱ⁾``: the row of ``model.scales[0]`` says 1."""
    header = ["scale", "step", "in", "out", "mask", "params", "kMACs"]
    return Table(header, [[None if r.scale is None else r.scale + 1, r.name, r.in_shape,
                           r.out_shape, r.mask, r.params, round(r.macs / 1000)]
                          for r in rows])
