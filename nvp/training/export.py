"""The model as two ONNX graphs, for ONNX Runtime (Python) and ONNX Runtime Web (the book's pages).

* **encode**: ``x (B, C, H, W)`` pixel values ``k/255`` in [0, 1] and ``noise (B, C, H, W)``, the
  uniform draw ``u₀ ∈ [0, 1)`` of the dequantization (0.5 everywhere: bin centres) →
  ``z`` (image-shaped code, as :class:`~nvp.RealNVP` returns it), ``sldj`` (its log-det, the
  dequantizer's ``−log q`` and the logit's log-det included) and ``bpd`` (bits/dim, the
  bound :func:`nvp.bits_per_dim` computes), plus one code per scale, ``z0`` … (the half each
  scale factors out, ``(B, 2C·4^i, H/2^(i+1), W/2^(i+1))``, and the last scale's code). It is
  ``model(x, noise=noise, validate=False)`` exactly, for either dequantization.
* **decode**: ``z (B, C, H, W)`` → ``x`` in [0, 1]: ``model(z, reverse=True)``.

The batch dimension is dynamic. Input validation stays outside the graphs: the checks in
:mod:`nvp.checks` are data-dependent control flow (``if not bool(torch.isfinite(x).all())``),
which the dynamo exporter refuses and a tracer would silently bake in as one branch; the graphs
wrap :meth:`RealNVP.flow`, the dequantizer and :class:`~nvp.preprocess.Logit`, which have none.
A caller validates its input as :mod:`nvp.checks` does before running a graph.

Exporter: ``torch.onnx.export(..., dynamo=True)`` (torch.export + onnxscript), opset 18 by
default. Measured on the shipped checkpoint: ONNX Runtime agrees with torch to ~1e-5 per pixel
(decode) and ~1e-6 relative (codes, log-det). The legacy TorchScript exporter
(``dynamo=False``) returns silently wrong outputs on the same modules (pixel errors ~0.99), so it
is not offered. Opset 18 is the oldest the dynamo exporter emits natively (no version
conversion) and ONNX Runtime Web 1.30 runs it; 18–21 are accepted.

The model is unconditional (``num_classes`` absent or 0); a label input would be one more named
input of both graphs (:data:`ENCODE_INPUTS`, :data:`DECODE_INPUTS`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from ..loss import bits_per_dim
from ..model import RealNVP
from ..squeeze import squeeze_alt

OPSETS = (18, 19, 20, 21)
ENCODE_INPUTS = ("x", "noise")
DECODE_INPUTS = ("z",)
ENCODE_FILE, DECODE_FILE, MANIFEST_FILE = "encode.onnx", "decode.onnx", "manifest.json"


def scale_codes(z: torch.Tensor, num_scales: int) -> list[torch.Tensor]:
    """Split an image-shaped code into one code per scale, as :meth:`RealNVP.flow` assembled it:
    the half factored out after scale 0, after scale 1, …, then the last scale's code."""
    codes = []
    for _ in range(num_scales - 1):
        z, z_out = squeeze_alt(z).chunk(2, dim=1)  # (B, 2C, H/2, W/2) each
        codes.append(z_out)
    codes.append(z)
    return codes


class Encoder(nn.Module):
    """``(x, noise) -> (z, sldj, bpd, z0, z1, …)``; no input checks (see the module docstring)."""

    def __init__(self, model: RealNVP) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x, log_q = self.model.dequantizer(x, noise)  # x̃, log q(u | x) (B,)
        y, sldj = self.model.logit(x, -log_q)
        z, sldj = self.model.flow(y, sldj)
        return (z, sldj, bits_per_dim(z, sldj), *scale_codes(z, self.model.num_scales))


class Decoder(nn.Module):
    """``z -> x`` in [0, 1]; no input checks."""

    def __init__(self, model: RealNVP) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        y, sldj = self.model.flow(z, z.new_zeros(z.shape[0]), reverse=True)
        x, _ = self.model.logit(y, sldj, reverse=True)
        return x.clamp(0.0, 1.0)


