"""Where does a training step's time go? ``torch.profiler`` over a few steps, top ops by self time.

    OMP_NUM_THREADS=1 python benchmarks/profile_step.py --config cifar10 --batch-size 16 --steps 3
    python benchmarks/profile_step.py --count --impl baseline   # ops and syncs per step

``--count`` instead counts, per training step, the operators that reach the kernels (below
autograd: forward, backward, loss, gradient clipping; not the optimizer, the same for both),
the host–device syncs among them (``_local_scalar_dense``: ``.item()``, ``bool(tensor)``) and
the tensors built from Python data (``lift_fresh``: a host-to-device copy on a GPU):
device-independent proxies for a GPU's kernel-launch overhead and for the stalls that stop the
host from queueing work ahead.
"""

from __future__ import annotations

import argparse

import torch
from common import CONFIGS, build, make_batch, train_step
from opcount import OpCounter, uncounted
from torch.profiler import ProfilerActivity, profile


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--config", choices=CONFIGS, default="cifar10")
    p.add_argument("--impl", choices=("nvp", "baseline"), default="nvp")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--rows", type=int, default=30)
    p.add_argument("--count", action="store_true", help="count ops and syncs per step instead")
    args = p.parse_args()
    device = torch.device(args.device)
    model, opt = build(args.impl, CONFIGS[args.config], device)
    x = make_batch(CONFIGS[args.config], args.batch_size, device)
    train_step(model, opt, x)  # warm-up (allocations, oneDNN/cuDNN kernel choice, masks)
    if args.count:
        opt.step = uncounted(opt.step)  # on CPU, Adam reads its step counts with .item()
        with OpCounter() as counter:
            train_step(model, opt, x)
        ops = counter.ops
        print(f"{args.impl} {args.config}: {sum(ops.values())} ops per training step, "
              f"{counter.syncs} host–device sync(s), "
              f"{counter.from_python} tensor(s) from Python data; "
              f"most frequent: {ops.most_common(5)}")
        return
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=acts) as prof:
        for _ in range(args.steps):
            train_step(model, opt, x)
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=key, row_limit=args.rows))


if __name__ == "__main__":
    main()
