"""Training by maximum likelihood (paper §4.1) and held-out evaluation.

One step: dequantize, ``z, sldj = model(x)``, loss = mean NLL + L2 on the weight-norm scales,
backward, clip the gradient norm, Adam. The loss is checked once per step (not once per layer):
a NaN/inf stops training before the optimizer touches the weights, naming the step, and the last
checkpoint on disk stays as it was.

Reproducibility: every epoch draws its shuffling and dequantization noise from a seed derived
from ``(config.seed, epoch)``, so a run resumed from the checkpoint of epoch k continues exactly
as the uninterrupted run would have.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from .checkpoint import FORMAT, load_checkpoint, model_from_checkpoint, save_checkpoint
from .config import Config
from .data import load_dataset, random_hflip
from .loss import bits_per_dim, l2_penalty, nll
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

    Runs in eval mode with a fixed noise seed, so numbers are comparable between epochs.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    total, count = 0.0, 0
    try:
        for _ in range(draws):
            for i in range(0, len(data), batch_size):
                x = dequantize(data[i:i + batch_size], generator=gen).to(device)
                z, sldj = model(x, dequantize=False)
                total += bits_per_dim(z, sldj).sum().item()
                count += len(x)
    finally:
        model.train(was_training)
    return total / count


def train_epoch(
    model: RealNVP,
    optimizer: torch.optim.Optimizer,
    data: torch.Tensor,
    config: Config,
    epoch: int,
    step: int = 0,
    progress: bool = True,
    on_step: Callable[[int, float], None] | None = None,
) -> tuple[float, int]:
    """One pass over ``data``; returns (mean train bits/dim, global step count)."""
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(epoch_seed(config.seed, epoch))
    torch.manual_seed(epoch_seed(config.seed, epoch))  # dequantization noise inside model(x)
    order = torch.randperm(len(data), generator=gen)
    n_dims = math.prod(data.shape[1:])
    model.train()
    total, count = 0.0, 0
    bar = tqdm(range(0, len(data), config.batch_size), desc=f"epoch {epoch}", disable=not progress,
               leave=False)
    for i in bar:
        x = data[order[i:i + config.batch_size]]
        if config.hflip:
            x = random_hflip(x, generator=gen)
        x = x.to(device, non_blocking=True)
        z, sldj = model(x)
        loss = nll(z, sldj).mean()
        objective = loss + l2_penalty(model, config.weight_decay)
        optimizer.zero_grad(set_to_none=True)
        objective.backward()
        step += 1
        loss_value = loss.item()  # the one host sync of the step
        if not math.isfinite(loss_value):
            raise FloatingPointError(
                f"loss became {loss_value} at step {step} (epoch {epoch}); training stopped "
                "before updating the weights. Try a lower --lr or --max-grad-norm; the last "
                "checkpoint on disk is intact."
            )
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        bpd = loss_value / (n_dims * math.log(2))
        total += bpd * len(x)
        count += len(x)
        bar.set_postfix(loss=f"{loss_value:.1f}", bpd=f"{bpd:.3f}")
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
) -> tuple[RealNVP, dict[str, Any]]:
    """Train ``config`` for ``config.epochs`` epochs, writing ``last.pt`` and ``best.pt``.

    With ``resume=True`` it continues from ``out_dir/last.pt`` (its config wins, except
    ``epochs``) and ends exactly where an uninterrupted run with the same seed would.
    Returns the model (best held-out weights are in ``best.pt``) and the metrics.
    """
    out = Path(out_dir)
    device = torch.device(device) if device is not None else default_device()
    metrics: dict[str, Any] = {"train_bpd": [], "test_bpd": [], "step_bpd": [], "best_test_bpd":
                               None, "best_epoch": None}
    start_epoch, step = 0, 0
    if resume:
        ckpt = load_checkpoint(out / "last.pt")
        config = Config.from_dict({**ckpt["config"], "epochs": config.epochs})
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

    def record_step(s: int, bpd: float) -> None:
        metrics["step_bpd"].append(bpd)
        if on_step is not None:
            on_step(s, bpd)

    for epoch in range(start_epoch, config.epochs):
        train_bpd, step = train_epoch(model, optimizer, train_data, config, epoch, step,
                                      progress, record_step)
        test_bpd = evaluate(model, test_data, config.eval_batch_size, seed=config.seed)
        metrics["train_bpd"].append(train_bpd)
        metrics["test_bpd"].append(test_bpd)
        best = metrics["best_test_bpd"]
        is_best = best is None or test_bpd < best
        if is_best:
            metrics["best_test_bpd"], metrics["best_epoch"] = test_bpd, epoch + 1
        ckpt = make_checkpoint(model, optimizer, config, epoch + 1, step, metrics)
        save_checkpoint(ckpt, out / "last.pt")
        if is_best:
            save_checkpoint(ckpt, out / "best.pt")
        log(f"epoch {epoch + 1}/{config.epochs}: train {train_bpd:.4f} bits/dim, "
            f"held-out {test_bpd:.4f} bits/dim{' (best)' if is_best else ''}")
        if on_epoch is not None:
            on_epoch(epoch + 1, metrics)
    return model, metrics
