"""Training by maximum likelihood (paper §4.1) and held-out evaluation.

One step: dequantize, ``z, sldj = model(x)``, loss = mean NLL + L2 on the weight-norm scales,
backward, clip the gradient norm, Adam. The loss is checked once per step (not once per layer):
a NaN/inf stops training before the optimizer touches the weights, naming the step, and the last
checkpoint on disk stays as it was.

Reproducibility: every epoch draws its shuffling, flips and dequantization noise from a seed
derived from ``(config.seed, epoch)``, so a run resumed from the checkpoint of epoch k continues
exactly as the uninterrupted run would have.

Speed: the data are range-checked once per epoch, so steps call the model with
``validate=False`` and reading the loss is a step's only host–device sync; small data sets live
on the GPU and their noise is drawn there; ``cudnn.benchmark`` picks convolution algorithms once
for the fixed shapes; ``config.compile`` adds ``torch.compile``; ``config.bf16`` runs the s/t
networks of training steps in bfloat16 (the coupling casts ``s, t`` back, so the affine maps,
log-dets and loss stay float32; held-out numbers are always float32). Several processes
(``torchrun``): see :mod:`nvp.distributed`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from .checkpoint import FORMAT, load_checkpoint, model_from_checkpoint, save_checkpoint
from .checks import check_unit_interval
from .config import Config
from .data import load_dataset, random_hflip
from .distributed import Distributed
from .loss import bits_per_dim, nll, weight_norm_scales
from .model import RealNVP
from .preprocess import dequantize


def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's randomness (shuffling, dequantization noise, flips)."""
    return seed * 1_000_003 + epoch


def make_optimizer(model: RealNVP, config: Config) -> torch.optim.Optimizer:
    """Adam (paper §4.1); the L2 term is added to the loss, on the weight-norm scales only."""
    return torch.optim.Adam(model.parameters(), lr=config.lr)


def load_data(config: Config, split: str) -> torch.Tensor:
    """The configured dataset split, optionally truncated to the first N images."""
    x = load_dataset(config.dataset, split)
    n = config.train_subset if split == "train" else config.test_subset
    return x[:n] if n else x


