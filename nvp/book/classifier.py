"""A small convolutional digit classifier: the yardstick for the flow's generative classifier
(chapter 10) and the counter of recognisable samples (chapters 8 and 10).

``DigitCNN``: two 3×3 convolution blocks (32 and 64 channels, batch norm, ReLU, 2×2 max pooling),
dropout and one linear layer: ``(B, 1, 28, 28) → (B, 10)`` logits, 50,378 parameters.
Trained with Adam and cross-entropy on the same training digits as the flows, the epoch chosen
on the same validation digits (``benchmarks/classifier.py``); the shipped weights are
``nvp/weights/mnist5k_cnn.pt``.
"""

from __future__ import annotations

import time
from importlib import resources

import torch
import torch.nn.functional as F
from torch import nn

from ..mode import eval_mode


class DigitCNN(nn.Module):
    """``(B, 1, 28, 28)`` images in ``[0, 1]`` → ``(B, 10)`` class logits."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()

        def block(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out),
                                 nn.ReLU(), nn.MaxPool2d(2))

        self.features = nn.Sequential(block(1, 32), block(32, 64))  # (B, 64, 7, 7)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 7 * 7, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x - 0.5))


@torch.no_grad()
def predict_proba(model: nn.Module, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """``p(y | x)`` for every image, ``(N, 10)`` (eval mode)."""
    with eval_mode(model):
        return torch.cat([F.softmax(model(x[i:i + batch_size]), dim=1)
                          for i in range(0, len(x), batch_size)])


def train_classifier(
    train: tuple[torch.Tensor, torch.Tensor],
    valid: tuple[torch.Tensor, torch.Tensor],
    epochs: int = 15,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
) -> tuple[DigitCNN, dict]:
    """Train on ``train`` = (images, labels); keep the epoch with the best ``valid`` accuracy.
    Returns the model and ``{"valid_accuracy", "best_epoch", "seconds", "curve"}``."""
    torch.manual_seed(seed)
    model = DigitCNN()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    x, y = train
    best, best_state, best_epoch, curve = -1.0, None, 0, []
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        accuracy = (predict_proba(model, valid[0]).argmax(1) == valid[1]).double().mean().item()
        curve.append(accuracy)
        if accuracy > best:
            best, best_epoch = accuracy, epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return model.eval(), {"valid_accuracy": best, "best_epoch": best_epoch,
                          "seconds": time.perf_counter() - start, "curve": curve}


def pretrained_classifier() -> tuple[DigitCNN, dict]:
    """The shipped CNN (``nvp/weights/mnist5k_cnn.pt``) in eval mode, and its record."""
    path = resources.files("nvp").joinpath("weights", "mnist5k_cnn.pt")
    with path.open("rb") as f:
        ckpt = torch.load(f, weights_only=True)
    model = DigitCNN()
    model.load_state_dict(ckpt["model"])
    return model.eval(), ckpt["record"]
