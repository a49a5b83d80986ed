"""The pieces of a training run below the epoch: data splits, batches, the step, its clock.

One step (paper §4.1): ``z, sldj = model(x, noise=u)`` (dequantization inside the model, uniform
or learned), loss = mean NLL + L2 on the weight-norm scales, backward, clip the gradient norm,
Adam. The loss is checked once per step (not once per layer): a NaN/inf stops training before the
optimizer touches the weights, naming the step, and the last checkpoint on disk stays as it was.
Reading the loss is a step's only host–device sync (the data are range-checked once per epoch).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from ..data import load_dataset, random_hflip
from ..loss import l2_penalty, nll, weight_norm_scales
from .config import Config
from .distributed import Distributed

VALIDATION_SEED = 20161  # the validation images are the same whatever the run's seed


def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's randomness (shuffling, dequantization noise, flips)."""
    return seed * 1_000_003 + epoch


def make_optimizer(model: nn.Module, config: Config) -> torch.optim.Optimizer:
    """Adam (paper §4.1); the L2 term is added to the loss, on the weight-norm scales only."""
    return torch.optim.Adam(model.parameters(), lr=config.lr)


def load_data(
    config: Config, split: str, labels: bool = False
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """``"train"``, ``"valid"`` (``config.validation`` random training images, set aside) or
    ``"test"``; the ``*_subset`` options keep the first N images of their split.

    ``labels=True``: ``(images, labels)``, the labels an int64 tensor ``(N,)``."""
    if split not in ("train", "valid", "test"):
        raise ValueError(f"split must be 'train', 'valid' or 'test', got {split!r}")
    if split == "test":
        x, y = load_dataset(config.dataset, "test", with_labels=True)
        n = config.test_subset or len(x)
        return (x[:n], y[:n]) if labels else x[:n]
    x, y = load_dataset(config.dataset, "train", with_labels=True)
    if config.train_subset:
        x, y = x[:config.train_subset], y[:config.train_subset]
    n = config.validation
    if split == "valid" and not n:
        raise ValueError("this configuration has no validation images (Config.validation = 0)")
    if n >= len(x):
        raise ValueError(f"validation = {n} leaves no training images (the split has {len(x)})")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(VALIDATION_SEED))
    keep = (order[:n] if split == "valid" else order[n:]).sort().values
    return (x[keep], y[keep]) if labels else x[keep]


@dataclass
class RunData:
    """The images (and, for a class-conditional run, labels) a run trains and is scored on."""

    train: torch.Tensor
    heldout: torch.Tensor
    train_labels: torch.Tensor | None
    heldout_labels: torch.Tensor | None


def run_data(config: Config, device: torch.device) -> RunData:
    """The training split and the held-out one (validation, or test when ``validation=0``);
    labels only for a class-conditional model. Small sets live on the GPU: no copy per step."""
    heldout_split = "valid" if config.validation else "test"
    (x, y), (x_held, y_held) = (load_data(config, split, labels=True)
                                for split in ("train", heldout_split))
    if not config.num_classes:  # an unconditional model never sees the labels
        y = y_held = None
    elif int(y.max()) >= config.num_classes:
        raise ValueError(f"{config.dataset} has labels up to {int(y.max())}, "
                         f"but num_classes = {config.num_classes}")
    if device.type == "cuda":
        x, x_held = x.to(device), x_held.to(device)
        if y is not None:
            y, y_held = y.to(device), y_held.to(device)
    return RunData(x, x_held, y, y_held)


