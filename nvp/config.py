"""One commented configuration for a model and its training run (stored in every checkpoint)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .model import RealNVP

LR_SCHEDULES = ("constant", "cosine")


@dataclass
class Config:
    """Everything needed to rebuild a model and repeat its training run."""

    # --- data -------------------------------------------------------------------------------
    dataset: str = "mnist5k"  # one of nvp.data.DATASETS
    hflip: bool = False  # random horizontal flips (CIFAR-10 augmentation; not for digits)
    train_subset: int = 0  # only the first N training images (0 = all; mnist5k is sorted by class)
    test_subset: int = 0  # only the first N held-out images (0 = all; mnist5k is sorted by class)
    # --- model (paper §4.1; RealNVP keyword arguments) ----------------------------------------
    in_channels: int = 1  # image channels: 1 for MNIST, 3 for CIFAR-10
    image_size: tuple[int, int] = (28, 28)  # (H, W); multiples of 2**(num_scales - 1)
    num_scales: int = 2  # scales of the multi-scale architecture
    mid_channels: int = 64  # s/t ResNet width at the first scale (doubles per scale)
    num_blocks: int = 8  # residual blocks in every s/t ResNet
    data_constraint: float = 0.9  # β of the logit: 0.9 is the paper's (CIFAR-10); MNIST: 0.99998
    # --- optimisation (paper §4.1: Adam, L2 on weight-norm scales) ----------------------------
    epochs: int = 10  # passes over the training set
    batch_size: int = 64  # images per step
    lr: float = 1e-3  # Adam learning rate
    lr_schedule: str = "constant"  # or "cosine": lr·(1 + cos(π·step/steps))/2, down to 0 at the end
    weight_decay: float = 5e-5  # L2 coefficient on the weight-norm scales g only
    max_grad_norm: float = 100.0  # gradient-norm clipping
    eval_batch_size: int = 500  # images per step when measuring held-out bits/dim
    seed: int = 0  # seeds initialisation, shuffling and dequantization noise
    # --- speed and scale (the first two change no value; see benchmarks/RESULTS.md) ----------
    channels_last: bool = True  # s/t networks compute on NHWC-stored activations
    compile: bool = False  # torch.compile the model for training (fails clearly if it cannot)
    bf16: bool = False  # training steps run the s/t nets in bfloat16 (autocast); evaluation fp32
    sync_bn: bool = False  # several processes: batch-norm statistics over the global batch
    notes: dict = field(default_factory=dict)  # free-form provenance (e.g. how it was trained)

    def __post_init__(self) -> None:
        self.image_size = (int(self.image_size[0]), int(self.image_size[1]))
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")

    def to_dict(self) -> dict:
        """Plain types only, so a checkpoint loads with ``torch.load(weights_only=True)``."""
        d = dataclasses.asdict(self)
        d["image_size"] = list(self.image_size)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Config:
        """Inverse of :meth:`to_dict`; unknown keys are an error, missing keys take defaults."""
        names = {f.name for f in dataclasses.fields(cls)}
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
        )
