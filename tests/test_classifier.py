"""The small CNN (nvp.book.classifier): the yardstick of chapter 10's generative classifier."""

from __future__ import annotations

import torch

import nvp
from nvp.book.classifier import DigitCNN, predict_proba, pretrained_classifier, train_classifier
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
