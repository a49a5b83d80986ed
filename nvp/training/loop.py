"""Training by maximum likelihood (paper §4.1): epochs, held-out scores, checkpoints, resume.

Held-out data: with ``Config.validation = N``, N random training images are set aside and choose
the best epoch; the test split is never read during training (score it once, at the end, with
``python -m nvp evaluate --split test``). With ``validation = 0`` the test split plays that role.

Reproducibility: every epoch draws its shuffling, flips and dequantization noise from a seed
derived from ``(config.seed, epoch)``, so a run resumed from the checkpoint of epoch k continues
exactly as the uninterrupted run would have.

Speed: small data sets live on the GPU; ``cudnn.benchmark`` picks convolution algorithms once;
``config.compile`` adds ``torch.compile``; ``config.precision`` runs the s/t networks of training
steps in bf16, or chooses by timing both (:mod:`nvp.training.precision`). Several processes
(``torchrun``): see :mod:`nvp.training.distributed`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import torch
from torch import nn
from tqdm.auto import tqdm

from ..checks import check_unit_interval
from ..loss import weight_norm_scales
from ..model import RealNVP
from .average import WeightAverage
from .checkpoint import FORMAT, load_checkpoint, save_checkpoint
from .config import Config
from .distributed import Distributed
from .evaluate import evaluate
from .precision import choose_precision
from .steps import (
    StepClock,
    default_device,
    epoch_batches,
    learning_rate,
    make_optimizer,
    run_data,
    train_step,
)


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: torch.Tensor,
    config: Config,
    epoch: int,
    *,
    step: int = 0,
    progress: bool = True,
    on_step: Callable[[int, float], None] | None = None,
    dist: Distributed | None = None,
    average: WeightAverage | None = None,
    labels: torch.Tensor | None = None,
) -> tuple[float, int]:
    """One pass over ``data`` (with its ``labels``, class-conditional models); returns (mean
    train bits/dim, global step count)."""
    check_unit_interval(data, "training data")  # once per epoch, so that steps need not
    n_dims = math.prod(data.shape[1:])
    scales = weight_norm_scales(model)
    model.train()
    total, count = 0.0, 0
    steps_per_epoch = math.ceil(len(data) / config.batch_size)
    bar = tqdm(epoch_batches(data, config, epoch, dist, labels), desc=f"epoch {epoch + 1}",
               leave=False, total=steps_per_epoch, disable=not progress)
    for x, u, n, y in bar:
        if config.lr_schedule != "constant":  # otherwise the optimizer's own rate stands
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, step, config.epochs * steps_per_epoch)
        step += 1
        try:
            loss = train_step(model, optimizer, x, u, config, total=n, dist=dist,
                              scales=scales, y=y)
        except FloatingPointError as err:
            raise FloatingPointError(f"at step {step} (epoch {epoch + 1}): {err}") from None
        if average is not None:
            average.update()
        bpd = loss / (n_dims * math.log(2))
        total += bpd * n
        count += n
        bar.set_postfix(loss=f"{loss:.1f}", bpd=f"{bpd:.3f}")
        if on_step is not None:
            on_step(step, bpd)
    return total / count, step


class Metrics(TypedDict, total=False):
    """What a run records (stored in its checkpoints as a plain dict, read as one)."""

    train_bpd: list[float]  # mean training bits/dim of each epoch
    heldout_bpd: list[float]  # held-out bits/dim after each epoch (the scored weights)
    step_bpd: list[float]  # training bits/dim of every step
    best_heldout_bpd: float | None  # the best of heldout_bpd, and its epoch (from 1)
    best_epoch: int | None
    heldout: str  # "validation" (Config.validation > 0) or "test"
    raw_heldout_bpd: list[float]  # with Config.ema: the trained weights themselves
    precision: str  # what precision="auto" chose


def compile_errors() -> tuple[type[BaseException], ...]:
    """The exceptions ``torch.compile`` raises when it cannot compile a model.

    ``torch._dynamo.exc.TorchDynamoException`` is private (torch 2.x; present in 2.13) and has
    no public equivalent; an empty tuple (catching nothing) if it moves.
    ``tests/test_perf_paths.py`` notices when it does.
    """
    exc = getattr(getattr(torch, "_dynamo", None), "exc", None)
    error = getattr(exc, "TorchDynamoException", None)
    return (error,) if isinstance(error, type) else ()


@dataclass
class Run:
    """What a training run carries from epoch to epoch (and writes in its checkpoints)."""

    config: Config
    model: RealNVP
    optimizer: torch.optim.Optimizer
    average: WeightAverage | None
    metrics: Metrics
    epoch: int = 0
    step: int = 0

    @property
    def scored(self) -> RealNVP:
        """The weights that are evaluated and sampled: the average when there is one."""
        return self.average.model if self.average is not None else self.model

    def checkpoint(self) -> dict[str, Any]:
        """The dict that :func:`~nvp.training.checkpoint.save_checkpoint` writes."""
        ckpt = {"format": FORMAT, "config": self.config.to_dict(),
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "epoch": self.epoch, "step": self.step, "metrics": self.metrics}
        if self.average is not None:
            ckpt["ema"] = self.average.state_dict()
        return ckpt


def start_run(config: Config, out: Path, resume: bool, device: torch.device,
              log: Callable[[str], None]) -> Run:
    """A fresh run (seeded), or the one in ``out/last.pt``: its config wins, except ``epochs``,
    ``compile`` and ``precision``."""
    if resume:
        ckpt = load_checkpoint(out / "last.pt")
        config = Config.from_dict({**ckpt["config"], "epochs": config.epochs,
                                   "compile": config.compile, "precision": config.precision})
    else:
        torch.manual_seed(config.seed)
    model = config.build_model().to(device)
    optimizer = make_optimizer(model, config)
    average = None
    if resume:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
    if config.ema:
        average = WeightAverage(model, config.ema)
        if resume:
            average.load_state_dict(ckpt["ema"], updates=ckpt["step"])
    if resume:
        log(f"resumed from {out / 'last.pt'} at epoch {ckpt['epoch']}")
        return Run(config, model, optimizer, average, ckpt["metrics"], ckpt["epoch"], ckpt["step"])
    metrics: Metrics = {"train_bpd": [], "heldout_bpd": [], "step_bpd": [],
                               "best_heldout_bpd": None, "best_epoch": None,
                               "heldout": "validation" if config.validation else "test"}
    if config.ema:
        metrics["raw_heldout_bpd"] = []  # the trained weights themselves, for comparison
    return Run(config, model, optimizer, average, metrics)


def end_epoch(run: Run, heldout: torch.Tensor, train_bpd: float, out: Path,
              dist: Distributed | None, log: Callable[[str], None],
              labels: torch.Tensor | None = None) -> None:
    """Score the held-out images (under their ``labels``, class-conditional models), keep the
    books, write ``last.pt`` (and ``best.pt``)."""
    c, m = run.config, run.metrics
    bpd = evaluate(run.scored, heldout, batch_size=c.eval_batch_size, seed=c.seed,
                   labels=labels)
    m["train_bpd"].append(train_bpd)
    m["heldout_bpd"].append(bpd)
    extra = ""
    if run.average is not None:
        m["raw_heldout_bpd"].append(evaluate(run.model, heldout, batch_size=c.eval_batch_size,
                                             seed=c.seed, labels=labels))
        extra = f" (without averaging {m['raw_heldout_bpd'][-1]:.4f})"
    is_best = m["best_heldout_bpd"] is None or bpd < m["best_heldout_bpd"]
    if is_best:
        m["best_heldout_bpd"], m["best_epoch"] = bpd, run.epoch
    if dist is None or dist.is_main:
        ckpt = run.checkpoint()
        save_checkpoint(ckpt, out / "last.pt")
        if is_best:
            save_checkpoint(ckpt, out / "best.pt")
    if dist is not None:
        dist.barrier()  # checkpoints are on disk before any process goes on
    log(f"epoch {run.epoch}/{c.epochs}: train {train_bpd:.4f} bits/dim, {m['heldout']} "
        f"{bpd:.4f} bits/dim{extra}{' (best)' if is_best else ''}")


def step_precision(run: Run, data: torch.Tensor, dist: Distributed | None,
                   log: Callable[[str], None], labels: torch.Tensor | None = None) -> Config:
    """The config the steps run with: ``precision="auto"`` resolved by timing both."""
    if run.config.precision != "auto":
        return run.config
    x, u, _, y = next(epoch_batches(data, run.config, run.epoch, dist, labels))
    choice, seconds = choose_precision(run.model, x, u, run.config, train_step, y=y)
    if dist is not None:
        choice = dist.broadcast(choice)  # every process trains the same way
    times = ", ".join(f"{p} {s:.3f} s" for p, s in seconds.items())
    log(f"precision: {choice} (auto; seconds per step: {times or 'bf16 not supported'})")
    run.metrics["precision"] = choice
    return dataclasses.replace(run.config, precision=choice)


def train(
    config: Config,
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    device: torch.device | str | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    on_epoch: Callable[[int, Metrics], None] | None = None,
    on_step: Callable[[int, float], None] | None = None,
    dist: Distributed | None = None,
) -> tuple[RealNVP, Metrics]:
    """Train ``config`` for ``config.epochs`` epochs, writing ``last.pt`` and ``best.pt``.

    With ``resume=True`` it continues from ``out_dir/last.pt`` and ends exactly where an
    uninterrupted run with the same seed would. Returns the model that is scored and sampled
    (the weight average with ``config.ema``) and the metrics; the best epoch is in ``best.pt``.

    ``dist`` (from :func:`nvp.training.distributed.session`): this process's part of a
    data-parallel run on ``dist.device``; only process 0 logs, reports and writes checkpoints.
    """
    out = Path(out_dir)
    device = dist.device if dist is not None else \
        torch.device(device) if device is not None else default_device()
    if dist is not None and not dist.is_main:
        progress, log, on_epoch, on_step = False, lambda s: None, None, None
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: time the conv algorithms once
    run = start_run(config, out, resume, device, log)
    data = run_data(run.config, device)
    step_config = step_precision(run, data.train, dist, log, data.train_labels)
    net = run.model if dist is None else dist.wrap(run.model, run.config.sync_bn)  # DDP
    if run.config.compile:
        net = torch.compile(net)
    clock = StepClock(math.ceil(len(data.train) / run.config.batch_size), log)

    def record_step(s: int, bpd: float) -> None:
        run.metrics["step_bpd"].append(bpd)
        clock.tick()
        if on_step is not None:
            on_step(s, bpd)

    for epoch in range(run.epoch, run.config.epochs):
        clock.tick()
        try:
            train_bpd, run.step = train_epoch(
                net, run.optimizer, data.train, step_config, epoch, step=run.step,
                progress=progress, on_step=record_step, dist=dist, average=run.average,
                labels=data.train_labels)
        except compile_errors() as err:
            raise RuntimeError(f"torch.compile failed ({type(err).__name__}); train without "
                               "--compile (Config.compile=False)") from err
        run.epoch = epoch + 1
        end_epoch(run, data.heldout, train_bpd, out, dist, log, data.heldout_labels)
        if on_epoch is not None:
            on_epoch(run.epoch, run.metrics)
    return run.scored, run.metrics
