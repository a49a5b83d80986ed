"""Choosing the precision of the training steps by measuring it on the machine at hand.

bf16 autocast runs the s/t networks in bfloat16 (the flow, its log-dets and every reported
bits/dim stay float32). Whether that is faster depends on the hardware, not just on its flags
(``benchmarks/RESULTS.md``): 1.7–2.1× on an AMD Zen 4 CPU (AVX512-BF16), 0.92× on an Intel Xeon
that also reports AVX512-BF16, 5–10× *slower* on an AMD Zen 3 (AVX2 only, no bf16 kernels),
and GPUs before Ampere have no bf16 at all. So ``Config.precision = "auto"`` times a few steps of
each.
"""

from __future__ import annotations

import copy
import dataclasses
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from .config import Config

MARGIN = 0.9  # bf16 must take at most 90% of fp32's time per step to be chosen


def choose_precision(
    model: nn.Module,
    x: torch.Tensor,
    u: torch.Tensor,
    config: Config,
    step: Callable[..., float],
    repeats: int = 3,
    probe_batch: int = 16,
    y: torch.Tensor | None = None,
) -> tuple[str, dict[str, float]]:
    """Time training steps of fp32 and bf16, alternating, on ``probe_batch`` images of ``x``,
    each precision on its own copy of ``model`` and optimizer, so nothing of the run changes.

    One warm-up step each, then up to ``repeats`` timed rounds; it stops early once bf16 is
    clearly slower (it can be several times slower where the hardware lacks bf16 kernels).
    ``step(model, optimizer, x, u, config)`` is the trainer's step (``y=`` too when labels ``y``
    are given: a class-conditional model). Returns the choice and the
    median seconds per step of each (empty where bf16 is not supported: CUDA before Ampere).
    """
    if x.device.type == "cuda" and not torch.cuda.is_bf16_supported(including_emulation=False):
        return "fp32", {}
    x, u = x[:probe_batch], u[:probe_batch]
    labels = {} if y is None else {"y": y[:probe_batch]}
    seconds: dict[str, list[float]] = {"fp32": [], "bf16": []}
    runs = {}
    for p in seconds:
        m = copy.deepcopy(model)
        runs[p] = (m, torch.optim.Adam(m.parameters(), lr=config.lr),
                   dataclasses.replace(config, precision=p))
    for r in range(repeats + 1):
        for p, (m, opt, cfg) in runs.items():
            start = time.perf_counter()
            step(m, opt, x, u, cfg, **labels)  # reads the loss: the device has finished
            if r:  # the first round warms up (allocations, kernel choice)
                seconds[p].append(time.perf_counter() - start)
        if r and min(seconds["bf16"]) > max(seconds["fp32"]):
            break  # bf16 is slower: no need to measure more
    median = {p: statistics.median(v) for p, v in seconds.items()}
    return ("bf16" if median["bf16"] < MARGIN * median["fp32"] else "fp32"), median
