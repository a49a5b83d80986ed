"""Tests of nvp.data. They never use the internet: downloads go to a loopback server
(127.0.0.1) serving small files written here in the real formats."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import pickle
import socket
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from nvp.data import DATASETS, cache_dir, image_shape, load_dataset, random_hflip
from nvp.data import download as dl
from nvp.data.readers import (
    IDX_IMAGES_MAGIC,
    IDX_LABELS_MAGIC,
    read_cifar10,
    read_idx_images,
    read_idx_labels,
)

IDX_NAMES = ("mnist", "fashion-mnist")


# ----------------------------------------------------------------- fake files
def write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    """Write a uint8 array as a gzip'd IDX file: magic, sizes (big-endian), data."""
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_cifar10(path: Path, batches: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Write a CIFAR-10-style tar.gz of pickled batches (bytes keys, as Python 2 made them)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, (x, y) in batches.items():
            batch = {
                b"batch_label": name.encode(),
                b"data": x.reshape(len(x), 3072),
                b"labels": [int(v) for v in y],
            }
            payload = pickle.dumps(batch, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))


def closed_port() -> int:
    """A loopback port on which nothing listens (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Small MNIST and CIFAR-10 files, their arrays and their MD5 checksums."""
    folder = tmp_path_factory.mktemp("mirror")
    rng = np.random.default_rng(0)
    arrays = {}
    for split, prefix, n in (("train", "train", 6), ("test", "t10k", 3)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n, dtype=np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", x, IDX_IMAGES_MAGIC)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", y, IDX_LABELS_MAGIC)
        arrays["idx", split] = (x, y)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = (
            rng.integers(0, 256, (2, 3, 32, 32), dtype=np.uint8),
            rng.integers(0, 10, 2, dtype=np.uint8),
        )
    write_cifar10(folder / "cifar-10-python.tar.gz", batches)
    train = list(batches.values())[:5]
    arrays["cifar10", "train"] = (
        np.concatenate([b[0] for b in train]),
        np.concatenate([b[1] for b in train]),
    )
    arrays["cifar10", "test"] = batches["test_batch"]
    md5 = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    return {"folder": folder, "arrays": arrays, "md5": md5}


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every test: cache in tmp_path, mirror on a closed loopback port, no proxies."""
    monkeypatch.setenv("NVP_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NVP_DATA_MIRROR", f"http://127.0.0.1:{closed_port()}/")
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")


@pytest.fixture
def server(fake: dict, monkeypatch: pytest.MonkeyPatch):
    """Serve the fake files on 127.0.0.1 and use their checksums; yields the request log."""
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    handler = functools.partial(Handler, directory=str(fake["folder"]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv("NVP_DATA_MIRROR", f"http://127.0.0.1:{httpd.server_address[1]}/")
    for name, files in dl.MD5.items():
        monkeypatch.setitem(dl.MD5, name, {f: fake["md5"][f] for f in files})
    try:
        yield requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


# ------------------------------------------------------------ embedded mnist5k
@pytest.mark.parametrize("split, n", [("train", 4500), ("test", 500)])
def test_mnist5k(split: str, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("mnist5k must not use the network")

    monkeypatch.setattr(dl.urllib.request, "urlopen", no_network)
    x, y = load_dataset("mnist5k", split, with_labels=True)
    assert x.shape == (n, 1, 28, 28) and x.dtype == torch.float32
    assert x.min() >= 0 and x.max() <= 1 and x.max() == 1
    assert torch.equal(torch.round(x * 255) / 255, x)  # multiples of 1/255
    assert y.shape == (n,) and y.dtype == torch.int64
    assert torch.bincount(y, minlength=10).tolist() == [n // 10] * 10
    assert torch.equal(load_dataset("mnist5k", split), x)


def test_mnist5k_train_test_disjoint() -> None:
    train = {img.numpy().tobytes() for img in load_dataset("mnist5k", "train")}
    test = {img.numpy().tobytes() for img in load_dataset("mnist5k", "test")}
    assert len(train) == 4500 and len(test) == 500 and not train & test


def test_image_shape() -> None:
    assert DATASETS == ("mnist5k", "mnist", "fashion-mnist", "cifar10")
    assert [image_shape(name) for name in DATASETS] == [(1, 28, 28)] * 3 + [(3, 32, 32)]


# ------------------------------------------------------------------- arguments
@pytest.mark.parametrize(
    "name, split", [("mnist10", "train"), ("MNIST", "train"), ("mnist5k", "valid")]
)
def test_bad_values(name: str, split: str) -> None:
    with pytest.raises(ValueError, match="mnist5k, mnist, fashion-mnist, cifar10|train, test"):
        load_dataset(name, split)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": 3},
        {"name": "mnist5k", "split": 0},
        {"name": "mnist5k", "root": 1},
        {"name": "mnist5k", "download": "yes"},
        {"name": "mnist5k", "with_labels": 1},
    ],
)
def test_bad_types(kwargs: dict) -> None:
    with pytest.raises(TypeError):
        load_dataset(**kwargs)


def test_image_shape_bad_name() -> None:
    with pytest.raises(ValueError, match="cifar10"):
        image_shape("cifar100")
    with pytest.raises(TypeError):
        image_shape(None)  # type: ignore[arg-type]


def test_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert cache_dir() == tmp_path / "cache"  # NVP_DATA_DIR, set by the autouse fixture
    monkeypatch.delenv("NVP_DATA_DIR")
    assert cache_dir() == Path.home() / ".cache" / "nvp"


# ---------------------------------------------------------------- augmentation
def test_random_hflip() -> None:
    x = torch.rand(1000, 3, 4, 5)
    y = random_hflip(x, torch.Generator().manual_seed(0))
    same = (y == x).flatten(1).all(1)
    mirrored = (y == x.flip(-1)).flatten(1).all(1)
    assert torch.all(same ^ mirrored)  # each image is itself or its mirror, not both
    assert 400 < int(mirrored.sum()) < 600  # about half are flipped
    assert torch.equal(y, random_hflip(x, torch.Generator().manual_seed(0)))
    assert random_hflip(x[:0]).shape == (0, 3, 4, 5)


# --------------------------------------------------------------------- readers
def test_idx_reader(fake: dict, tmp_path: Path) -> None:
    x, y = fake["arrays"]["idx", "train"]
    assert np.array_equal(read_idx_images(fake["folder"] / "train-images-idx3-ubyte.gz"), x)
    assert np.array_equal(read_idx_labels(fake["folder"] / "train-labels-idx1-ubyte.gz"), y)
    with pytest.raises(ValueError, match="magic"):  # labels given where images are expected
        read_idx_images(fake["folder"] / "train-labels-idx1-ubyte.gz")
    short = tmp_path / "short.gz"
    write_idx(short, x, IDX_IMAGES_MAGIC)
    with gzip.open(short, "rb") as f:
        data = f.read()
    with gzip.open(short, "wb") as f:
        f.write(data[:-1])
    with pytest.raises(ValueError, match="bytes"):
        read_idx_images(short)


def test_cifar10_reader(fake: dict) -> None:
    for split in ("train", "test"):
        x, y = read_cifar10(fake["folder"] / "cifar-10-python.tar.gz", split)
        assert np.array_equal(x, fake["arrays"]["cifar10", split][0])
        assert np.array_equal(y, fake["arrays"]["cifar10", split][1])


# ------------------------------------------------------------------- downloads
@pytest.mark.parametrize("name", IDX_NAMES)
def test_download_idx(name: str, fake: dict, server: list[str], tmp_path: Path, capsys) -> None:
    for split in ("train", "test"):
        x, y = load_dataset(name, split, with_labels=True)
        fx, fy = fake["arrays"]["idx", split]
        assert x.shape == (len(fx), 1, 28, 28) and x.dtype == torch.float32
        assert torch.equal(x, torch.from_numpy(fx).float().div(255).unsqueeze(1))
        assert torch.equal(y, torch.from_numpy(fy).long())
    assert len(server) == 4
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err  # the tqdm bar
    files = sorted(p.name for p in (tmp_path / "cache" / name).iterdir())  # in NVP_DATA_DIR
    assert files == sorted(f for f in fake["md5"] if f.endswith("ubyte.gz"))  # no .part left
    load_dataset(name, "train")
    assert len(server) == 4  # second call: read from the cache, no request


def test_download_cifar10(fake: dict, server: list[str], tmp_path: Path) -> None:
    x, y = load_dataset("cifar10", with_labels=True, root=tmp_path / "elsewhere")
    fx, fy = fake["arrays"]["cifar10", "train"]
    assert x.shape == (10, 3, 32, 32) and image_shape("cifar10") == (3, 32, 32)
    assert torch.equal(x, torch.from_numpy(fx).float() / 255)
    assert torch.equal(y, torch.from_numpy(fy).long())
    assert (tmp_path / "elsewhere" / "cifar10" / "cifar-10-python.tar.gz").is_file()
    assert not (tmp_path / "cache").exists()  # root overrides NVP_DATA_DIR
    assert load_dataset("cifar10", "test", root=tmp_path / "elsewhere").shape == (2, 3, 32, 32)
    assert server == ["/cifar-10-python.tar.gz"]  # downloaded once, then reused


def test_checksum_mismatch(
    server: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(dl.MD5, "cifar10", {"cifar-10-python.tar.gz": "0" * 32})
    with pytest.raises(dl.ChecksumError, match="checksum mismatch"):
        load_dataset("cifar10")
    assert len(server) == 1
    assert list((tmp_path / "cache" / "cifar10").iterdir()) == []  # no bad or partial file


def test_connection_refused(tmp_path: Path) -> None:
    with pytest.raises(ConnectionError, match="unreachable") as info:
        load_dataset("mnist")
    assert 'load_dataset("mnist5k")' in str(info.value)
    assert list((tmp_path / "cache" / "mnist").iterdir()) == []


def test_http_error(server: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = dl.base_url("mnist")
    monkeypatch.setenv("NVP_DATA_MIRROR", mirror + "missing")  # no trailing slash: added
    with pytest.raises(RuntimeError, match="HTTP 404"):
        load_dataset("fashion-mnist")
    assert server == ["/missing/train-images-idx3-ubyte.gz"]


def test_no_download(server: list[str]) -> None:
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_dataset("mnist", download=False)
    assert server == []


def test_default_mirrors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NVP_DATA_MIRROR")
    assert dl.base_url("mnist") == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert dl.base_url("cifar10") + "cifar-10-python.tar.gz" == (
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    )
