"""One commented configuration for a model and its training run (stored in every checkpoint)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..model import RealNVP
from ..vardeq import DEQUANTIZATIONS

LR_SCHEDULES = ("constant", "cosine")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass
class Config:
    """Everything needed to rebuild a model and repeat its training run."""

    # --- data -------------------------------------------------------------------------------
    dataset: str = "mnist5k"  # one of nvp.data.DATASETS
    hflip: bool = False  # random horizontal flips (CIFAR-10 augmentation; not for digits)
    train_subset: int = 0  # only the first N training images (0 = all; mnist5k is sorted by class)
    test_subset: int = 0  # only the first N test images (0 = all; mnist5k is sorted by class)
    validation: int = 0  # hold out N random training images to choose epochs by (0: use test)
    # --- model (paper §4.1; RealNVP keyword arguments) ----------------------------------------
    in_channels: int = 1  # image channels: 1 for MNIST, 3 for CIFAR-10
    image_size: tuple[int, int] = (28, 28)  # (H, W); multiples of 2**(num_scales - 1)
    num_scales: int = 2  # scales of the multi-scale architecture
    mid_channels: int = 64  # s/t ResNet width at the first scale (doubles per scale)
    num_blocks: int = 8  # residual blocks in every s/t ResNet
    data_constraint: float = 0.9  # β of the logit: 0.9 is the paper's (CIFAR-10); MNIST: 0.99998
    dequantization: str = "uniform"  # or "variational": noise learned by a small flow (Flow++)
    # --- optimisation (paper §4.1: Adam, L2 on weight-norm scales) ----------------------------
    epochs: int = 10  # passes over the training set
    batch_size: int = 64  # images per step
    lr: float = 1e-3  # Adam learning rate
    lr_schedule: str = "constant"  # or "cosine": lr·(1 + cos(π·step/steps))/2, down to 0 at the end
    weight_decay: float = 5e-5  # L2 coefficient on the weight-norm scales g only
    max_grad_norm: float = 100.0  # gradient-norm clipping
    ema: float = 0.0  # Polyak averaging: evaluate/sample with θ̄ ← ema·θ̄ + (1 − ema)·θ (0: off)
    eval_batch_size: int = 500  # images per step when measuring held-out bits/dim
    seed: int = 0  # seeds initialisation, shuffling and dequantization noise
    # --- speed and scale (the first two change no value; see benchmarks/RESULTS.md) ----------
    channels_last: bool = True  # s/t networks compute on NHWC-stored activations
    compile: bool = False  # torch.compile the model for training (fails clearly if it cannot)
    precision: str = "fp32"  # s/t nets of training steps: fp32, bf16 (autocast) or auto (timed)
    sync_bn: bool = False  # several processes: batch-norm statistics over the global batch
    notes: dict = field(default_factory=dict)  # free-form provenance (e.g. how it was trained)

    def __post_init__(self) -> None:
        self.image_size = (int(self.image_size[0]), int(self.image_size[1]))
        for name, allowed in (("lr_schedule", LR_SCHEDULES), ("precision", PRECISIONS),
                              ("dequantization", DEQUANTIZATIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {self.ema}")
        if self.validation < 0:
            raise ValueError(f"validation must be a number of images >= 0, got {self.validation}")

    def to_dict(self) -> dict:
        """Plain types only, so a checkpoint loads with ``torch.load(weights_only=True)``."""
        d = dataclasses.asdict(self)
        d["image_size"] = list(self.image_size)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Config:
        """Inverse of :meth:`to_dict`; unknown keys are an error, missing keys take defaults."""
        names = {f.name for f in dataclasses.fields(cls)}
        if "bf16" in d:  # checkpoints written before ``precision`` replaced ``bf16``
            d = {**{k: v for k, v in d.items() if k != "bf16"},
                 "precision": "bf16" if d["bf16"] else "fp32"}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; valid keys: {sorted(names)}")
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
        )
