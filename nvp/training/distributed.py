"""Data-parallel training on several processes with DistributedDataParallel (``torchrun``).

    torchrun --nproc_per_node=4 -m nvp train --dataset cifar10 --batch-size 64 --out runs/c10

``torchrun`` starts one process per GPU and sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``;
:func:`session` reads them, joins the process group (NCCL on CUDA, Gloo on CPU) and picks the
process's device. How the work is split, so that W processes train exactly as one would:

* ``batch_size`` is the *global* batch: every step, the W processes take contiguous shares of
  the same seeded batch (sizes differ by at most one), so hyper-parameters and results do not
  depend on W. Each global batch's dequantization noise and flips are drawn whole, from the
  epoch's seed, and then sliced: an image gets the same noise whichever process it lands on.
* DDP averages gradients over processes; a process minimises ``W · Σ_{its i} nll_i / N`` for a
  global batch of N, so the average is exactly the gradient of the global mean NLL.
* Batch norm normalises by the statistics of a process's share unless ``sync_bn``: then by the
  statistics of the global batch (``nn.SyncBatchNorm`` on CUDA, :class:`GlobalBatchNorm2d`, its
  twin for other devices, elsewhere). Only then do W processes equal one process.
* Every process scores the held-out images after each epoch (the same images, noise and
  weights, so the same number: :func:`nvp.training.loop.end_epoch`); process 0 alone logs and
  writes checkpoints, and the others wait at a barrier until they are on disk.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class Distributed:
    """This process's place in a data-parallel run."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Process 0 logs and writes checkpoints."""
        return self.rank == 0

    def share(self, n: int) -> slice:
        """This process's contiguous share of a global batch of ``n`` (sizes differ by ≤ 1)."""
        base, extra = divmod(n, self.world_size)
        start = self.rank * base + min(self.rank, extra)
        return slice(start, start + base + (self.rank < extra))

    def all_reduce_sum(self, t: torch.Tensor) -> torch.Tensor:
        """``Σ`` of ``t`` over the processes (a new tensor; no gradient)."""
        t = t.detach().clone()
        dist.all_reduce(t)
        return t

    def barrier(self) -> None:
        dist.barrier()

    def broadcast(self, value: object) -> object:
        """Process 0's ``value``, on every process."""
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def wrap(self, model: nn.Module, sync_bn: bool = False) -> nn.Module:
        """``model`` (already on :attr:`device`) in DDP, batch norms made global if ``sync_bn``."""
        if sync_bn:
            model = convert_sync_batchnorm(model)
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)


def from_env() -> tuple[int, int, int] | None:
    """``(rank, world_size, local_rank)`` from torchrun's environment, or None outside torchrun."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return None
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    return rank, world, int(os.environ.get("LOCAL_RANK", rank))


@contextmanager
def session(device: str | torch.device | None = None) -> Iterator[Distributed | None]:
    """Join the process group when started by torchrun (yields None otherwise); always leaves it.

    The device is ``cuda:LOCAL_RANK`` when CUDA is present and ``device`` is not a CPU, else CPU.
    """
    env = from_env()
    if env is None:
        yield None
        return
    rank, world, local_rank = env
    want_cuda = device is None or torch.device(device).type == "cuda"
    if want_cuda and torch.cuda.is_available():
        dev = torch.device("cuda", local_rank)
        torch.cuda.set_device(dev)
        dist.init_process_group("nccl", device_id=dev)
    else:
        dev = torch.device("cpu")
        dist.init_process_group("gloo")
    try:
        yield Distributed(rank, world, local_rank, dev)
    finally:
        dist.destroy_process_group()


class _AllReduceSum(torch.autograd.Function):
    """``Σ`` over processes, differentiable: the gradient of a sum is the sum of the gradients."""

    @staticmethod
    def forward(ctx, t: torch.Tensor) -> torch.Tensor:  # noqa: D102
        t = t.clone()
        dist.all_reduce(t)
        return t

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return _AllReduceSum.apply(grad.contiguous())


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """Batch norm over the global batch of all processes; a plain ``BatchNorm2d`` otherwise.

    Two-pass statistics, as one process would compute them on the whole batch::

        μ = Σ_p Σ_i x_i / N,   σ² = Σ_p Σ_i (x_i − μ)² / N,   y = (x − μ)/√(σ² + ε) · γ + β

    with each ``Σ_p`` an all-reduce that autograd differentiates (:class:`_AllReduceSum`).
    The CPU/Gloo twin of ``nn.SyncBatchNorm``, which only runs on GPUs.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        shape = (1, -1, 1, 1)
        acc = torch.promote_types(x.dtype, torch.float32)  # statistics in float32 at least
        count = torch.tensor([x.numel() / x.shape[1]], dtype=acc, device=x.device)  # per channel
        sums = _AllReduceSum.apply(torch.cat((x.sum((0, 2, 3), dtype=acc), count)))  # (C + 1,)
        n = sums[-1]
        mean = sums[:-1] / n  # μ, (C,)
        centered = x - mean.view(shape)
        var = _AllReduceSum.apply(centered.pow(2).sum((0, 2, 3))) / n  # σ², biased, (C,)
        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
            m = self.momentum if self.momentum is not None else 1 / int(self.num_batches_tracked)
            with torch.no_grad():  # running variance is unbiased, as in F.batch_norm
                self.running_mean.lerp_(mean, m)
                self.running_var.lerp_(var * (n / (n - 1)), m)
        y = centered * torch.rsqrt(var + self.eps).view(shape)
        return y * self.weight.view(shape) + self.bias.view(shape) if self.affine else y


def convert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """Every ``BatchNorm2d`` made global: ``nn.SyncBatchNorm`` on CUDA, else
    :class:`GlobalBatchNorm2d`. The parameter and buffer tensors (and state-dict keys) are kept."""
    if any(p.is_cuda for p in module.parameters()):
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm2d:
            new = GlobalBatchNorm2d(child.num_features, child.eps, child.momentum, child.affine,
                                    child.track_running_stats, device="meta")
            new.weight, new.bias = child.weight, child.bias  # the same tensors: an optimizer
            new.running_mean, new.running_var = child.running_mean, child.running_var  # built
            new.num_batches_tracked = child.num_batches_tracked  # before still holds them
            new.train(child.training)
            setattr(module, name, new)
        else:
            convert_sync_batchnorm(child)
    return module
