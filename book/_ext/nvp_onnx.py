"""Sphinx extension: the shipped model as ONNX, written beside the built pages.

When the HTML build finishes, ``nvp.training.export.export_checkpoint`` writes
``_static/nvp-model/{encode,decode}.onnx`` and ``manifest.json`` (with the checkpoint's sha256)
from ``nvp/weights/mnist5k.pt``, for the live tools of ``nvp.book.live``. The graphs are built,
not committed, so they always hold the checkpoint that ships (about 20 s on one core).

It also sets ``NVP_STATIC_HTML=1`` for the kernels that execute the chapters (they inherit the
build's environment): ``nvp.book.widgets.live_figure`` then precomputes its frames, since the
static page has no kernel to redraw them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ["NVP_STATIC_HTML"] = "1"


def _export(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import nvp
    from nvp.training.export import export_checkpoint

    weights = Path(nvp.__file__).parent / "weights" / "mnist5k.pt"
    export_checkpoint(weights, Path(app.outdir) / "_static" / "nvp-model")


def setup(app: Any) -> dict[str, bool]:
    app.connect("build-finished", _export)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
