#!/usr/bin/env bash
# Chapter 6's GPU path, timed on one GPU: the Config its GPU branch builds for MNIST (mid_channels
# 64, 4 blocks, beta 0.99998, uniform noise, no weight averaging, 30 epochs), on the embedded
# MNIST-5k (the GPU machine has no network to download the full MNIST the chapter uses), through
# the same trainer (`python -m nvp train`). Run from the repository root: OUT=dir bash this.
set -u
export PYTHONPATH=$PWD OMP_NUM_THREADS=2 PYTHONUNBUFFERED=1
mkdir -p "$OUT"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
} > "$OUT/machine.txt" 2>&1
start=$(date +%s)
for precision in fp32 bf16; do  # side by side: each run is launch-bound, not GPU-bound
  /usr/bin/time -f "%e s wall" timeout 240 python3 -m nvp train --out "/tmp/ch06-$precision" --dataset mnist5k \
    --mid-channels 64 --num-blocks 4 --data-constraint 0.99998 --dequantization uniform \
    --ema 0 --epochs 30 --validation 500 --precision "$precision" --device cuda \
    > "$OUT/ch06-$precision.log" 2>&1 &
done
wait
echo "both runs done after $(( $(date +%s) - start )) s" >> "$OUT/machine.txt"
python3 - "$OUT" <<'PY'
import json, sys, torch
out = {}
for p in ("fp32", "bf16"):
    try:
        ck = torch.load(f"/tmp/ch06-{p}/last.pt", map_location="cpu", weights_only=False)
        m = ck.get("metrics", {})
        out[p] = {k: m.get(k) for k in ("heldout_bpd", "best_heldout_bpd", "best_epoch",
                                        "train_bpd", "precision")}
        out[p]["epoch"], out[p]["steps"] = ck.get("epoch"), ck.get("step")
    except Exception as e:  # noqa: BLE001
        out[p] = repr(e)
json.dump(out, open(f"{sys.argv[1]}/ch06.json", "w"), indent=1, default=str)
PY
