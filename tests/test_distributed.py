"""Data-parallel training: ``torchrun`` with 2 CPU processes (Gloo) trains as one process.

Both runs see the same global batches with the same dequantization noise (drawn per global batch
and sliced), and ``--sync-bn`` makes batch norm use the global batch's statistics; without it
each process normalises its own share and the runs differ by design.

What sync-BN guarantees, and so what is asserted: in training mode the two runs compute the same
function of the same global batches (every step's loss; the model's outputs on a batch), up to
float rounding. What it does not guarantee, and is not asserted: anything that rests on
directions the loss cannot see. A conv bias whose output only reaches batch norms (which remove
per-channel shifts), the scale of a branch that only reaches batch norms, or the length of a
weight-normed ``v`` (``w = g·v/‖v‖``) has a true gradient of 0, so Adam moves it by float noise,
differently on every CPU. Individual weights therefore differ, and so do the running statistics
that follow them and eval-mode scores such as held-out bits/dim (those differed by 1.7e-4
relative on an AVX-512 Xeon).
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys

import pytest
import torch

from nvp.training import Config, epoch_batches, load_checkpoint, train
from nvp.training.distributed import Distributed, GlobalBatchNorm2d

# global batch 10 over 25 images: batches of 10, 10, 5 -> shares 5/5, 5/5 and 3/2 (uneven).
# The shipped recipe (learned noise, weight averaging) on a tiny model; a constant rate, as the
# run is resumed with more epochs than it started with (a cosine would change its course)
TINY = dict(dataset="mnist5k", batch_size=10, mid_channels=4, num_blocks=1, train_subset=25,
            test_subset=20, lr=2e-3, sync_bn=True, validation=0, precision="fp32", ema=0.9,
            lr_schedule="constant")
CLI = ["--dataset", "mnist5k", "--batch-size", "10", "--mid-channels", "4", "--num-blocks", "1",
       "--train-subset", "25", "--test-subset", "20", "--lr", "2e-3", "--sync-bn", "--quiet",
       "--device", "cpu", "--validation", "0", "--precision", "fp32", "--ema", "0.9",
       "--lr-schedule", "constant"]

# Float32 rounding: a step's loss sums B·D = 10·784 terms; one process and an all-reduce of two
# shares (or another CPU's kernels) add them in other orders, and rounding errors of eps = 2^-24
# each accumulate like a random walk, to about √(B·D)·eps of the sum. Four times that (4e-5
# relative) separates rounding from a real difference: without --sync-bn, losses differ by ~1e-2.
ROUNDING = 4 * math.sqrt(10 * 784) * 2.0**-24

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(out, epochs: int, *extra: str) -> None:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
           "--master_addr=127.0.0.1", f"--master_port={free_port()}", "-m", "nvp", "train",
           "--epochs", str(epochs), "--out", str(out), *CLI, *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert done.stdout.count("best test bits/dim") == 1  # process 0 reports, alone


def test_two_processes_with_sync_bn_equal_one_process_and_resume(tmp_path):
    torchrun(tmp_path / "ddp", 1)
    torchrun(tmp_path / "ddp", 2, "--resume")  # resumed on 2 processes from epoch 1
    _, metrics = train(Config(epochs=2, **TINY), tmp_path / "one", device="cpu",
                       progress=False, log=lambda s: s)
    ckpt, one = (load_checkpoint(tmp_path / d / "last.pt") for d in ("ddp", "one"))
    assert ckpt["config"] == Config(epochs=2, **TINY).to_dict()
    # every step's global-batch loss (training mode: batch statistics of the global batch)
    torch.testing.assert_close(ckpt["metrics"]["step_bpd"], metrics["step_bpd"],
                               rtol=ROUNDING, atol=0)
    # the function, in training mode (batch statistics): the trained weights and their average
    x, u = torch.rand(6, 1, 28, 28), torch.rand(6, 1, 28, 28)
    for part in ("model", "ema"):
        outputs = []
        for c in (ckpt, one):
            model = Config(epochs=2, **TINY).build_model().train()
            model.load_state_dict(c[part])
            outputs.append(model(x, noise=u))
        for a, b in zip(*outputs, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4, msg=part)


@pytest.mark.parametrize("world", [2, 3])
def test_shares_of_a_global_batch_are_the_single_process_batch(world):
    """Same images, same flips and dequantization noise, however many processes share them."""
    data = torch.rand(23, 1, 4, 4)
    config = Config(batch_size=7, hflip=True, seed=3)
    single = [(x, u) for x, u, _, _ in epoch_batches(data, config, epoch=1)]
    ranks = [Distributed(r, world, r, torch.device("cpu")) for r in range(world)]
    shares = [list(epoch_batches(data, config, epoch=1, dist=d)) for d in ranks]
    # the last batch (2 images) is skipped when there are more processes than images
    assert len(shares[0]) == len(single) - (world > 2)
    for i, parts in enumerate(zip(*shares, strict=True)):
        assert {n for _, _, n, _ in parts} == {len(single[i][0])}
        sizes = [len(x) for x, _, _, _ in parts]
        assert max(sizes) - min(sizes) <= 1
        for k in (0, 1):  # images, then their noise
            torch.testing.assert_close(torch.cat([p[k] for p in parts]), single[i][k], rtol=0,
                                       atol=0)


def test_global_batch_norm_is_plain_batch_norm_in_one_process():
    torch.manual_seed(0)
    plain, glob = torch.nn.BatchNorm2d(3), GlobalBatchNorm2d(3)
    x = torch.randn(4, 3, 5, 5)
    torch.testing.assert_close(glob(x), plain(x))
    torch.testing.assert_close(glob.running_var, plain.running_var)
