"""The small CNN (nvp.book.classifier): the yardstick of chapter 10's generative classifier."""

from __future__ import annotations

import pytest
import torch

import nvp
from nvp.book.classifier import (
    DigitCNN,
    predict_proba,
    pretrained_classifier,
    recognisable,
    train_classifier,
)
from nvp.data import load_dataset
from nvp.training import load_data


def test_shipped_cnn_scores_what_it_recorded():
    cnn, record = pretrained_classifier()
    x, y = load_data(nvp.Config(), "test", labels=True)
    proba = predict_proba(cnn, x)
    assert proba.shape == (500, 10)
    torch.testing.assert_close(proba.sum(1), torch.ones(500))
    accuracy = (proba.argmax(1) == y).double().mean().item()
    # float rounding on other CPU kernels may flip a digit on the fence: 2 of 500 at most
    assert abs(accuracy - record["test"]["accuracy"]) <= 2 / 500
    assert accuracy > 0.9


def test_training_learns_and_keeps_the_best_validation_epoch():
    train = load_data(nvp.Config(validation=100), "train", labels=True)
    valid = load_data(nvp.Config(validation=100), "valid", labels=True)
    order = torch.randperm(len(train[0]), generator=torch.Generator().manual_seed(0))[:600]
    model, record = train_classifier((train[0][order], train[1][order]), valid, epochs=2)
    assert isinstance(model, DigitCNN) and not model.training
    assert record["valid_accuracy"] == max(record["curve"]) > 0.5  # chance is 0.1
    kept = (predict_proba(model, valid[0]).argmax(1) == valid[1]).double().mean().item()
    assert kept == record["valid_accuracy"]


def test_recognisable_counts_confident_digits_and_not_noise():
    cnn, _ = pretrained_classifier()
    x, _ = load_dataset("mnist5k", "test", with_labels=True)
    digits = x[::5]  # 100 test digits, every label
    assert recognisable(cnn, digits).sum() >= 90  # test digits: a 96 % classifier
    # the softmax alone is confident on noise; the features are not typical of a digit
    noise = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert (predict_proba(cnn, noise).max(1).values >= 0.9).sum() > 32
    assert recognisable(cnn, noise).sum() <= 3
    # samples from the flow's outer shell (T = 1.5) are no digits; at T = 0.7 many are
    model = nvp.pretrained("mnist5k")
    counts = {}
    for t in (0.7, 1.5):
        s = model.sample(64, temperature=t, generator=torch.Generator().manual_seed(0))
        counts[t] = int(recognisable(cnn, torch.round(255 * s) / 255).sum())
    assert counts[1.5] < counts[0.7] / 2, counts
    # the threshold is the confidence: a lower bar admits at least as many
    assert (recognisable(cnn, digits, 0.5) >= recognisable(cnn, digits)).all()
    with pytest.raises(ValueError, match="threshold"):
        recognisable(cnn, digits, 1.5)


def test_the_book_model_is_chosen_by_environment(monkeypatch):
    from nvp.book import MODEL_ENV, model_name

    monkeypatch.delenv(MODEL_ENV, raising=False)
    assert model_name() == "mnist5k"
    monkeypatch.setenv(MODEL_ENV, "mnist5k-seed1")
    assert model_name() == "mnist5k-seed1"
    for bad in ("mnist5k-cond", "nope"):  # the chapters need an unconditional model
        monkeypatch.setenv(MODEL_ENV, bad)
        with pytest.raises(ValueError, match=MODEL_ENV):
            model_name()


def test_the_shipped_feature_statistics_are_the_cnns():
    """recognisable() uses the Gaussians shipped with the CNN; refitting gives them again."""
    from nvp.book.classifier import feature_gaussians, fit_feature_gaussians

    cnn, _ = pretrained_classifier()
    shipped, refit = feature_gaussians(cnn), fit_feature_gaussians(cnn)
    torch.testing.assert_close(shipped.means, refit.means, rtol=1e-4, atol=1e-5)
    # the precision inverts a 64x64 covariance: compare what it measures, the distances
    x = load_dataset("mnist5k", "test")[:200]
    d_shipped, d_refit = shipped.distance(cnn, x), refit.distance(cnn, x)
    torch.testing.assert_close(d_shipped, d_refit, rtol=1e-3, atol=1e-3)
    assert abs(shipped.limit - refit.limit) <= 1e-3 * refit.limit
