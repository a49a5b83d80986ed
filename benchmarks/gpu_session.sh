#!/usr/bin/env bash
# One GPU session (an H200 lent for 15 minutes), run from the repository root as
#   OUT=/some/folder bash benchmarks/gpu_session.sh
# 1. Trains, side by side on the one GPU (each process is launch-bound, so they share it well):
#    - the class-conditional recipe three ways (label into the s/t nets, a class prior, both), the
#      shipped recipe otherwise (50 epochs), to choose the shipped conditional model on validation;
#    - the unconditional shipped recipe with another seed (seed 1): the second checkpoint the book
#      is built against (issue "Every number on the page comes from the run");
#    - the same four at a short budget (3 epochs, cosine over 3: what a 2-core CPU trains in
#      about 10 minutes) for the comparison of the designs at a budget a CPU reader can afford.
# 2. Keeps, of each long run, the weights that are scored (EMA) with config and metrics, no
#    optimizer state, in $OUT/*.pt; all metrics in $OUT/metrics.json; logs in $OUT/log.txt.
# 3. Then, alone on the GPU, the throughput benchmark of benchmarks/RESULTS.md.
set -u
export PYTHONPATH=$PWD OMP_NUM_THREADS=2 PYTHONUNBUFFERED=1
runs=${RUNS:-/tmp/runs}
mkdir -p "$runs" "$OUT"
start=$(date +%s)
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
  nproc; } > "$runs/machine.txt" 2>&1

train() {  # name, then options of python -m nvp train
  local name=$1; shift
  # shellcheck disable=SC2086  # EXTRA: options for a dry run elsewhere, word-split on purpose
  timeout "${LIMIT:-390}" python3 -m nvp train --out "$runs/$name" --quiet \
    --device "${DEVICE:-cuda}" --precision fp32 "$@" ${EXTRA:-} > "$runs/$name.log" 2>&1
  echo "exit $? after $(( $(date +%s) - start )) s" >> "$runs/$name.log"
}
for c in st prior both; do
  train "cond-$c" --num-classes 10 --conditioning "$c" &
  train "short-cond-$c" --num-classes 10 --conditioning "$c" --epochs 3 &
done
train uncond-seed1 --seed 1 &
train short-uncond --epochs 3 &
wait

python3 - "$runs" "$OUT" <<'PY'
import json, sys
from pathlib import Path

import torch

from nvp.training import load_checkpoint, save_checkpoint

runs, out = Path(sys.argv[1]), Path(sys.argv[2])
metrics = {}
for d in sorted(p for p in runs.iterdir() if p.is_dir()):
    if not (d / "last.pt").exists():
        continue
    last = load_checkpoint(d / "last.pt")
    metrics[d.name] = {"epoch": last["epoch"], "config": last["config"], **last["metrics"]}
    metrics[d.name].pop("step_bpd", None)
    if not d.name.startswith("short"):
        best = load_checkpoint(d / "best.pt")
        slim = {k: v for k, v in best.items() if k not in ("optimizer", "ema", "model")}
        slim["model"] = best.get("ema") or best["model"]  # the scored weights
        save_checkpoint(slim, out / f"{d.name}.pt")
(out / "metrics.json").write_text(json.dumps(metrics, indent=1))
PY
echo "training and export: $(( $(date +%s) - start )) s" >> "$runs/machine.txt"

timeout "${BENCH_LIMIT:-140}" python3 benchmarks/bench.py --device cuda \
  --precisions fp32 tf32 bf16 --rounds 3 --steps 20 --warmup 5 --sample > "$runs/bench.txt" 2>&1
echo "bench exit $? after $(( $(date +%s) - start )) s" >> "$runs/bench.txt"
for f in "$runs"/machine.txt "$runs"/*.log "$runs"/bench.txt; do
  echo "=== $(basename "$f")"; cat "$f"
done > "$OUT/log.txt"
tail -n 40 "$OUT/log.txt"
