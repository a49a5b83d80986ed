"""Quality at a budget: held-out bits/dim on MNIST-5k after a fixed wall-clock training time.

    python benchmarks/quality.py --seconds 600                  # the trainer's best CPU recipe
    python benchmarks/quality.py --seconds 600 --recipe paper   # DESIGN.md's reference protocol
    python benchmarks/quality.py --seconds 600 --split valid    # tuning: never look at the test

Recipes (both: batch 64, Adam at 1e-3, train until ``--seconds`` have passed, checked after every
step, evaluation not counted; then bits/dim averaged over 4 dequantization draws):

* ``paper``: the protocol of DESIGN.md's reference numbers: constant rate, uniform
  dequantization, float32, β from ``--data-constraint`` (0.9 by default). ``--impl baseline``
  trains the straightforward implementation this way.
* ``best``: ``nvp``'s trainer recipe: β = 0.99998, variational dequantization, the learning rate
  decayed by a cosine over the *time* budget (``lr·(1 + cos(π·t/T))/2`` after ``t`` of ``T``
  seconds), weight averaging (EMA 0.999) for evaluation, and the precision chosen by timing both
  (the probe's seconds count against the budget).

``--split test`` (default) trains on the 4,500 training digits and scores the 500 test digits, as
the references did; ``--split valid`` trains on 4,000 and scores 500 validation digits set aside
from the training split (``nvp.training.load_data``): choose recipes with it, then score the test
once.
"""

from __future__ import annotations

import argparse
import time

import torch
from common import CONFIGS, build, machine, plain_train_step

from nvp.training import Config, epoch_batches, evaluate, learning_rate, load_data, train_step
from nvp.training.average import WeightAverage
from nvp.training.precision import choose_precision


def recipe_config(args: argparse.Namespace) -> Config:
    cfg = CONFIGS[args.config]
    best = args.recipe == "best"
    beta = args.data_constraint or (0.99998 if best else 0.9)
    return Config(dataset="mnist5k", mid_channels=args.mid_channels or cfg.mid_channels,
                  num_blocks=args.num_blocks or cfg.num_blocks, batch_size=args.batch_size,
                  lr=1e-3, seed=args.seed, data_constraint=beta,
                  dequantization="variational" if best else "uniform",
                  ema=0.999 if best else 0.0, precision="auto" if best else "fp32",
                  lr_schedule="cosine" if best else "constant",
                  validation=500 if args.split == "valid" else 0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=600.0)
    p.add_argument("--recipe", choices=("best", "paper"), default="best")
    p.add_argument("--config", choices=[c for c in CONFIGS if c.startswith("mnist")],
                   default="mnist-m32b2")
    p.add_argument("--mid-channels", type=int, default=0, help="override the config's width")
    p.add_argument("--num-blocks", type=int, default=0, help="override the config's depth")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--impl", choices=("nvp", "baseline"), default="nvp")
    p.add_argument("--split", choices=("test", "valid"), default="test")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-constraint", type=float, default=0.0, help="β (default: the recipe's)")
    args = p.parse_args()
    if args.impl == "baseline" and args.recipe != "paper":
        p.error("the baseline trains with --recipe paper only")
    device = torch.device(args.device)
    config = recipe_config(args)
    torch.manual_seed(args.seed)
    if args.impl == "nvp":
        model = config.build_model().to(device)
        opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    else:
        model, opt = build("baseline", CONFIGS[args.config], device, seed=args.seed,
                           data_constraint=config.data_constraint)
    train_data = load_data(config, "train").to(device)
    heldout = load_data(config, args.split).to(device)
    average = WeightAverage(model, config.ema) if config.ema else None
    start = time.perf_counter()
    if config.precision == "auto":
        x, u, _, _ = next(epoch_batches(train_data, config, 0))
        choice, seconds = choose_precision(model, x, u, config, train_step)
        print(f"# precision: {choice} ({', '.join(f'{k} {v:.3f} s' for k, v in seconds.items())}"
              " per step)")
        config.precision = choice
    steps, epoch = 0, 0
    while (elapsed := time.perf_counter() - start) < args.seconds:
        for x, u, _, _ in epoch_batches(train_data, config, epoch):
            for group in opt.param_groups:  # the cosine runs over the time budget
                group["lr"] = learning_rate(config, elapsed, args.seconds)
            if args.impl == "nvp":
                train_step(model, opt, x, u, config)
            else:  # dequantizes inside the model
                plain_train_step(model, opt, x)
            if average is not None:
                average.update()
            steps += 1
            if (elapsed := time.perf_counter() - start) >= args.seconds:
                break
        epoch += 1
    scored = average.model if average is not None else model
    bpd = evaluate(scored, heldout, batch_size=500, draws=4, seed=0)
    print(f"# {machine()}")
    print(f"{args.impl} recipe={args.recipe} {args.config} mid={config.mid_channels} "
          f"blocks={config.num_blocks} beta={config.data_constraint} "
          f"precision={config.precision}: {steps} steps "
          f"({steps * config.batch_size / len(train_data):.2f} epochs) in {elapsed:.0f} s -> "
          f"{args.split} {bpd:.4f} bits/dim (4 dequantization draws)")


if __name__ == "__main__":
    main()
