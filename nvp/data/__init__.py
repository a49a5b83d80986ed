"""Image datasets for Real NVP, as float tensors (N, C, H, W) with values in [0, 1].

* ``"mnist5k"``: 5,000 MNIST digits embedded in the package (4,500 train / 500 test);
  works offline and needs only numpy. See ``nvp/data/MNIST5K.md`` for its origin.
* ``"mnist"``, ``"fashion-mnist"`` (60,000 / 10,000, 1x28x28) and ``"cifar10"``
  (50,000 / 10,000, 3x32x32): downloaded once into ``cache_dir()`` and checked
  against their published MD5 checksums.

Example::

    from nvp.data import load_dataset, random_hflip

    x = load_dataset("mnist5k")                   # (4500, 1, 28, 28) float32
    x, y = load_dataset("cifar10", "test", with_labels=True)
    x = random_hflip(x)                           # augmentation for CIFAR-10
"""

from __future__ import annotations

import os
from importlib import resources

import numpy as np
import torch

from .augment import random_hflip
from .download import cache_dir, fetch
from .readers import read_cifar10, read_idx_images, read_idx_labels

__all__ = ["DATASETS", "SPLITS", "cache_dir", "image_shape", "load_dataset", "random_hflip"]

DATASETS: tuple[str, ...] = ("mnist5k", "mnist", "fashion-mnist", "cifar10")
SPLITS: tuple[str, ...] = ("train", "test")

_SHAPES: dict[str, tuple[int, int, int]] = {
    "mnist5k": (1, 28, 28),
    "mnist": (1, 28, 28),
    "fashion-mnist": (1, 28, 28),
    "cifar10": (3, 32, 32),
}
_IDX_PREFIX = {"train": "train", "test": "t10k"}  # file names of the IDX datasets


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a str, got {type(name).__name__}")
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    return name


def image_shape(name: str) -> tuple[int, int, int]:
    """Return the shape (C, H, W) of one image of dataset ``name``, without loading it."""
    return _SHAPES[_check_name(name)]


def _load_mnist5k(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read the embedded subset (package data, found even inside an installed wheel)."""
    with resources.files(__name__).joinpath("mnist5k.npz").open("rb") as f:
        with np.load(f) as npz:
            return npz[f"{split}_images"], npz[f"{split}_labels"]


def _load_idx_dataset(
    name: str, split: str, root: str | os.PathLike | None, download: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Read MNIST or Fashion-MNIST from the cache, downloading the two files if needed."""
    prefix = _IDX_PREFIX[split]
    images = read_idx_images(fetch(name, f"{prefix}-images-idx3-ubyte.gz", root, download))
    labels = read_idx_labels(fetch(name, f"{prefix}-labels-idx1-ubyte.gz", root, download))
    if len(images) != len(labels):
        raise ValueError(f"{name} {split}: {len(images)} images but {len(labels)} labels")
    return images, labels


def load_dataset(
    name: str,
    split: str = "train",
    *,
    root: str | os.PathLike | None = None,
    download: bool = True,
    with_labels: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Load a dataset as a float32 tensor (N, C, H, W) with values k/255 in [0, 1].

    Args:
        name: one of ``DATASETS``: "mnist5k", "mnist", "fashion-mnist", "cifar10".
        split: "train" or "test".
        root: cache folder for downloaded files (default: ``cache_dir()``).
        download: download missing files; if False a missing file raises
            ``FileNotFoundError``. Ignored for the embedded "mnist5k".
        with_labels: also return the labels, an int64 tensor (N,).

    Raises:
        ValueError: unknown name or split (the message lists the valid ones).
        TypeError: an argument of the wrong type.
        ConnectionError: the download failed because the network is unreachable.
    """
    _check_name(name)
    if not isinstance(split, str):
        raise TypeError(f"split must be a str, got {type(split).__name__}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a str, a path or None, got {type(root).__name__}")
    for arg, value in (("download", download), ("with_labels", with_labels)):
        if not isinstance(value, bool):
            raise TypeError(f"{arg} must be a bool, got {type(value).__name__}")

    if name == "mnist5k":
        images, labels = _load_mnist5k(split)
    elif name == "cifar10":
        images, labels = read_cifar10(fetch(name, "cifar-10-python.tar.gz", root, download), split)
    else:
        images, labels = _load_idx_dataset(name, split, root, download)

    x = torch.from_numpy(images.astype(np.float32)).div_(255.0)
    x = x.reshape(len(images), *_SHAPES[name])
    if with_labels:
        return x, torch.from_numpy(labels.astype(np.int64))
    return x
