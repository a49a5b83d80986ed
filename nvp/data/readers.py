"""Readers for the original file formats of MNIST / Fashion-MNIST and CIFAR-10.

* IDX (MNIST, Fashion-MNIST), gzip-compressed: a big-endian header
  ``0x00 0x00 <type> <ndim>`` (type ``0x08`` = unsigned byte), then ``ndim`` sizes as
  big-endian 32-bit integers, then the data. Images have magic number 2051
  (``0x00000803``, 3 dimensions), labels 2049 (``0x00000801``, 1 dimension).
* CIFAR-10 "python version": a ``.tar.gz`` holding ``cifar-10-batches-py/data_batch_1``
  to ``data_batch_5`` (train) and ``test_batch``, each a pickled dict with ``b"data"``,
  an (N, 3072) uint8 array (1024 red, 1024 green, then 1024 blue values, each a 32x32
  image row by row), and ``b"labels"``, a list of N integers.
"""

from __future__ import annotations

import gzip
import os
import pickle
import tarfile

import numpy as np

IDX_IMAGES_MAGIC = 0x00000803  # 2051
IDX_LABELS_MAGIC = 0x00000801  # 2049

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_BATCHES = {
    "train": [f"data_batch_{i}" for i in range(1, 6)],
    "test": ["test_batch"],
}


def read_idx(path: str | os.PathLike, magic: int) -> np.ndarray:
    """Read a gzip-compressed IDX file of unsigned bytes and return it as a uint8 array.

    ``magic`` is the expected magic number (``IDX_IMAGES_MAGIC`` or ``IDX_LABELS_MAGIC``);
    a different one, or a file of the wrong length, raises ``ValueError``.
    """
    with gzip.open(path, "rb") as f:
        data = f.read()
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise ValueError(f"{path}: bad IDX magic number {found:#010x}, expected {magic:#010x}")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int(n) for n in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    if len(data) - header != int(np.prod(shape)):
        raise ValueError(f"{path}: {len(data) - header} data bytes, header says shape {shape}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_idx_images(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX image file: uint8 array (N, H, W)."""
    return read_idx(path, IDX_IMAGES_MAGIC)


def read_idx_labels(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX label file: uint8 array (N,)."""
    return read_idx(path, IDX_LABELS_MAGIC)


def read_cifar10(path: str | os.PathLike, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read a split of CIFAR-10 from ``cifar-10-python.tar.gz``, without extracting it.

    Returns images, a uint8 array (N, 3, 32, 32), and labels, a uint8 array (N,).
    """
    wanted = {f"{CIFAR10_FOLDER}/{name}" for name in CIFAR10_BATCHES[split]}
    batches: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:  # read in archive order: one pass over the gzip stream
            if member.name not in wanted:
                continue
            f = tar.extractfile(member)
            if f is None:
                raise ValueError(f"{path}: {member.name} is not a regular file")
            # The batches are pickles: unpickling untrusted data can run code. This is
            # safe here only because the archive is the one the user chose to download
            # and its MD5 checksum was verified against the published one.
            batch = pickle.load(f, encoding="bytes")
            data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            labels = np.asarray(batch[b"labels"], dtype=np.uint8)
            if len(data) != len(labels):
                raise ValueError(f"{member.name}: {len(data)} images but {len(labels)} labels")
            batches[member.name] = (data, labels)
    missing = sorted(wanted - batches.keys())
    if missing:
        raise ValueError(f"{path}: missing {', '.join(missing)}")
    ordered = [batches[name] for name in sorted(batches)]  # data_batch_1 .. data_batch_5
    images = np.concatenate([images for images, _ in ordered])
    labels = np.concatenate([labels for _, labels in ordered])
    return images, labels
