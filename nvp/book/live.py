"""Live tools that run the model in the reader's browser (ONNX Runtime Web), for the HTML book.

:func:`live_tool` returns a piece of HTML: a ``<div class="nvp-live">`` whose ``data-tool`` names
the tool and whose ``data-config`` holds what the page cannot compute itself (a few test digits,
the test digits' bits/dim for the histogram), and a ``<script>`` that loads ``nvp-live.js``
(``book/_live/``, copied to ``_static/``). That script loads ONNX Runtime Web and the two graphs
of :mod:`nvp.training.export` (written into ``_static/nvp-model/`` by the ``nvp_onnx`` Sphinx
extension when the book is built) only when the reader presses "start", and says in one line what
to do where it cannot run (opened from ``file://``, no WebAssembly, or in Jupyter, where the
kernel versions of the same experiments sit next to it).

Every number a tool shows comes from the graphs: ``encode`` with the dequantization noise at the
bin centres (``u₀ = 0.5``), the same convention :func:`score_digits` uses for the histogram.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import torch

from ..loss import bits_per_dim
from ..model import RealNVP

TOOLS = ("sampler", "draw", "interpolate", "resample")
SCRIPT = "../_static/nvp-live.js"  # relative to a page in book/


@torch.no_grad()
def score_digits(model: RealNVP, x: torch.Tensor, batch: int = 100) -> torch.Tensor:
    """Bits/dim of each image ``(N, C, H, W)`` with the noise at the bin centres ``(N,)``: the
    convention of the browser tools, so a drawing and the test digits are scored alike."""
    model.eval()
    out = []
    for xb in x.split(batch):
        z, sldj = model(xb, noise=torch.full_like(xb, 0.5))
        out.append(bits_per_dim(z, sldj))
    return torch.cat(out)


def scale_map(num_scales: int, shape: tuple[int, int, int] = (1, 28, 28)) -> list[int]:
    """For each entry of the image-shaped code ``z`` (row-major), the scale whose code holds it
    (0: factored out after the first scale, …; :func:`nvp.training.export.scale_codes`)."""
    from ..training.export import scale_codes

    index = torch.arange(math.prod(shape), dtype=torch.float64).view(1, *shape)
    out = torch.empty(math.prod(shape), dtype=torch.long)
    for k, code in enumerate(scale_codes(index, num_scales)):
        out[code.flatten().long()] = k
    return out.tolist()


def _digits(x: torch.Tensor) -> list[list[int]]:
    """Images ``(N, 1, H, W)`` in [0, 1] as lists of 8-bit values (row-major)."""
    return (x * 255).round().to(torch.int64).flatten(1).tolist()


def live_tool(kind: str, digits: torch.Tensor | None = None,
              labels: list[int] | None = None, scores: torch.Tensor | None = None) -> Any:
    """The HTML of one browser tool (``"sampler"``, ``"draw"``, ``"interpolate"`` or
    ``"resample"``: keep one scale's code of a digit, redraw the other's).

    Args:
        kind: which tool.
        digits: a few test digits ``(N, 1, 28, 28)`` to start from (all but the sampler).
        labels: their classes, shown on their buttons.
        scores: the test digits' bits/dim from :func:`score_digits` (``draw``: the histogram and
            the percentile of a drawing).
    """
    from IPython.display import HTML

    if kind not in TOOLS:
        raise ValueError(f"kind must be one of {TOOLS}, got {kind!r}")
    config: dict[str, Any] = {}
    if kind != "sampler":
        if digits is None or digits.dim() != 4 or digits.shape[1:] != (1, 28, 28):
            raise ValueError(f"the {kind} tool needs digits of shape (N, 1, 28, 28)")
        config["digits"] = _digits(digits)
        config["labels"] = [int(v) for v in labels] if labels is not None else []
    if kind == "resample":
        config["scale_map"] = scale_map(2)
    if kind == "draw":
        if scores is None or scores.dim() != 1:
            raise ValueError("the draw tool needs the test digits' scores, shape (N,)")
        config["scores"] = [round(float(s), 5) for s in scores]
    data = html.escape(json.dumps(config, separators=(",", ":")))
    note = ("This tool runs the model in your browser; it works in the HTML book "
            "(served over HTTP, e.g. make serve). In Jupyter, the kernel version "
            "below does the same.")
    return HTML(
        f'<div class="nvp-live" data-tool="{kind}" data-config="{data}">'
        f'<p class="nvp-live-status">{html.escape(note)}</p></div>'
        f'<script src="{SCRIPT}"></script>'
    )
