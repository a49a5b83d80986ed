"""Download dataset files into a cache folder, with a progress bar and an MD5 check.

Files are stored as ``<cache>/<dataset>/<file name>``. The cache folder is
``~/.cache/nvp`` unless the environment variable ``NVP_DATA_DIR`` says otherwise.

A download is written to a temporary file in the same folder, its MD5 checksum is
compared with the published one, and only then is it renamed to its final name with
``os.replace`` (atomic). So a file in the cache is always complete and verified, and
a failed or corrupt download leaves nothing behind.

The base URL of every dataset is in ``MIRRORS``; the environment variable
``NVP_DATA_MIRROR`` replaces it for all datasets (for example a local copy served
over HTTP, holding the files under their original names).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

MIRRORS: dict[str, str] = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "cifar10": "https://www.cs.toronto.edu/~kriz/",
}

# Published MD5 checksums of the original files (the same ones torchvision uses in
# torchvision/datasets/mnist.py and torchvision/datasets/cifar.py).
MD5: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    "cifar10": {
        "cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a",
    },
}

TIMEOUT_S = 30.0
CHUNK_BYTES = 1 << 20


class ChecksumError(RuntimeError):
    """A downloaded file does not have the expected MD5 checksum."""


def cache_dir() -> Path:
    """Return the cache folder: ``$NVP_DATA_DIR`` if set, else ``~/.cache/nvp``."""
    return Path(os.environ.get("NVP_DATA_DIR") or "~/.cache/nvp").expanduser()


def base_url(name: str) -> str:
    """Return the base URL (ending in ``/``) to download dataset ``name`` from."""
    url = os.environ.get("NVP_DATA_MIRROR") or MIRRORS[name]
    return url if url.endswith("/") else url + "/"


def md5sum(path: str | os.PathLike) -> str:
    """Return the MD5 hex digest of a file (used as a checksum, not for security)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(url: str, dest: Path, md5: str, timeout: float = TIMEOUT_S) -> None:
    """Download ``url`` to ``dest`` atomically, checking its MD5 checksum.

    Raises ``ConnectionError`` if the server cannot be reached, ``RuntimeError`` for an
    HTTP error, and ``ChecksumError`` if the content is not the expected file. In every
    failure case no file is left behind.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=timeout)
            except urllib.error.HTTPError as err:  # the server answered, but with an error
                raise RuntimeError(
                    f"download of {url} failed: HTTP {err.code} {err.reason}"
                ) from err
            except OSError as err:  # URLError, DNS failure, connection refused, timeout
                raise ConnectionError(offline_message(url, err)) from err
            total = int(response.headers.get("Content-Length") or 0) or None
            with response, tqdm(total=total, unit="B", unit_scale=True, desc=dest.name) as bar:
                while True:
                    try:
                        chunk = response.read(CHUNK_BYTES)
                    except OSError as err:  # connection lost in the middle of the download
                        raise ConnectionError(offline_message(url, err)) from err
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != md5:
            raise ChecksumError(
                f"checksum mismatch for {url}: expected MD5 {md5}, got {digest.hexdigest()}. "
                "The file was not kept; try again, or check the mirror (NVP_DATA_MIRROR)."
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)  # no-op after a successful os.replace


def offline_message(url: str, err: BaseException) -> str:
    """Explain a failed connection and point to the embedded offline dataset."""
    reason = getattr(err, "reason", err)
    return (
        f"could not download {url}: the network is unreachable ({reason}). "
        "Check your internet connection or the mirror (NVP_DATA_MIRROR), or use "
        'load_dataset("mnist5k"), the 5,000-image MNIST subset embedded in the package, '
        "which needs no network."
    )


def fetch(
    name: str, filename: str, root: str | os.PathLike | None = None, download: bool = True
) -> Path:
    """Return the local path of ``filename`` of dataset ``name``, downloading it if needed.

    A file already in the cache is reused without any network access.
    """
    folder = cache_dir() if root is None else Path(root).expanduser()
    path = folder / name / filename
    if path.is_file():
        return path
    if not download:
        raise FileNotFoundError(f"{path} not found and download=False")
    download_file(base_url(name) + filename, path, MD5[name][filename])
    return path