@torch.no_grad()
def evaluate(
    model: RealNVP,
    data: torch.Tensor,
    batch_size: int = 500,
    draws: int = 1,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> float:
    """Mean held-out bits/dim over ``data``, averaged over ``draws`` dequantization draws.

    Runs in eval mode with a fixed noise seed (drawn on ``data``'s device), so numbers are
    comparable between epochs.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    gen = torch.Generator(device=data.device).manual_seed(seed)
    total = torch.zeros((), dtype=torch.float64, device=device)
    try:
        for _ in range(draws):
            for i in range(0, len(data), batch_size):
                x = dequantize(data[i:i + batch_size], generator=gen).to(device)
                z, sldj = model(x, dequantize=False)
                total += bits_per_dim(z, sldj).sum()
    finally:
        model.train(was_training)
    return total.item() / (draws * len(data))


def epoch_batches(
    data: torch.Tensor, config: Config, epoch: int, dist: Distributed | None = None
) -> Iterator[tuple[torch.Tensor, int]]:
    """One epoch of dequantized batches ``x̃ = (255·x + u)/256``: (this process's share, N).

    Shuffling, flips and noise come from the epoch's seed and are drawn for the whole global
    batch of N images on ``data``'s device, then sliced: an image gets the same noise however
    many processes share the batch. With W processes a last batch smaller than W is skipped.
    """
    gen = torch.Generator(device=data.device).manual_seed(epoch_seed(config.seed, epoch))
    order = torch.randperm(len(data), generator=gen, device=data.device)
    for i in range(0, len(data), config.batch_size):
        x = data[order[i:i + config.batch_size]]  # (N, C, H, W)
        if dist is not None and len(x) < dist.world_size:
            break
        if config.hflip:
            x = random_hflip(x, generator=gen)
        x = dequantize(x, generator=gen)
        yield (x if dist is None else x[dist.share(len(x))]), len(x)


def learning_rate(config: Config, step: int, total_steps: int) -> float:
    """The learning rate of step ``step`` (0-based) of ``total_steps``: ``config.lr``, or with
    ``lr_schedule="cosine"`` ``lr·(1 + cos(π·step/total_steps))/2`` (Loshchilov & Hutter 2017).

    A function of the step alone (no scheduler state), so resuming needs nothing extra."""
    if config.lr_schedule == "constant":
        return config.lr
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * min(step / total_steps, 1.0)))


def l2_of(scales: list[torch.Tensor], coefficient: float) -> torch.Tensor:
    """``coefficient · Σ g²``, as :func:`~nvp.loss.l2_penalty`, over a list found once: one
    reduction over all magnitudes instead of one per layer (hundreds of kernels on a GPU)."""
    return coefficient * torch.cat([g.reshape(-1) for g in scales]).square().sum()


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    config: Config,
    total: int | None = None,
    dist: Distributed | None = None,
    scales: list[torch.Tensor] | None = None,
) -> float:
    """One step on dequantized, range-checked images ``x``; returns the batch's mean NLL (nats).

    ``objective = Σ_i nll_i / N + λ Σ g²``. With W processes, ``x`` is this process's share of a
    global batch of ``total`` = N images, and DDP averages the gradients of
    ``W · Σ_{its i} nll_i / N + λ Σ g²``: exactly the gradient of the global objective.
    """
    n = total or len(x)
    world = dist.world_size if dist is not None else 1
    scales = scales if scales is not None else weight_norm_scales(model)
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=config.bf16):
        z, sldj = model(x, dequantize=False, validate=False)  # z, sldj: float32 either way
    nll_sum = nll(z, sldj).sum()
    objective = nll_sum * (world / n) + l2_of(scales, config.weight_decay)
    optimizer.zero_grad(set_to_none=True)
    objective.backward()
    if dist is not None:
        nll_sum = dist.all_reduce_sum(nll_sum)  # Σ over the whole global batch
    loss = nll_sum.item() / n  # the one host sync of the step
    if not math.isfinite(loss):
        raise FloatingPointError(
            f"loss became {loss}; training stopped before updating the weights. Try a lower "
            "--lr or --max-grad-norm; the last checkpoint on disk is intact."
        )
    torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
    optimizer.step()
    return loss


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: torch.Tensor,
    config: Config,
    epoch: int,
    step: int = 0,
    progress: bool = True,
    on_step: Callable[[int, float], None] | None = None,
    dist: Distributed | None = None,
) -> tuple[float, int]:
    """One pass over ``data``; returns (mean train bits/dim, global step count)."""
    check_unit_interval(data, "training data")  # once per epoch, so that steps need not
    n_dims = math.prod(data.shape[1:])
    scales = weight_norm_scales(model)
    model.train()
    total, count = 0.0, 0
    steps_per_epoch = math.ceil(len(data) / config.batch_size)
    bar = tqdm(epoch_batches(data, config, epoch, dist), desc=f"epoch {epoch}", leave=False,
               total=steps_per_epoch, disable=not progress)
    for x, n in bar:
        if config.lr_schedule != "constant":  # otherwise the optimizer's own rate stands
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, step, config.epochs * steps_per_epoch)
        step += 1
        try:
            loss = train_step(model, optimizer, x, config, n, dist, scales)
        except FloatingPointError as err:
            raise FloatingPointError(f"at step {step} (epoch {epoch}): {err}") from None
        bpd = loss / (n_dims * math.log(2))
        total += bpd * n
        count += n
        bar.set_postfix(loss=f"{loss:.1f}", bpd=f"{bpd:.3f}")
        if on_step is not None:
            on_step(step, bpd)
    return total / count, step


def make_checkpoint(model, optimizer, config: Config, epoch: int, step: int, metrics: dict) -> dict:
    """The dict that :func:`~nvp.checkpoint.save_checkpoint` writes."""
    return {"format": FORMAT, "config": config.to_dict(), "model": model.state_dict(),
            "optimizer": optimizer.state_dict(), "epoch": epoch, "step": step,
            "metrics": metrics}


def train(
    config: Config,
    out_dir: str | os.PathLike,
    resume: bool = False,
    device: torch.device | str | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    on_epoch: Callable[[int, dict[str, Any]], None] | None = None,
    on_step: Callable[[int, float], None] | None = None,
    dist: Distributed | None = None,
) -> tuple[RealNVP, dict[str, Any]]:
    """Train ``config`` for ``config.epochs`` epochs, writing ``last.pt`` and ``best.pt``.

    With ``resume=True`` it continues from ``out_dir/last.pt`` (its config wins, except
    ``epochs``, ``compile`` and ``bf16``) and ends exactly where an uninterrupted run with the
    same seed would. Returns the model (best held-out weights are in ``best.pt``) and the metrics.

    ``dist`` (from :func:`nvp.distributed.session`): this process's part of a data-parallel run
    on ``dist.device``; only process 0 logs, reports and writes checkpoints.
    """
    out = Path(out_dir)
    device = dist.device if dist is not None else \
        torch.device(device) if device is not None else default_device()
    if dist is not None and not dist.is_main:
        progress, log, on_epoch, on_step = False, lambda s: None, None, None
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: time the conv algorithms once
    metrics: dict[str, Any] = {"train_bpd": [], "test_bpd": [], "step_bpd": [], "best_test_bpd":
                               None, "best_epoch": None}
    start_epoch, step = 0, 0
    if resume:
        ckpt = load_checkpoint(out / "last.pt")
        config = Config.from_dict({**ckpt["config"], "epochs": config.epochs,
                                   "compile": config.compile, "bf16": config.bf16})
        model = model_from_checkpoint(ckpt).to(device)
        optimizer = make_optimizer(model, config)
        optimizer.load_state_dict(ckpt["optimizer"])
        metrics, start_epoch, step = ckpt["metrics"], ckpt["epoch"], ckpt["step"]
        log(f"resumed from {out / 'last.pt'} at epoch {start_epoch}")
    else:
        torch.manual_seed(config.seed)
        model = config.build_model().to(device)
        optimizer = make_optimizer(model, config)
    train_data, test_data = load_data(config, "train"), load_data(config, "test")
    if device.type == "cuda":  # small sets live on the GPU: no host-to-device copy per step
        train_data, test_data = train_data.to(device), test_data.to(device)
    net = model if dist is None else dist.wrap(model, config.sync_bn)  # DDP
    if config.compile:
        net = torch.compile(net)

    def record_step(s: int, bpd: float) -> None:
        metrics["step_bpd"].append(bpd)
        if on_step is not None:
            on_step(s, bpd)

    for epoch in range(start_epoch, config.epochs):
        try:
            train_bpd, step = train_epoch(net, optimizer, train_data, config, epoch, step,
                                          progress, record_step, dist)
        except torch._dynamo.exc.TorchDynamoException as err:
            raise RuntimeError(f"torch.compile failed ({type(err).__name__}); train without "
                               "--compile (Config.compile=False)") from err
        test_bpd = evaluate(model, test_data, config.eval_batch_size, seed=config.seed)
        metrics["train_bpd"].append(train_bpd)
        metrics["test_bpd"].append(test_bpd)
        best = metrics["best_test_bpd"]
        is_best = best is None or test_bpd < best
        if is_best:
            metrics["best_test_bpd"], metrics["best_epoch"] = test_bpd, epoch + 1
        if dist is None or dist.is_main:
            ckpt = make_checkpoint(model, optimizer, config, epoch + 1, step, metrics)
            save_checkpoint(ckpt, out / "last.pt")
            if is_best:
                save_checkpoint(ckpt, out / "best.pt")
        if dist is not None:
            dist.barrier()  # checkpoints are on disk before any process goes on
        log(f"epoch {epoch + 1}/{config.epochs}: train {train_bpd:.4f} bits/dim, "
            f"held-out {test_bpd:.4f} bits/dim{' (best)' if is_best else ''}")
        if on_epoch is not None:
            on_epoch(epoch + 1, metrics)
    return model, metrics
