"""Command line: ``python -m nvp train | evaluate | sample`` (see ``--help`` of each).

``torchrun --nproc_per_node=N -m nvp train …`` trains on N processes (see :mod:`nvp.distributed`).
"""

from __future__ import annotations

import argparse
import sys

import torch

from .checkpoint import load_checkpoint, model_from_checkpoint
from .config import LR_SCHEDULES, Config
from .data import DATASETS, image_shape, load_dataset
from .distributed import session
from .grid import save_grid
from .training import default_device, evaluate, train


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nvp", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    d = Config()

    t = sub.add_parser("train", help="train by maximum likelihood, writing last.pt and best.pt")
    t.add_argument("--dataset", choices=DATASETS, default=d.dataset)
    t.add_argument("--epochs", type=int, default=d.epochs)
    t.add_argument("--out", required=True, help="folder for last.pt and best.pt")
    t.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    t.add_argument("--batch-size", type=int, default=d.batch_size)
    t.add_argument("--lr", type=float, default=d.lr)
    t.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=d.lr_schedule,
                   help="cosine: decay to 0 over --epochs")
    t.add_argument("--weight-decay", type=float, default=d.weight_decay)
    t.add_argument("--max-grad-norm", type=float, default=d.max_grad_norm)
    t.add_argument("--num-scales", type=int, default=d.num_scales)
    t.add_argument("--mid-channels", type=int, default=d.mid_channels)
    t.add_argument("--num-blocks", type=int, default=d.num_blocks)
    t.add_argument("--data-constraint", type=float, default=d.data_constraint,
                   help="β of the logit pre-processing (paper: 0.9; MNIST: 0.99998)")
    t.add_argument("--hflip", action="store_true", help="random horizontal flips (CIFAR-10)")
    t.add_argument("--train-subset", type=int, default=0, help="use the first N training images")
    t.add_argument("--test-subset", type=int, default=0, help="use the first N held-out images")
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--device", default=None, help="cpu, cuda, cuda:1 … (default: cuda if present;"
                   " under torchrun cuda:LOCAL_RANK, or cpu)")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.add_argument("--compile", action="store_true", help="torch.compile the model (opt-in)")
    t.add_argument("--bf16", action="store_true",
                   help="s/t networks in bfloat16 in training steps (faster on recent hardware)")
    t.add_argument("--sync-bn", action="store_true",
                   help="under torchrun: batch-norm statistics over the global batch")

    e = sub.add_parser("evaluate", help="held-out bits/dim of a checkpoint")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--dataset", choices=DATASETS, default=None, help="default: the trained one")
    e.add_argument("--split", choices=("train", "test"), default="test")
    e.add_argument("--draws", type=int, default=1, help="dequantization draws to average")
    e.add_argument("--device", default=None)

    s = sub.add_parser("sample", help="write a grid of samples as a PNG")
    s.add_argument("--checkpoint", required=True)
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--out", required=True, help="PNG file")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    device = torch.device(args.device) if args.device else default_device()
    try:
        if args.command == "train":
            c, h, w = image_shape(args.dataset)
            config = Config(
                dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
                lr=args.lr, lr_schedule=args.lr_schedule, weight_decay=args.weight_decay,
                max_grad_norm=args.max_grad_norm, num_scales=args.num_scales,
                mid_channels=args.mid_channels, num_blocks=args.num_blocks,
                data_constraint=args.data_constraint, hflip=args.hflip,
                train_subset=args.train_subset, test_subset=args.test_subset, seed=args.seed,
                in_channels=c, image_size=(h, w), compile=args.compile, bf16=args.bf16,
                sync_bn=args.sync_bn,
            )
            with session(args.device) as dist:  # None unless started by torchrun
                _, metrics = train(config, args.out, resume=args.resume, device=device,
                                   progress=not args.quiet, dist=dist)
            if dist is None or dist.is_main:
                print(f"best held-out bits/dim: {metrics['best_test_bpd']:.4f} "
                      f"(epoch {metrics['best_epoch']})")
        elif args.command == "evaluate":
            ckpt = load_checkpoint(args.checkpoint)
            model = model_from_checkpoint(ckpt).to(device)
            data = load_dataset(args.dataset or ckpt["config"]["dataset"], args.split)
            bpd = evaluate(model, data, draws=args.draws, device=device)
            print(f"bits/dim: {bpd:.4f}")
        else:
            model = model_from_checkpoint(load_checkpoint(args.checkpoint)).to(device)
            gen = torch.Generator(device=device).manual_seed(args.seed)
            x = model.sample(args.n, temperature=args.temperature, generator=gen)
            save_grid(x, args.out)
            print(f"wrote {args.n} samples to {args.out}")
    except (ValueError, TypeError, FileNotFoundError, ConnectionError, FloatingPointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0
