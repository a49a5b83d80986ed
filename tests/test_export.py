"""ONNX export: ONNX Runtime (Python) against nvp in float32, and bad input.

Tolerances (float32): decode max |Δ pixel| ≤ 1e-4; codes ‖Δz‖/‖z‖ ≤ 1e-4 per batch (the norm:
with β = 0.99998 a pixel whose noise puts it at a bin edge sits where the logit is steep, and its
code alone moves ~1e-3 between runtimes; the shipped model: ‖Δz‖/‖z‖ 1.8e-5, max |Δz| 9e-4);
bits/dim max |Δ| ≤ 1e-4. torch against itself under the other kernels
(``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2``) on the shipped case: ‖Δz‖/‖z‖ 1e-6.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import nvp
from nvp.data import load_dataset
from nvp.resnet import ResNet

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
from nvp.training.export import export_checkpoint, export_onnx, scale_codes  # noqa: E402

WEIGHTS = Path(nvp.__file__).parent / "weights" / "mnist5k.pt"


def randomised(seed: int, **kw) -> nvp.RealNVP:
    """A model whose couplings are not the identity: every s/t ResNet's zero-initialised last
    conv gets small random weights."""
    torch.manual_seed(seed)
    model = nvp.RealNVP(**kw)
    for m in model.modules():
        if isinstance(m, ResNet):
            torch.nn.init.normal_(m.out_conv.weight, std=0.05)
            torch.nn.init.normal_(m.out_conv.bias, std=0.05)
    return model.eval()


CASES = {
    "small-uniform": dict(in_channels=1, num_scales=2, mid_channels=8, num_blocks=1,
                          data_constraint=0.9, image_size=(8, 8), dequantization="uniform"),
    "small-variational": dict(in_channels=1, num_scales=2, mid_channels=8, num_blocks=1,
                              data_constraint=0.99998, image_size=(8, 8),
                              dequantization="variational"),
    "larger-uniform": dict(in_channels=1, num_scales=3, mid_channels=16, num_blocks=2,
                           data_constraint=0.99998, image_size=(16, 16),
                           dequantization="uniform"),
}


def session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """name -> (model, {"encode", "decode"} sessions, paths); the shipped model included."""
    out = {}
    for i, (name, kw) in enumerate(CASES.items()):
        model = randomised(i, **kw)
        paths = export_onnx(model, tmp_path_factory.mktemp(name))
        out[name] = (model, {k: session(paths[k]) for k in ("encode", "decode")}, paths)
    paths = export_checkpoint(WEIGHTS, tmp_path_factory.mktemp("shipped"))
    model = nvp.pretrained("mnist5k")
    out["shipped"] = (model, {k: session(paths[k]) for k in ("encode", "decode")}, paths)
    return out


def images(model: nvp.RealNVP, n: int, seed: int) -> torch.Tensor:
    h, w = model.image_size or (28, 28)
    if (h, w) == (28, 28):
        return load_dataset("mnist5k", "test")[seed:seed + n]
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 1, h, w), generator=g).float() / 255


@pytest.mark.parametrize("name", [*CASES, "shipped"])
@pytest.mark.parametrize("batch", [1, 16])
def test_encode_matches_nvp(exported, name, batch):
    model, sessions, _ = exported[name]
    x = images(model, batch, seed=3)
    noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(batch))
    with torch.no_grad():
        z, sldj = model(x, noise=noise)
    bpd = nvp.bits_per_dim(z, sldj)
    out = sessions["encode"].run(None, {"x": x.numpy(), "noise": noise.numpy()})
    assert out[0].shape == tuple(z.shape) and out[2].shape == (batch,)
    rel = np.linalg.norm(out[0] - z.numpy()) / np.linalg.norm(z.numpy())
    assert rel <= 1e-4, rel
    assert np.abs(out[2] - bpd.numpy()).max() <= 1e-4
    assert np.abs(out[1] - sldj.numpy()).max() <= 1e-5 * np.abs(sldj.numpy()).max() + 1e-4
    for got, want in zip(out[3:], scale_codes(z, model.num_scales), strict=True):
        assert got.shape == tuple(want.shape)
        assert np.linalg.norm(got - want.numpy()) <= 1e-4 * np.linalg.norm(want.numpy())


@pytest.mark.parametrize("name", [*CASES, "shipped"])
@pytest.mark.parametrize("batch", [1, 16])
def test_decode_matches_nvp(exported, name, batch):
    model, sessions, _ = exported[name]
    h, w = model.image_size or (28, 28)
    z = 0.8 * torch.randn(batch, 1, h, w, generator=torch.Generator().manual_seed(batch))
    with torch.no_grad():
        x, _ = model(z, reverse=True)
    got = sessions["decode"].run(None, {"z": z.numpy()})[0]
    assert got.shape == tuple(x.shape)
    assert np.abs(got - x.numpy()).max() <= 1e-4
    assert x.std() > 0.05  # not a blank image: the check compares something


def test_shipped_files_name_their_checkpoint(exported):
    _, _, paths = exported["shipped"]
    manifest = json.loads(paths["manifest"].read_text())
    assert manifest["checkpoint_sha256"] == hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()
    for k in ("encode", "decode"):
        data = paths[k].read_bytes()
        assert manifest[k]["sha256"] == hashlib.sha256(data).hexdigest()
        assert len(data) < 7_000_000  # one file each, weights inside, float32


def test_not_a_checkpoint(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="checkpoint"):
        export_checkpoint(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unknown_opset(tmp_path):
    with pytest.raises(ValueError, match="opset must be one of"):
        export_checkpoint(WEIGHTS, tmp_path / "out", opset=7)
    with pytest.raises(ValueError, match="opset must be one of"):
        export_onnx(randomised(0, **CASES["small-uniform"]), tmp_path / "out", opset=True)
    assert not (tmp_path / "out").exists()


def test_unwritable_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        export_onnx(randomised(0, **CASES["small-uniform"]), blocker)
    with pytest.raises(ValueError, match="cannot create"):
        export_onnx(randomised(0, **CASES["small-uniform"]), blocker / "sub")
    assert blocker.read_text() == "x"


def test_bad_model_and_size(tmp_path):
    with pytest.raises(TypeError, match="nvp.RealNVP"):
        export_onnx(torch.nn.Linear(2, 2), tmp_path)
    model = randomised(0, **{**CASES["small-uniform"], "image_size": None})
    with pytest.raises(ValueError, match="image_size"):
        export_onnx(model, tmp_path)
    with pytest.raises(ValueError, match="multiples"):
        export_onnx(model, tmp_path, image_size=(7, 8))
    assert list(tmp_path.iterdir()) == []


def test_failed_export_leaves_no_file(tmp_path, monkeypatch):
    import nvp.training.export as ex

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ex, "_write_atomic", boom)
    with pytest.raises(RuntimeError):
        export_onnx(randomised(0, **CASES["small-uniform"]), tmp_path / "o")
    assert not any(p.is_file() for p in (tmp_path / "o").glob("*"))
