"""Train-step and sampling throughput (images/s) and peak memory, for named configurations.

    OMP_NUM_THREADS=1 python benchmarks/bench.py --device cpu --configs cifar10 mnist-m16b2
    python benchmarks/bench.py --device cuda --precisions fp32 tf32 bf16

``--before DIR`` adds nvp as it was before the speed work, from a tree holding that ``nvp/``
package (``mkdir DIR && git archive 44e5126 nvp | tar -x -C DIR``), as a third contestant.

Every measurement runs in a fresh subprocess (so peak memory is its own, and one run's caches do
not help the next), and the implementations take turns round by round, so a change in the
machine's load hits both alike. The train step is nvp's own trainer step (after this issue) or
the plain step of :mod:`common`; the baseline is :mod:`baseline` with nvp's initial weights, and
before timing, both are checked to give the same log-likelihood on the same batch.

Peak memory: ``torch.cuda.max_memory_allocated`` over the timed steps on CUDA; on CPU the growth
of the process's maximum resident set size (``getrusage``, its peak first reset to the current
size) from just before the first step (model and batch built) to the end: activations,
gradients, Adam's state and the allocator's slack, so a rough upper bound.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time

import torch
from baseline import squeeze_alt as baseline_squeeze_alt
from common import CONFIGS, build, make_batch, max_rss_mib, sync, train_step

import nvp
from nvp.loss import bits_per_dim, nll

PRECISIONS = ("fp32", "tf32", "bf16")


def set_precision(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """fp32 (IEEE), TF32 convs/matmuls (CUDA), or bf16 autocast; returns the autocast context."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        mode = "tf32" if precision == "tf32" else "ieee"
        torch.backends.cudnn.conv.fp32_precision = mode
        torch.backends.cuda.matmul.fp32_precision = mode
    elif precision == "tf32":
        raise SystemExit("TF32 exists on CUDA only")
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def check_same_likelihood(cfg, device: torch.device) -> float:
    """nvp and the baseline, same weights, same batch: max relative difference of log p."""
    x = make_batch(cfg, 4, device)
    nvp_model, _ = build("nvp", cfg, device)
    base, _ = build("baseline", cfg, device)
    with torch.no_grad():
        a = nll(*nvp_model(x, dequantize=False))
        b = nll(*base(x, dequantize=False))
    return ((a - b).abs() / a.abs()).max().item()


def check_bf16(config: str, device: torch.device) -> str:
    """Are bf16-autocast log-likelihoods right? Same (perturbed) weights, same batch, eval mode.

    The s/t networks compute in bf16, the coupling casts ``s, t`` back to float32, so ``Σ s`` is
    the exact log-det of the map actually applied and the inverse recomputes the same ``s``.
    Reported: |Δ bits/dim| against float32, and the float32 and bf16 round-trip errors.
    """
    cfg = CONFIGS[config]
    model, _ = build("nvp", cfg, device)
    with torch.no_grad():
        for p in model.parameters():  # away from the identity start, where s = t = 0
            p.add_(0.05 * torch.randn_like(p))
    model.eval()
    x = make_batch(cfg, 8, device)
    out = {}
    with torch.no_grad():
        for name, on in (("fp32", False), ("bf16", True)):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=on):
                z, sldj = model(x, dequantize=False)
                x_back, sldj_back = model(z, reverse=True)
            out[name] = (bits_per_dim(z, sldj), (x_back - x).abs().max().item(),
                         (sldj + sldj_back).abs().max().item())
    dbpd = (out["bf16"][0] - out["fp32"][0]).abs().max().item()
    # the baseline's squeeze is a convolution, so autocast rounds the data it only permutes
    y = torch.randn(8, 4, 16, 16, device=device)
    with torch.autocast(device.type, dtype=torch.bfloat16):
        conv_err = (baseline_squeeze_alt(y).float() - nvp.squeeze_alt(y)).abs().max().item()
    return (f"bf16 check ({config}): max |Δ bits/dim| vs fp32 {dbpd:.2e} "
            f"(bits/dim ≈ {out['fp32'][0].mean().item():.3f}); round trip max |x − x'| fp32 "
            f"{out['fp32'][1]:.1e}, bf16 {out['bf16'][1]:.1e}; |sldj_fwd + sldj_rev| fp32 "
            f"{out['fp32'][2]:.1e}, bf16 {out['bf16'][2]:.1e}. Baseline's conv squeeze under "
            f"autocast: max error {conv_err:.1e} on N(0, 1) values (nvp's reshape: 0)")


