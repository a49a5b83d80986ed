"""Checkpoints: written atomically, loaded without running pickled code.

A checkpoint is a plain dict (``FORMAT`` marks it) of tensors and Python primitives::

    {"format", "config", "model", "optimizer", "epoch", "step", "metrics"}  (+ "ema")

``"model"`` holds the trained weights; with ``Config.ema`` also ``"ema"``, their running average,
which is what was evaluated and what :func:`model_from_checkpoint` loads.

Saving writes a temporary file in the same folder, flushes it to disk, then ``os.replace``-s it
over the target, so a crash mid-write leaves the previous checkpoint intact. Loading uses
``torch.load(..., weights_only=True)``: a file that carries a pickled payload is refused.

Older formats are brought forward on loading, one :data:`MIGRATIONS` step at a time, so the rest
of the package only ever sees the current format.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..model import RealNVP
from .config import Config

FORMAT = "nvp-checkpoint-2"  # bump it, and add a migration, when the stored fields change
# The Config fields a checkpoint of FORMAT stores (tests/test_checkpoint_migrations.py checks it
# against Config, so that a new field cannot be added without a new format and its migration).
FIELDS = frozenset({
    "dataset", "hflip", "train_subset", "test_subset", "validation", "in_channels",
    "image_size", "num_scales", "mid_channels", "num_blocks", "data_constraint", "bounded_scale",
    "dequantization", "num_classes", "conditioning", "epochs", "batch_size", "lr",
    "lr_schedule", "weight_decay", "max_grad_norm", "ema", "eval_batch_size", "seed",
    "channels_last", "compile", "precision", "sync_bn", "notes",
})


def _v1_to_v2(ckpt: dict[str, Any]) -> dict[str, Any]:
    """Format 1 stored the config of its day. The oldest runs had ``bf16`` (now ``precision``)
    and none of ``validation``, ``dequantization``, ``ema``, ``precision``; none had the labels'
    ``num_classes`` and ``conditioning``, nor ``bounded_scale``. A missing field takes what the
    run *did* before the field existed (no validation split, uniform noise, no averaging,
    float32, unconditional, the bounded scale), not today's default."""
    config = dict(ckpt["config"])
    if "bf16" in config:
        config["precision"] = "bf16" if config.pop("bf16") else "fp32"
    before = {"validation": 0, "dequantization": "uniform", "ema": 0.0, "precision": "fp32",
              "num_classes": 0, "conditioning": "prior", "bounded_scale": True}
    return {**ckpt, "format": "nvp-checkpoint-2", "config": {**before, **config}}


# format -> the function that brings a checkpoint of that format one format forward
MIGRATIONS = {"nvp-checkpoint-1": _v1_to_v2}


def migrate(ckpt: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint of any known format, brought to :data:`FORMAT` (a new dict)."""
    while ckpt.get("format") in MIGRATIONS:
        ckpt = MIGRATIONS[ckpt["format"]](ckpt)
    return ckpt


def save_checkpoint(ckpt: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``ckpt`` to ``path`` atomically (temp file + fsync + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(ckpt, f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Read and check a checkpoint; a clear ``ValueError`` if it is truncated, foreign or unsafe."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:  # weights_only refuses arbitrary objects
        raise ValueError(
            f"{path} holds Python objects that weights_only loading refuses to run; "
            "only checkpoints written by nvp can be loaded"
        ) from err
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as err:
        raise ValueError(f"{path} is not a readable checkpoint (truncated or corrupted?): {err}") \
            from err
    if not isinstance(ckpt, dict) or ckpt.get("format") not in (FORMAT, *MIGRATIONS):
        raise ValueError(f"{path} is not an nvp checkpoint (expected format {FORMAT!r})")
    return migrate(ckpt)


def model_from_checkpoint(ckpt: dict[str, Any]) -> RealNVP:
    """Rebuild the model from the stored config and load the weights that were evaluated (the
    averaged ones when the run kept an average), in eval mode."""
    config = Config.from_dict(ckpt["config"])
    model = config.build_model()
    try:
        model.load_state_dict(ckpt.get("ema") or ckpt["model"])
    except RuntimeError as err:
        raise ValueError(f"checkpoint weights do not match its config: {err}") from err
    return model.eval()


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> RealNVP:
    """``load_checkpoint`` + ``model_from_checkpoint``, moved to ``device``, in eval mode."""
    return model_from_checkpoint(load_checkpoint(path)).to(device)
