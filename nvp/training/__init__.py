"""Training infrastructure: configuration, the training loop, evaluation, checkpoints, several
processes, the shipped models and the command line (paper §4.1)."""

from .checkpoint import load_checkpoint, load_model, model_from_checkpoint, save_checkpoint
from .config import Config
from .evaluate import evaluate, image_bits_per_dim
from .hub import pretrained, pretrained_info
from .loop import train, train_epoch
from .steps import (
    default_device,
    epoch_batches,
    learning_rate,
    load_data,
    make_optimizer,
    train_step,
)

__all__ = [
    "Config", "default_device", "epoch_batches", "evaluate", "image_bits_per_dim",
    "learning_rate", "load_checkpoint", "load_data", "load_model", "make_optimizer",
    "model_from_checkpoint",
    "pretrained", "pretrained_info", "save_checkpoint", "train", "train_epoch", "train_step",
]
