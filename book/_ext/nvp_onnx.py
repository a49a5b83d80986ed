"""Sphinx extension: the shipped model as ONNX, written beside the built pages.

``python -m nvp export`` writes ``encode.onnx``, ``decode.onnx`` and ``manifest.json`` (with the
checkpoint's sha256) from the book's model (``nvp/weights/mnist5k.pt``, or the one
``$NVP_BOOK_MODEL`` names) into ``_static/nvp-model/``, for the live tools of ``nvp.book.live``.
The graphs are built, not committed, so they always hold the checkpoint that ships. The export
takes about 28 s on one core, so it starts in its own process when the build starts and runs
beside the chapters (which execute on one thread); the build waits for it at the end.

It also sets ``NVP_STATIC_HTML=1`` for the kernels that execute the chapters (they inherit the
build's environment): ``nvp.book.widgets.live_figure`` then precomputes its frames, since the
static page has no kernel to redraw them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

os.environ["NVP_STATIC_HTML"] = "1"
_RUN: dict[str, Any] = {}


def _start(app: Any) -> None:
    if app.builder.format != "html":
        return
    import nvp
    from nvp.book import model_name
    from nvp.training.hub import PRETRAINED

    weights = Path(nvp.__file__).parent / "weights" / PRETRAINED[model_name()]
    tmp = Path(app.outdir).parent / "nvp-model.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    _RUN["tmp"] = tmp
    _RUN["proc"] = subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
        [sys.executable, "-m", "nvp", "export", "--checkpoint", str(weights), "--out", str(tmp)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(app: Any, exception: Exception | None) -> None:
    proc = _RUN.pop("proc", None)
    if proc is None:
        return
    out, _ = proc.communicate()
    if exception is not None:
        return
    if proc.returncode != 0:
        raise RuntimeError(f"python -m nvp export failed ({proc.returncode}):\n{out[-3000:]}")
    dest = Path(app.outdir) / "_static" / "nvp-model"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.move(str(_RUN.pop("tmp")), dest)


def setup(app: Any) -> dict[str, bool]:
    app.connect("builder-inited", _start)
    app.connect("build-finished", _finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