def epoch_batches(
    data: torch.Tensor, config: Config, epoch: int, dist: Distributed | None = None,
    labels: torch.Tensor | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor, int, torch.Tensor | None]]:
    """One epoch of ``(images, noise u ~ U[0, 1), N, labels)``: this process's share of each
    batch of N; ``labels`` is None unless given (class-conditional training).

    Shuffling, flips and noise come from the epoch's seed and are drawn for the whole global
    batch of N images on ``data``'s device, then sliced: an image gets the same noise however
    many processes share the batch. With W processes a last batch smaller than W is skipped.
    """
    gen = torch.Generator(device=data.device).manual_seed(epoch_seed(config.seed, epoch))
    order = torch.randperm(len(data), generator=gen, device=data.device)
    for i in range(0, len(data), config.batch_size):
        idx = order[i:i + config.batch_size]
        x = data[idx]  # (N, C, H, W)
        y = None if labels is None else labels[idx]  # (N,)
        if dist is not None and len(x) < dist.world_size:
            break
        if config.hflip:
            x = random_hflip(x, generator=gen)
        u = torch.rand(x.shape, generator=gen, dtype=x.dtype, device=x.device)  # (N, C, H, W)
        share = slice(None) if dist is None else dist.share(len(x))
        yield x[share], u[share], len(x), None if y is None else y[share]


def learning_rate(config: Config, step: int, total_steps: int) -> float:
    """The learning rate of step ``step`` (0-based) of ``total_steps``: ``config.lr``, or with
    ``lr_schedule="cosine"`` ``lr·(1 + cos(π·step/total_steps))/2`` (Loshchilov & Hutter 2017).

    A function of the step alone (no scheduler state), so resuming needs nothing extra."""
    if config.lr_schedule == "constant":
        return config.lr
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * min(step / total_steps, 1.0)))


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    u: torch.Tensor,
    config: Config,
    *,
    total: int | None = None,
    dist: Distributed | None = None,
    scales: list[torch.Tensor] | None = None,
    y: torch.Tensor | None = None,
) -> float:
    """One step on range-checked images ``x`` with noise ``u`` (and labels
    ``y``, class-conditional models); returns the batch's mean NLL (nats).

    ``objective = Σ_i nll_i / N + λ Σ g²``. With W processes, ``x`` is this
    process's share of a global batch of ``total`` = N images, and DDP
    averages the gradients of ``W · Σ_{its i} nll_i / N + λ Σ g²``: exactly
    the gradient of the global objective.
    """
    n = total or len(x)
    world = dist.world_size if dist is not None else 1
    scales = scales if scales is not None else weight_norm_scales(model)
    bf16 = config.precision == "bf16"
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        # z, sldj: float32 either way
        z, sldj = model(x, noise=u, validate=False, y=y)
    nll_sum = nll(z, sldj).sum()
    objective = (nll_sum * (world / n)
                 + l2_penalty(scales, config.weight_decay))
    optimizer.zero_grad(set_to_none=True)
    objective.backward()
    if dist is not None:
        # Σ over the whole global batch
        nll_sum = dist.all_reduce_sum(nll_sum)
    loss = nll_sum.item() / n  # the one host sync of the step
    if not math.isfinite(loss):
        raise FloatingPointError(
            f"loss became {loss}; training stopped before updating the "
            "weights. Try a lower --lr or --max-grad-norm; the last "
            "checkpoint on disk is intact."
        )
    torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
    optimizer.step()
    return loss


class StepClock:
    """Announces the expected time per epoch once, from the median time of the first five steps
    (the median ignores the first one's warm-up: allocations, kernel choice)."""

    def __init__(self, steps_per_epoch: int, log: Callable[[str], None], measure: int = 5):
        self.steps_per_epoch, self.log, self.measure = steps_per_epoch, log, measure
        self.last: float | None = None
        self.seconds: list[float] = []

    def tick(self) -> None:
        now = time.perf_counter()
        if self.last is not None and len(self.seconds) < self.measure:
            self.seconds.append(now - self.last)
            if len(self.seconds) == self.measure:
                per = statistics.median(self.seconds)
                self.log(f"about {per * self.steps_per_epoch:.0f} s per epoch of training "
                         f"({self.steps_per_epoch} steps of {per:.2f} s, measured), plus "
                         "evaluation")
        self.last = now
