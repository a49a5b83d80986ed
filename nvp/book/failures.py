"""Training failures, reproduced small: the helpers of chapter 7 ("When training goes wrong").

Each failure of the chapter runs in seconds on a CPU, so the helpers here are short and
deterministic:

* :func:`short_run`: a few training steps of a fresh model on fixed images, bits/dim per step;
  it stops where ``nvp`` stops, at the first non-finite loss, and says at which step.
* :func:`watch_scales`: records the largest log-scale ``|s|`` every coupling layer uses (the
  unbounded ``s = s_raw`` of many implementations is ``Config(bounded_scale=False)``).
* :func:`typical`: which images score bits/dim typical of the training data (not just low).
* :func:`plot_runs`: bits/dim per step of several runs on one figure; :func:`plot_codes`: a
  histogram of latent codes against the prior.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from torch import nn
from torch.nn.modules.module import (
    register_module_forward_hook,
    register_module_forward_pre_hook,
)

from ..coupling import AffineCoupling
from ..training.config import Config
from ..training.steps import make_optimizer, train_step


@dataclass
class ScaleRecord:
    """What :func:`watch_scales` saw: the largest ``|s|`` used by any coupling layer."""

    largest: float = 0.0  # max |s|
    highest: float = -math.inf  # max s: exp(s) overflows float32 above 88.72
    per_call: list[float] = field(default_factory=list)  # max |s| of each s_t call


@contextmanager
def watch_scales() -> Iterator[ScaleRecord]:
    """Record the log-scales ``s`` that every :class:`~nvp.AffineCoupling` uses in the block
    (every model, including one that ``nvp.train`` builds inside it), changing nothing.

    Through PyTorch's global module hooks (``torch.nn.modules.module``): before a coupling runs,
    a pre-hook notes it; when its s/t network returns ``(s_raw, t)``, a hook computes the ``s``
    the coupling makes of it (``scale·tanh(s_raw)``, or ``s_raw`` when built with
    ``bounded=False``: ``Config(bounded_scale=False)``). The hooks are removed after the block,
    even on an error.
    """
    record = ScaleRecord()
    running: list[AffineCoupling] = []  # the coupling whose s/t network is running

    def before(module: nn.Module, args: tuple) -> None:
        if isinstance(module, AffineCoupling):
            running.append(module)

    def after(module: nn.Module, args: tuple, out: object) -> None:
        if isinstance(module, AffineCoupling):
            running.pop()
        elif running and module is running[-1].st_net:
            coupling = running[-1]
            s_raw = out.detach().chunk(2, dim=1)[0].to(args[0].dtype)  # (B, c, H, W)
            s = coupling.scale.detach() * torch.tanh(s_raw) if coupling.bounded else s_raw
            if coupling.mask_type == "checkerboard":  # the kept entries' s is never used
                s = s * (1 - coupling.mask(s))
            if s.numel():
                big = s.abs().max().item()
                record.per_call.append(big)
                record.largest = max(record.largest, big)
                record.highest = max(record.highest, s.max().item())

    hooks = [register_module_forward_pre_hook(before), register_module_forward_hook(after)]
    try:
        yield record
    finally:
        for h in hooks:
            h.remove()


@dataclass
class ShortRun:
    """Bits/dim of every step of :func:`short_run`; ``failed_at`` is the 1-based step whose loss
    was not finite (``None`` if every step was), ``model`` the model as it ended."""

    bpd: list[float]
    failed_at: int | None
    model: nn.Module


def short_run(config: Config, data: torch.Tensor, steps: int, seed: int = 0,
              dequantize: bool = True) -> ShortRun:
    """``steps`` training steps of a fresh ``config.build_model()`` (seeded) on ``data``.

    Batch ``k`` is ``data``'s images ``k·B … (k+1)·B − 1`` (cycling, B = ``config.batch_size``),
    with noise from a generator seeded ``seed``: every call with the same arguments takes the
    same steps. Each step is :func:`nvp.training.train_step` (constant ``config.lr``), which
    raises ``FloatingPointError`` on a non-finite loss before touching the weights; the run
    stops there and records the step. ``dequantize=False`` trains on the bins' lower edges
    ``x̃ = k/256`` (noise ``u = 0``) instead of filling the bins: exact pixel values.
    """
    torch.manual_seed(seed)
    model = config.build_model()
    optimizer = make_optimizer(model, config)
    gen = torch.Generator().manual_seed(seed)
    n_dims = math.prod(data.shape[1:])
    model.train()
    bpd: list[float] = []
    b = config.batch_size
    for k in range(steps):
        idx = torch.arange(k * b, (k + 1) * b) % len(data)
        x = data[idx]  # (B, C, H, W)
        u = torch.rand(x.shape, generator=gen, dtype=x.dtype)  # (B, C, H, W)
        if not dequantize:
            u = torch.zeros_like(u)
        try:
            loss = train_step(model, optimizer, x, u, config)
        except FloatingPointError:
            return ShortRun(bpd, k + 1, model)
        bpd.append(loss / (n_dims * math.log(2)))  # nats per image → bits/dim
    return ShortRun(bpd, None, model)


def typical(bpd: torch.Tensor, reference: torch.Tensor, k: float = 3.0) -> torch.Tensor:
    """``True`` where ``bpd`` lies within ``k`` standard deviations of ``reference``'s mean.

    The idea of a typicality test (Nalisnick et al. 2019, arXiv:1906.02994): an image from the
    training distribution scores bits/dim *like* the training images, neither much higher nor
    much lower. A bare likelihood threshold only rejects the high side.
    """
    mean, std = reference.mean(), reference.std()
    return (bpd - mean).abs() <= k * std


def plot_runs(runs: Mapping[str, Sequence[float]], title: str | None = None,
              failed: Mapping[str, int | None] | None = None, logy: bool = True,
              ylim: tuple[float, float] | None = None,
              figsize: tuple[float, float] = (6.0, 3.0)) -> Figure:
    """Bits/dim per step of several runs, one line each (log scale unless ``logy=False``); a
    dotted vertical line where a run's loss stopped being finite (``failed[name]``, 1-based)."""
    fig, ax = plt.subplots(figsize=figsize)
    for name, values in runs.items():
        (line,) = ax.plot(range(1, len(values) + 1), list(values), lw=1.4, label=name)
        at = (failed or {}).get(name)
        if at is not None:
            ax.axvline(at, color=line.get_color(), ls=":", lw=1.5)
            ax.text(at, 0.5, f"{name}: loss not finite at step {at} ", rotation=90,
                    transform=ax.get_xaxis_transform(), ha="right", va="center", fontsize=8,
                    color=line.get_color())
    if logy:
        ax.set_yscale("log")
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    else:
        ax.axhline(0.0, color="0.3", lw=0.8)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("optimisation step")
    ax.set_ylabel("bits/dim of the batch")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_codes(codes: torch.Tensor, name: str, limit: float = 8.0,
               figsize: tuple[float, float] = (6.0, 2.6)) -> Figure:
    """Histogram of every entry of ``codes`` (density, log scale) against the prior N(0, 1);
    entries beyond ``±limit`` are counted in the outermost bins."""
    fig, ax = plt.subplots(figsize=figsize)
    values = codes.detach().flatten().float().clamp(-limit, limit).cpu().numpy()
    ax.hist(values, bins=80, range=(-limit, limit), density=True, color="0.6",
            label=f"codes of {name}")
    grid = torch.linspace(-limit, limit, 321)
    ax.plot(grid.numpy(), torch.distributions.Normal(0.0, 1.0).log_prob(grid).exp().numpy(),
            label="N(0, 1)")
    ax.set_yscale("log")
    ax.set_ylim(1e-5, 1)
    ax.set_xlabel(f"z (std {codes.std():.2f}; values beyond ±{limit:g} in the edge bins)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
