"""Checkpoint formats: every stored field is known, old formats load through their migration
(one test per migration, on a file written in that format), and a new Config field cannot be
added without a new format."""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

import torch

import nvp
from nvp.training import Config, load_checkpoint, model_from_checkpoint
from nvp.training.checkpoint import FIELDS, FORMAT, MIGRATIONS, migrate

DATA = Path(__file__).parent / "data"


def test_the_current_format_stores_every_config_field():
    assert {f.name for f in dataclasses.fields(Config)} == FIELDS, (
        "Config's fields changed: bump checkpoint.FORMAT, add a migration that fills the new "
        "field with what older runs did, and update FIELDS")
    assert set(Config().to_dict()) == FIELDS
    assert Config.from_dict({}) == Config()


def test_v1_from_before_precision_validation_and_learned_noise():
    """A format-1 file with ``bf16`` and without the fields added later (tests/data)."""
    raw = torch.load(DATA / "checkpoint_v1_bf16.pt", weights_only=True)
    assert raw["format"] == "nvp-checkpoint-1" and "bf16" in raw["config"]
    ckpt = load_checkpoint(DATA / "checkpoint_v1_bf16.pt")
    assert ckpt["format"] == FORMAT and set(ckpt["config"]) == FIELDS
    config = Config.from_dict(ckpt["config"])  # what that run did, not today's defaults
    assert config.precision == "bf16" and config.dequantization == "uniform"
    assert config.validation == 0 and config.ema == 0.0 and config.num_classes == 0
    model = model_from_checkpoint(ckpt)
    expected = raw["expected"]
    with torch.no_grad():
        z, sldj = model(expected["x"], dequantize=False)
    torch.testing.assert_close(z, expected["z"])  # the same weights, the same model
    torch.testing.assert_close(sldj, expected["sldj"])


def test_v1_from_before_the_labels():
    """The shipped unconditional model was written in format 1, before ``num_classes``."""
    path = Path(str(resources.files("nvp").joinpath("weights", "mnist5k.pt")))
    raw = torch.load(path, weights_only=True, map_location="cpu")
    assert raw["format"] == "nvp-checkpoint-1" and "num_classes" not in raw["config"]
    ckpt = load_checkpoint(path)
    assert ckpt["config"]["num_classes"] == 0 and ckpt["config"]["precision"] == "auto"
    assert {k: v for k, v in ckpt["config"].items() if k in raw["config"]} == raw["config"]


def test_migrations_chain_to_the_current_format_and_leave_it_alone():
    ckpt = {"format": FORMAT, "config": Config().to_dict()}
    assert migrate(ckpt) is ckpt
    for start in MIGRATIONS:
        assert migrate({"format": start, "config": {}})["format"] == FORMAT


def test_checkpoints_written_now_are_the_current_format(tmp_path):
    config = Config(epochs=1, mid_channels=4, num_blocks=1, train_subset=64, validation=16,
                    precision="fp32")
    nvp.train(config, tmp_path, progress=False, log=lambda s: None)
    raw = torch.load(tmp_path / "last.pt", weights_only=True)
    assert raw["format"] == FORMAT and set(raw["config"]) == FIELDS
