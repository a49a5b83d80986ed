"""Command line: ``python -m nvp train | evaluate | sample`` (see ``--help`` of each).

``train`` has one option per field of :class:`~nvp.training.config.Config` (``mid_channels`` is
``--mid-channels``), with the field's default, its help (the field's metadata) and, for a
``Literal`` field, its choices, so the two cannot drift.
``torchrun --nproc_per_node=N -m nvp train …`` trains on N processes
(see :mod:`nvp.training.distributed`).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import torch

from ..data import DATASETS, image_shape
from .checkpoint import load_checkpoint, model_from_checkpoint
from .config import Config, choices, field_help
from .distributed import session
from .evaluate import conditional_report, evaluate
from .images import save_grid
from .loop import train
from .steps import default_device, load_data

# Set from the dataset, not on the command line
DERIVED = ("in_channels", "image_size", "notes")


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`Config` field, typed, with its default, help and choices."""
    helps, allowed = field_help(), {**choices(), "dataset": DATASETS}
    for f in dataclasses.fields(Config):
        if f.name in DERIVED:
            continue
        flag = "--" + f.name.replace("_", "-")
        default = f.default
        kw: dict = {"default": default, "help": helps[f.name].replace("%", "%%")}
        if isinstance(default, bool):
            kw["action"] = argparse.BooleanOptionalAction
        else:
            kw["type"] = type(default)
            kw["choices"] = allowed.get(f.name)
        parser.add_argument(flag, **kw)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nvp", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train by maximum likelihood, writing last.pt and best.pt")
    t.add_argument("--out", required=True, help="folder for last.pt and best.pt")
    t.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    t.add_argument("--device", default=None, help="cpu, cuda, cuda:1 … (default: cuda if present;"
                   " under torchrun cuda:LOCAL_RANK, or cpu)")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_options(t)

    e = sub.add_parser("evaluate", help="bits/dim of a checkpoint on a split")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--dataset", choices=DATASETS, default=None, help="default: the trained one")
    e.add_argument("--split", choices=("train", "valid", "test"), default="test",
                   help="valid: the images the run set aside (Config.validation)")
    e.add_argument("--draws", type=int, default=1, help="dequantization draws to average")
    e.add_argument("--importance-weighted", action="store_true",
                   help="combine the draws by log-mean-exp (a tighter bound; e.g. --draws 8)")
    e.add_argument("--device", default=None)

    s = sub.add_parser("sample", help="write a grid of samples as a PNG")
    s.add_argument("--checkpoint", required=True)
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--out", required=True, help="PNG file")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--label", type=int, default=None,
                   help="the class to sample (class-conditional checkpoints)")
    s.add_argument("--device", default=None)

    x = sub.add_parser("export", help="write the model as ONNX: encode.onnx, decode.onnx")
    x.add_argument("--checkpoint", required=True)
    x.add_argument("--out", required=True, help="folder for the two graphs and manifest.json")
    x.add_argument("--opset", type=int, default=18, help="ONNX opset, 18 to 21")
    x.set_defaults(device=None)  # export runs on the CPU
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    device = torch.device(args.device) if args.device else default_device()
    try:
        if args.command == "train":
            c, h, w = image_shape(args.dataset)
            names = [f.name for f in dataclasses.fields(Config) if f.name not in DERIVED]
            config = Config(**{n: getattr(args, n) for n in names}, in_channels=c,
                            image_size=(h, w))
            with session(args.device) as dist:  # None unless started by torchrun
                _, metrics = train(config, args.out, resume=args.resume, device=device,
                                   progress=not args.quiet, dist=dist)
            if dist is None or dist.is_main:
                print(f"best {metrics['heldout']} bits/dim: {metrics['best_heldout_bpd']:.4f} "
                      f"(epoch {metrics['best_epoch']})")
        elif args.command == "evaluate":
            ckpt = load_checkpoint(args.checkpoint)
            model = model_from_checkpoint(ckpt).to(device)
            config = Config.from_dict({**ckpt["config"],
                                       "dataset": args.dataset or ckpt["config"]["dataset"]})
            x, y = load_data(config, args.split, labels=True)
            kw = {"draws": args.draws, "device": device,
                  "importance_weighted": args.importance_weighted}
            if not config.num_classes:
                print(f"{args.split} bits/dim: {evaluate(model, x, **kw):.4f}")
            else:
                r = conditional_report(model, x, y, **kw)
                print(f"{args.split} bits/dim: {r['conditional_bpd']:.4f} given the label "
                      f"(-log p(x|y)), {r['marginal_bpd']:.4f} marginal (-log p(x));\n"
                      f"the label is worth {r['label_bits']:.1f} bits per image; classifier "
                      f"argmax_y p(x|y): {100 * r['accuracy']:.1f}% correct")
        elif args.command == "export":
            from .export import export_checkpoint  # needs nvp[export]

            paths = export_checkpoint(args.checkpoint, args.out, opset=args.opset)
            print("wrote " + ", ".join(str(p) for p in paths.values()))
        else:
            model = model_from_checkpoint(load_checkpoint(args.checkpoint)).to(device)
            if args.label is not None and not 0 <= args.label < model.num_classes:
                raise ValueError(
                    f"--label {args.label}: this checkpoint's labels are 0..{model.num_classes - 1}"
                    if model.num_classes else
                    f"--label {args.label}: this checkpoint is unconditional (no labels)")
            if model.num_classes and args.label is None:
                raise ValueError(f"this checkpoint is class-conditional: pass --label "
                                 f"0..{model.num_classes - 1}")
            gen = torch.Generator(device=device).manual_seed(args.seed)
            x = model.sample(args.n, temperature=args.temperature, generator=gen, y=args.label)
            save_grid(x, args.out)
            print(f"wrote {args.n} samples to {args.out}")
    except (ValueError, TypeError, FileNotFoundError, ConnectionError, FloatingPointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0
