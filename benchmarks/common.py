"""Named configurations and the shared pieces of the benchmark scripts."""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import resource
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

import nvp
import nvp.training
from nvp.loss import nll
from nvp.training import Config

sys.path.insert(0, str(Path(__file__).parent))
from baseline import BaselineRealNVP, load_from_nvp, weight_norm_scales  # noqa: E402


@dataclass(frozen=True)
class BenchConfig:
    in_channels: int
    size: int
    num_scales: int
    mid_channels: int
    num_blocks: int
    batch_size: int


CONFIGS: dict[str, BenchConfig] = {
    "cifar10": BenchConfig(3, 32, 2, 64, 8, 64),  # the paper's CIFAR-10 model
    "mnist-m16b2": BenchConfig(1, 28, 2, 16, 2, 64),  # the book's small MNIST models
    "mnist-m32b2": BenchConfig(1, 28, 2, 32, 2, 64),
    "mnist-default": BenchConfig(1, 28, 2, 64, 8, 64),  # nvp.Config() defaults
}


def build_nvp(cfg: BenchConfig, device: torch.device, data_constraint: float = 0.9) -> nn.Module:
    return nvp.RealNVP(in_channels=cfg.in_channels, num_scales=cfg.num_scales,
                       mid_channels=cfg.mid_channels, num_blocks=cfg.num_blocks,
                       data_constraint=data_constraint, image_size=(cfg.size, cfg.size)).to(device)


def build(impl: str, cfg: BenchConfig, device: torch.device, seed: int = 0,
          data_constraint: float = 0.9):
    """``(model, optimizer)``; the baseline gets the nvp model's initial weights."""
    torch.manual_seed(seed)
    model = build_nvp(cfg, device, data_constraint)
    if impl == "baseline":
        base = BaselineRealNVP(cfg.in_channels, cfg.num_scales, cfg.mid_channels,
                               cfg.num_blocks, data_constraint).to(device)
        model = load_from_nvp(base, model)
    # foreach: the multi-tensor Adam that CUDA uses by default, on every device
    return model, torch.optim.Adam(model.parameters(), lr=1e-3, foreach=True)


def make_batch(cfg: BenchConfig, batch_size: int, device: torch.device) -> torch.Tensor:
    """8-bit-like images ``k/255`` of the configuration's shape."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randint(0, 256, (batch_size, cfg.in_channels, cfg.size, cfg.size), generator=gen)
    return (x.float() / 255).to(device)


def _penalty(model: nn.Module, coefficient: float = 5e-5) -> torch.Tensor:
    gs = weight_norm_scales(model) or nvp.loss.weight_norm_scales(model)
    return coefficient * sum(g.pow(2).sum() for g in gs)


def plain_train_step(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor) -> float:
    """The step every port writes: forward, NLL + L2 on ``g``, backward, ``.item()``, clip, Adam."""
    z, sldj = model(x)
    loss = nll(z, sldj).mean()
    opt.zero_grad(set_to_none=True)
    (loss + _penalty(model)).backward()
    value = loss.item()
    if not math.isfinite(value):
        raise FloatingPointError(value)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 100.0)
    opt.step()
    return value


_CONFIG = Config()  # lr, weight decay and clipping as in plain_train_step


def train_step(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor) -> float:
    """nvp's own trainer step when it has one (after this issue), else the plain step.

    Either way ``x`` is dequantized once, inside the model (nvp's trainer draws the noise ``u``
    per global batch and passes it in; before that change it took dequantized images)."""
    fast = getattr(nvp.training, "train_step", None)
    if fast is None or not isinstance(getattr(model, "_orig_mod", model), nvp.RealNVP):
        return plain_train_step(model, opt, x)
    u = torch.rand(x.shape, device=x.device)
    if "u" in inspect.signature(fast).parameters:  # the model dequantizes with noise u
        return fast(model, opt, x, u, _CONFIG)
    return fast(model, opt, nvp.dequantize(x, noise=u), _CONFIG)  # nvp before the noise argument


def max_rss_mib(reset: bool = False) -> float:
    """Peak resident set size of this process (Linux reports KiB); ``reset`` first lowers the
    peak to the current size (``/proc/self/clear_refs``), so that earlier peaks (imports) do not
    hide later ones."""
    if reset:
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def machine() -> str:
    """CPU model, cores, torch version, load average: one line."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        load = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        load = ["?"]
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return (f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {gpu}, "
            f"OMP threads {torch.get_num_threads()}, load average {' '.join(load)}")
