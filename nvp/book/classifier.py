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
import weakref
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
    if "feature_gaussians" in ckpt:
        _GAUSSIANS[model] = FeatureGaussians(**ckpt["feature_gaussians"])
    return model.eval(), ckpt["record"]


#: The CNN's confidence at and above which a sample counts as a recognisable digit.
RECOGNISABLE = 0.9
#: The share of real (validation) digits whose features count as typical.
TYPICAL = 0.99


@torch.no_grad()
def pooled_features(model: DigitCNN, x: torch.Tensor) -> torch.Tensor:
    """The CNN's last features, averaged over the 7x7 positions: ``(N, 64)`` float64."""
    with eval_mode(model):
        f = model.features(x - 0.5)  # (N, 64, 7, 7)
    return f.mean(dim=(2, 3)).double()  # (N, 64)


class FeatureGaussians:
    """One Gaussian per class on the CNN's pooled features, with a shared covariance (the
    Mahalanobis detector of Lee et al., 2018): ``d(x) = min_k (f - mu_k)^T S^-1 (f - mu_k)``.
    ``limit`` is the ``TYPICAL`` quantile of ``d`` on held-out real digits: an image beyond it
    has features no digit has, however confident the softmax is (uniform noise, a sample from
    a flow's outer shell at high temperature)."""

    def __init__(self, means: torch.Tensor, precision: torch.Tensor, limit: float) -> None:
        self.means, self.precision, self.limit = means, precision, float(limit)

    @classmethod
    def fit(cls, model: DigitCNN, train: tuple[torch.Tensor, torch.Tensor],
            valid: torch.Tensor, quantile: float = TYPICAL) -> FeatureGaussians:
        """Class means and shared covariance on ``train`` = (images, labels); ``limit`` from
        the held-out images ``valid``."""
        f, y = pooled_features(model, train[0]), train[1]
        means = torch.stack([f[y == k].mean(0) for k in range(10)])  # (10, 64)
        centred = f - means[y]
        cov = centred.T @ centred / len(f)  # (64, 64)
        cov += 1e-3 * cov.diagonal().mean() * torch.eye(len(cov), dtype=cov.dtype)
        fitted = cls(means, torch.linalg.inv(cov), 0.0)
        fitted.limit = float(torch.quantile(fitted.distance(model, valid), quantile))
        return fitted

    def state(self) -> dict[str, torch.Tensor | float]:
        return {"means": self.means, "precision": self.precision, "limit": self.limit}

    def distance(self, model: DigitCNN, x: torch.Tensor) -> torch.Tensor:
        """``(N,)`` squared Mahalanobis distance to the nearest class mean."""
        d = pooled_features(model, x)[:, None, :] - self.means[None]  # (N, 10, 64)
        return torch.einsum("nkd,de,nke->nk", d, self.precision, d).min(dim=1).values


_GAUSSIANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fit_feature_gaussians(model: DigitCNN) -> FeatureGaussians:
    """``FeatureGaussians`` of ``model`` fitted on the embedded MNIST-5k training digits, its
    limit set on the validation digits (about 2.5 s on one core)."""
    from ..training import Config, load_data

    train = load_data(Config(), "train", labels=True)
    return FeatureGaussians.fit(model, train, load_data(Config(), "valid"))


def feature_gaussians(model: DigitCNN) -> FeatureGaussians:
    """The ``FeatureGaussians`` of ``model``: shipped with the pretrained CNN (fitted when it
    was written, ``tests/test_classifier.py`` refits them), else fitted once per model."""
    if model not in _GAUSSIANS:
        _GAUSSIANS[model] = fit_feature_gaussians(model)
    return _GAUSSIANS[model]


def recognisable(
    model: DigitCNN, x: torch.Tensor, threshold: float = RECOGNISABLE
) -> torch.Tensor:
    """Which images are recognisable digits, ``(N,)`` bool: the CNN names them with probability
    ``>= threshold`` AND their features are typical of real digits (``feature_gaussians``).
    The count behind "k of n samples are recognisable digits", a reader's judgement made
    repeatable. Confidence alone is not enough: a softmax is confident on uniform noise.
    ``x`` is ``(N, 1, 28, 28)`` in [0, 1]; round samples to the 8-bit grid first."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    confident = predict_proba(model, x).max(dim=1).values >= threshold
    gaussians = feature_gaussians(model)
    return confident & (gaussians.distance(model, x) <= gaussians.limit)