def _check(model: object, out_dir: object, opset: object, image_size: object) -> tuple[int, int]:
    if not isinstance(model, RealNVP):
        raise TypeError(f"model must be an nvp.RealNVP, got {type(model).__name__}")
    if getattr(model, "num_classes", 0):
        raise ValueError("only unconditional models (num_classes 0) can be exported")
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"out_dir must be a path, got {type(out_dir).__name__}")
    if isinstance(opset, bool) or opset not in OPSETS:
        raise ValueError(f"opset must be one of {OPSETS}, got {opset!r}")
    size = image_size if image_size is not None else model.image_size
    if size is None:
        raise ValueError("pass image_size=(H, W), or build the model with image_size=(H, W)")
    h, w = int(size[0]), int(size[1])
    if h % model.factor or w % model.factor or h < 1 or w < 1:
        raise ValueError(f"image_size {size} must be positive multiples of {model.factor}")
    return h, w


def _onnx_bytes(module: nn.Module, args: tuple[torch.Tensor, ...], names: tuple[str, ...],
                outputs: list[str], opset: int) -> bytes:
    """One module exported by the dynamo exporter, weights inside the returned bytes."""
    batch = torch.export.Dim("batch", min=1, max=4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module, args, dynamo=True, opset_version=opset, input_names=list(names),
            output_names=outputs, dynamic_shapes={n: {0: batch} for n in names},
            external_data=False, verbose=False, report=False, optimize=True)
    return program.model_proto.SerializeToString()


def _write_atomic(data: bytes, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_onnx(
    model: RealNVP,
    out_dir: str | os.PathLike,
    opset: int = 18,
    image_size: tuple[int, int] | None = None,
    source: str | os.PathLike | None = None,
) -> dict[str, Path]:
    """Write ``encode.onnx``, ``decode.onnx`` and ``manifest.json`` into ``out_dir``.

    The manifest records the shapes, the input/output names, the opset and, when ``source`` (the
    checkpoint file) is given, its sha256, so a page or a test can tell which weights a graph
    holds. Both graphs are exported in memory first, then each file is written atomically: a
    failure leaves no half-written file. Returns ``{"encode", "decode", "manifest"}`` → path.
    """
    h, w = _check(model, out_dir, opset, image_size)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"cannot create the folder {out}: {err}") from err
    if not os.access(out, os.W_OK):
        raise ValueError(f"cannot write into {out}")
    model = model.eval().float()
    shape = (2, model.in_channels, h, w)
    codes = [f"z{i}" for i in range(model.num_scales)]
    with torch.no_grad():
        enc = _onnx_bytes(Encoder(model), (torch.rand(shape), torch.rand(shape)),
                          ENCODE_INPUTS, ["z", "sldj", "bpd", *codes], opset)
        dec = _onnx_bytes(Decoder(model), (torch.randn(shape),), DECODE_INPUTS, ["x"], opset)
        code_shapes = [list(c.shape[1:]) for c in scale_codes(torch.zeros(shape), model.num_scales)]
    manifest = {
        "format": "nvp-onnx-1", "opset": opset, "image_shape": list(shape[1:]),
        "num_scales": model.num_scales, "dequantization": model.dequantization,
        "encode": {"file": ENCODE_FILE, "inputs": list(ENCODE_INPUTS),
                   "outputs": ["z", "sldj", "bpd", *codes], "code_shapes": code_shapes,
                   "sha256": hashlib.sha256(enc).hexdigest(), "bytes": len(enc)},
        "decode": {"file": DECODE_FILE, "inputs": list(DECODE_INPUTS), "outputs": ["x"],
                   "sha256": hashlib.sha256(dec).hexdigest(), "bytes": len(dec)},
    }
    if source is not None:
        manifest["checkpoint_sha256"] = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    paths = {"encode": out / ENCODE_FILE, "decode": out / DECODE_FILE,
             "manifest": out / MANIFEST_FILE}
    _write_atomic(enc, paths["encode"])
    _write_atomic(dec, paths["decode"])
    _write_atomic(json.dumps(manifest, indent=1).encode(), paths["manifest"])
    return paths


def export_checkpoint(checkpoint: str | os.PathLike, out_dir: str | os.PathLike,
                      opset: int = 18) -> dict[str, Path]:
    """:func:`export_onnx` of the model a checkpoint file holds (a clear ``ValueError`` if the
    file is not an nvp checkpoint); its image size comes from the checkpoint's config."""
    from .checkpoint import load_checkpoint, model_from_checkpoint
    from .config import Config

    if isinstance(opset, bool) or opset not in OPSETS:  # before the slow load
        raise ValueError(f"opset must be one of {OPSETS}, got {opset!r}")
    ckpt = load_checkpoint(checkpoint)
    model = model_from_checkpoint(ckpt)
    size = model.image_size or Config.from_dict(ckpt["config"]).image_size
    return export_onnx(model, out_dir, opset=opset, image_size=size, source=checkpoint)
