"""Write ``mnist5k_samples.npz``: 16 samples at temperature 0.7 from checkpoints of the shipped
model's run, taken at a few epochs (the reference of the "Is my run on track?" page).

    python -m nvp.weights.make_samples runs/mnist5k/epoch001.pt runs/mnist5k/epoch005.pt ... \\
        --out nvp/weights/mnist5k_samples.npz

Arrays: ``epochs`` (E,) int, ``samples`` (E, 16, 28, 28) uint8 (pixel values 0–255). Every
checkpoint draws from the same seed, so the pictures differ only by training.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from nvp.training.checkpoint import load_checkpoint, model_from_checkpoint

#: The temperature and the generator seed of every row of samples.
TEMPERATURE = 0.7
SEED = 0


def draw(model: torch.nn.Module, n: int = 16, temperature: float = TEMPERATURE,
         seed: int = SEED) -> np.ndarray:
    """``n`` samples of ``model`` as 8-bit pixel values, ``(n, H, W)`` uint8: one row of the
    file. The same seed for every checkpoint, so rows differ only by training; a model whose
    run's checkpoints are not shipped draws its row live with this (the "on track" page)."""
    gen = torch.Generator().manual_seed(seed)
    x = model.sample(n, temperature=temperature, generator=gen)  # (n, 1, H, W)
    return (x[:, 0] * 255).round().to(torch.uint8).numpy()  # (n, H, W)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--temperature", type=float, default=TEMPERATURE)
    args = p.parse_args()
    epochs, samples = [], []
    for path in args.checkpoints:
        ckpt = load_checkpoint(path)
        model = model_from_checkpoint(ckpt)  # the averaged weights, eval mode
        epochs.append(ckpt["epoch"])
        samples.append(draw(model, temperature=args.temperature))  # (16, 28, 28)
    np.savez_compressed(args.out, epochs=np.array(epochs), samples=np.stack(samples))
    print(f"wrote epochs {epochs} to {args.out}")


if __name__ == "__main__":
    main()
