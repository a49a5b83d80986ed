"""One commented configuration for a model and its training run (stored in every checkpoint).

Each field's one-line help is its metadata (``opt(default, help)``): the command line's
``--help`` and the cheat sheet read it with :func:`field_help`. A field whose values are a fixed
set of strings is typed ``Literal[...]``: :func:`choices` reads them from the annotation, so the
type checker, the validation below and the command line's ``choices`` share one definition.
Checkpoints written before a field existed are migrated in :mod:`nvp.training.checkpoint`.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from ..conditional import Conditioning
from ..model import RealNVP
from ..vardeq import Dequantization

LrSchedule = Literal["constant", "cosine"]
Precision = Literal["auto", "fp32", "bf16"]
LR_SCHEDULES = typing.get_args(LrSchedule)
PRECISIONS = typing.get_args(Precision)


def opt(default: Any, help: str) -> Any:
    """A field with its default and its one-line ``help`` (metadata, read by the CLI)."""
    return field(default=default, metadata={"help": help})


@dataclass
class Config:
    """Everything needed to rebuild a model and repeat its training run.

    The defaults are the recipe of the shipped model, ``nvp.pretrained``:
    MNIST-5k on a 2-core CPU in a few hours (``nvp/weights/README.md``).
    For CIFAR-10 take the paper's choices (README): ``data_constraint=0.9``,
    ``mid_channels=64``, ``num_blocks=8``, ``hflip=True``.
    """

    # --- data ------------------------------------------------------------
    dataset: str = opt("mnist5k", "one of nvp.data.DATASETS")
    hflip: bool = opt(False, "random horizontal flips (not for digits)")
    # the two subsets take the first N images; mnist5k is sorted by class
    train_subset: int = opt(0, "only the first N training images (0 = all)")
    test_subset: int = opt(0, "only the first N test images (0 = all)")
    # the best epoch is chosen on them; score the test set once, at the end
    validation: int = opt(500, "training images held out (0: use test)")
    # --- model (paper §4.1; RealNVP keyword arguments) -------------------
    in_channels: int = opt(1, "image channels: 1 for MNIST, 3 for CIFAR-10")
    # H and W: multiples of 2**(num_scales - 1)
    image_size: tuple[int, int] = opt((28, 28), "(H, W)")
    num_scales: int = opt(2, "scales of the multi-scale architecture")
    # doubles per scale; 32 and 2 blocks: 1.2M parameters, fits a CPU
    mid_channels: int = opt(32, "s/t ResNet width at the first scale")
    num_blocks: int = opt(2, "residual blocks in every s/t ResNet")
    # MNIST's black pixels need room in the logit (chapter 6); CIFAR-10: 0.9
    data_constraint: float = opt(0.99998, "β of the logit pre-processing")
    # many implementations leave s unbounded; chapter 7 shows what happens
    bounded_scale: bool = opt(True, "s = scale·tanh(s_raw), or s = s_raw")
    # learned noise fits each 8-bit bin better than uniform noise (Flow++)
    dequantization: Dequantization = opt(
        "variational", "variational (Flow++), or uniform (the paper's)")
    # --- labels (chapter 10): p(x | y) instead of p(x) ---------------------
    num_classes: int = opt(0, "condition on the label: 10 digits (0: off)")
    # how the label enters: st = one-hot planes into every s/t net,
    # prior = a Gaussian prior per class, N(μ_y, σ_y²); or both
    conditioning: Conditioning = opt("prior", "st, prior or both")
    # --- optimisation (paper §4.1: Adam, L2 on weight-norm scales) -------
    epochs: int = opt(50, "passes over the training set")
    batch_size: int = opt(64, "images per step")
    lr: float = opt(1e-3, "Adam learning rate")
    # "cosine": lr·(1 + cos(π·step/steps))/2, down to 0 at the end
    lr_schedule: LrSchedule = opt("cosine", "cosine, or constant")
    weight_decay: float = opt(5e-5, "L2 on the weight-norm scales g only")
    max_grad_norm: float = opt(100.0, "gradient-norm clipping")
    # evaluate and sample with θ̄ ← ema·θ̄ + (1 − ema)·θ after every step
    ema: float = opt(0.999, "Polyak averaging of the weights (0: off)")
    eval_batch_size: int = opt(500, "images per held-out evaluation step")
    seed: int = opt(0, "seeds initialisation, shuffling and noise")
    # --- speed and scale (first two change no value; benchmarks/RESULTS.md)
    channels_last: bool = opt(True, "s/t nets compute on NHWC activations")
    # fails clearly if the model cannot be compiled
    compile: bool = opt(False, "torch.compile the model for training")
    # bf16 runs them under autocast; auto times both on this machine
    precision: Precision = opt("auto", "s/t nets: fp32, bf16 or auto")
    # for training on several processes
    sync_bn: bool = opt(False, "batch-norm statistics over the global batch")
    # e.g. how it was trained
    notes: dict = field(default_factory=dict,
                        metadata={"help": "free-form provenance"})

    def __post_init__(self) -> None:
        self.image_size = (int(self.image_size[0]), int(self.image_size[1]))
        for name, allowed in choices().items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, "
                                 f"got {getattr(self, name)!r}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {self.ema}")
        if self.num_classes < 0:
            raise ValueError("num_classes must be >= 0, "
                             f"got {self.num_classes}")
        if self.validation < 0:
            raise ValueError("validation must be a number of images >= 0, "
                             f"got {self.validation}")

    def to_dict(self) -> dict:
        """Plain types only, so a checkpoint loads with
        ``torch.load(weights_only=True)``."""
        d = dataclasses.asdict(self)
        d["image_size"] = list(self.image_size)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Config:
        """Inverse of :meth:`to_dict`; unknown keys are an error, missing
        ones take their defaults (``Config.from_dict({}) == Config()``).
        Old checkpoints are migrated before they get here
        (:func:`nvp.training.checkpoint.migrate`)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; "
                             f"valid keys: {sorted(names)}")
        return cls(**d)

    def build_model(self) -> RealNVP:
        """A fresh :class:`RealNVP` with this configuration."""
        return RealNVP(
            in_channels=self.in_channels,
            num_scales=self.num_scales,
            mid_channels=self.mid_channels,
            num_blocks=self.num_blocks,
            data_constraint=self.data_constraint,
            image_size=self.image_size,
            channels_last=self.channels_last,
            dequantization=self.dequantization,
            num_classes=self.num_classes,
            conditioning=self.conditioning,
            bounded_scale=self.bounded_scale,
        )


def field_help() -> dict[str, str]:
    """``{field: its one-line help}`` of :class:`Config`."""
    return {f.name: f.metadata["help"] for f in dataclasses.fields(Config)}


def choices() -> dict[str, tuple[str, ...]]:
    """``{field: its allowed values}`` for the ``Literal``-typed fields of :class:`Config`."""
    hints = typing.get_type_hints(Config)
    return {name: typing.get_args(t) for name, t in hints.items()
            if typing.get_origin(t) is Literal}
