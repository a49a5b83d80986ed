"""Models trained by this project and shipped inside the package (no network needed).

``nvp.pretrained("mnist5k")`` loads the model trained on the embedded MNIST-5k training split;
the recipe (command, config, time, hardware) and its held-out bits/dim are stored in the
checkpoint itself and summarised in ``nvp/weights/README.md``.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from ..model import RealNVP
from .checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from .config import Config

# name -> file in nvp/weights/; "mnist5k-cond" is class-conditional (chapter 10), "mnist5k-seed1"
# the default recipe with another seed (the book built against a second model)
PRETRAINED: dict[str, str] = {"mnist5k": "mnist5k.pt", "mnist5k-cond": "mnist5k_cond.pt",
                              "mnist5k-seed1": "mnist5k_seed1.pt"}


def _path(name: str) -> Path:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in PRETRAINED:
        raise ValueError(f"no pretrained model {name!r}; available: {', '.join(PRETRAINED)}")
    return Path(str(resources.files("nvp").joinpath("weights", PRETRAINED[name])))


def pretrained_info(name: str = "mnist5k") -> dict[str, Any]:
    """The shipped checkpoint's config, metrics and recipe (everything but the weights)."""
    ckpt = load_checkpoint(_path(name))
    return {k: v for k, v in ckpt.items() if k != "model"}


def pretrained(name: str = "mnist5k", device: str | torch.device = "cpu") -> RealNVP:
    """The shipped model ``name``, in eval mode, on ``device``."""
    return model_from_checkpoint(load_checkpoint(_path(name))).to(device)


def export_pretrained(
    checkpoint: str | os.PathLike, out: str | os.PathLike, recipe: dict[str, Any]
) -> Path:
    """Write a shippable copy of a training checkpoint with its ``recipe``: only the weights that
    are scored (the average, with ``Config.ema``), no optimizer state. Adds the test bits/dim
    measured now (``recipe["test_bpd"]``, noise seed ``recipe["eval_seed"]``), which the tests
    check the shipped file still reaches, and, with a validation split, ``recipe["valid_bpd"]``;
    a class-conditional model scores ``−log p(x | y)`` under the true labels.
    """
    from .evaluate import evaluate
    from .steps import load_data

    ckpt = load_checkpoint(checkpoint)
    model = model_from_checkpoint(ckpt)
    ckpt = {k: v for k, v in ckpt.items() if k not in ("optimizer", "ema")}
    ckpt["model"] = model.state_dict()
    config = Config.from_dict(ckpt["config"])
    scores = {}
    for s in ("valid", "test") if config.validation else ("test",):
        x, y = load_data(config, s, labels=True)
        scores[f"{s}_bpd"] = evaluate(model, x, seed=config.seed,
                                      labels=y if config.num_classes else None)
    ckpt["recipe"] = {**recipe, **scores, "eval_seed": config.seed}
    return save_checkpoint(ckpt, out)