def measure(args: argparse.Namespace) -> dict:
    """One (config, impl, precision) in this process: train steps, then sampling."""
    device = torch.device(args.device)
    cfg = CONFIGS[args.config]
    batch = args.batch_size or cfg.batch_size
    autocast = set_precision(args.precision, device)
    model, opt = build(args.impl, cfg, device)
    if args.nchw:
        for m in model.modules():
            if hasattr(m, "set_channels_last"):
                m.set_channels_last(False)
    if args.compile:
        model = torch.compile(model)
    x = make_batch(cfg, batch, device)
    rss0 = max_rss_mib(reset=True)  # model and batch exist; activations, gradients not yet
    with autocast:
        for _ in range(args.warmup):
            train_step(model, opt, x)
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times, cpu_times = [], []
    for _ in range(args.steps):
        t, c = time.perf_counter(), time.process_time()
        with autocast:
            train_step(model, opt, x)
        sync(device)
        times.append(time.perf_counter() - t)
        cpu_times.append(time.process_time() - c)
    peak = (torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda"
            else max_rss_mib() - rss0)
    out = {"step_s": times, "step_cpu_s": cpu_times, "peak_mib": peak, "batch": batch,
           "params": sum(p.numel() for p in model.parameters())}
    if args.sample:
        model.eval()
        z = torch.randn(batch, cfg.in_channels, cfg.size, cfg.size, device=device)
        stimes = []
        with torch.no_grad(), autocast:
            for i in range(args.warmup + args.steps):
                t = time.perf_counter()
                model(z, reverse=True)
                sync(device)
                if i >= args.warmup:
                    stimes.append(time.perf_counter() - t)
        out["sample_s"] = stimes
    return out


def run_child(args: argparse.Namespace, config: str, impl: str, precision: str) -> dict:
    env = dict(os.environ)
    if impl == "nvp-before":  # the old package first on the path
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.before, env.get("PYTHONPATH")]))
    cmd = [sys.executable, __file__, "--child", "--device", args.device, "--config", config,
           "--impl", impl.removesuffix("-before"), "--precision", precision,
           "--steps", str(args.steps), "--warmup", str(args.warmup),
           "--batch-size", str(args.batch_size)]
    cmd += ["--sample"] * args.sample + ["--compile"] * args.compile
    cmd += ["--nchw"] * args.nchw
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--configs", nargs="+", choices=CONFIGS, default=["cifar10", "mnist-m16b2",
                                                                     "mnist-m32b2"])
    p.add_argument("--impls", nargs="+", choices=("nvp", "baseline"), default=["baseline", "nvp"])
    p.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=["fp32"])
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds per measurement")
    p.add_argument("--steps", type=int, default=3, help="timed steps per round")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=0, help="0: the configuration's batch")
    p.add_argument("--sample", action="store_true", help="also time sampling (reverse pass)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--nchw", action="store_true", help="nvp without channels-last activations")
    p.add_argument("--before", metavar="DIR", help="also time the nvp package found in DIR")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--config", help=argparse.SUPPRESS)
    p.add_argument("--impl", help=argparse.SUPPRESS)
    p.add_argument("--precision", default="fp32", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.before:
        args.impls = [*args.impls, "nvp-before"]
    if args.child:
        print(json.dumps(measure(args)))
        return

    from common import machine
    print(f"# {machine()}")
    print(f"# {' '.join(sys.argv)}")
    print("| config | impl | precision | params | batch | train img/s | train img/s per CPU-s "
          "| sample img/s | peak MiB | step s (median) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for config in args.configs:
        cfg = CONFIGS[config]
        if "baseline" in args.impls:
            rel = check_same_likelihood(cfg, torch.device(args.device))
            assert rel < 1e-5, f"baseline and nvp disagree on log p by {rel:.2g} (relative)"
        if "bf16" in args.precisions:
            print(f"# {check_bf16(config, torch.device(args.device))}", flush=True)
        for precision in args.precisions:
            runs: dict[str, list[dict]] = {impl: [] for impl in args.impls}
            for _ in range(args.rounds):
                for impl in args.impls:
                    runs[impl].append(run_child(args, config, impl, precision))
            wall, cpu = {}, {}
            for impl, rs in runs.items():
                wall[impl] = statistics.median(t for r in rs for t in r["step_s"])
                cpu[impl] = statistics.median(t for r in rs for t in r["step_cpu_s"])
                batch = rs[0]["batch"]
                sample = (f"{batch / statistics.median(t for r in rs for t in r['sample_s']):.1f}"
                          if args.sample else "–")
                peak = max(r["peak_mib"] for r in rs)
                print(f"| {config} | {impl} | {precision} | {rs[0]['params']:,} | {batch} "
                      f"| {batch / wall[impl]:.1f} | {batch / cpu[impl]:.1f} | {sample} "
                      f"| {peak:.0f} | {wall[impl]:.3f} |", flush=True)
            for ref in ("baseline", "nvp-before"):
                if {"nvp", ref} <= wall.keys():
                    print(f"| {config} | **nvp / {ref}** | {precision} | | "
                          f"| **{wall[ref] / wall['nvp']:.2f}×** "
                          f"| **{cpu[ref] / cpu['nvp']:.2f}×** | | | |", flush=True)
    print(f"# finished; {machine()}")


if __name__ == "__main__":
    main()
