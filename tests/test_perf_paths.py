"""The fast paths compute what the plain ones do (no timing here: see benchmarks/)."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode, _disable_current_modes

import nvp
from nvp.config import Config
from nvp.training import l2_of, train_step


class SyncCounter(TorchDispatchMode):
    """Counts host–device syncs (``.item()``, ``bool(tensor)``) below autograd."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[str(func.overloadpacket)] += 1
        return func(*args, **(kwargs or {}))

    @property
    def syncs(self) -> int:
        return self.ops["aten._local_scalar_dense"]


def randomize_(model: torch.nn.Module) -> torch.nn.Module:
    """Away from the identity start (s = t = 0), where any two paths agree trivially."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return model


def tiny(**kw) -> nvp.RealNVP:
    return nvp.RealNVP(**{**dict(in_channels=1, num_scales=2, mid_channels=4, num_blocks=1,
                                 image_size=(8, 8)), **kw})


def test_validate_false_skips_the_sync_and_changes_nothing_else():
    model = randomize_(tiny()).eval()
    x = torch.rand(3, 1, 8, 8)
    with SyncCounter() as checked:
        a = model(x, dequantize=False)
    with SyncCounter() as fast:
        b = model(x, dequantize=False, validate=False)
    assert checked.syncs == 1 and fast.syncs == 0
    for u, v in zip(a, b, strict=True):
        torch.testing.assert_close(u, v, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model(x * 2)  # public calls still validate


def test_a_training_step_syncs_once():
    model = tiny()
    config = Config()
    optimizer = torch.optim.Adam(model.parameters())
    step = optimizer.step

    def uncounted_step():  # Adam on CPU reads its step counts with .item(); not a device sync
        with _disable_current_modes():
            return step()

    optimizer.step = uncounted_step
    x = nvp.dequantize(torch.rand(4, 1, 8, 8))
    with SyncCounter() as counter:
        train_step(model, optimizer, x, config)
    assert counter.syncs == 1  # reading the loss


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_channels_last_changes_the_layout_not_the_values(dtype, tol):
    fast = randomize_(tiny(in_channels=3)).to(dtype).eval()
    plain = tiny(in_channels=3, channels_last=False).to(dtype).eval()
    plain.load_state_dict(fast.state_dict())
    conv = plain.scales[0].in_couplings[0].st_net.in_conv
    assert conv.parametrizations.weight.original1.is_contiguous()
    x = torch.rand(2, 3, 8, 8, dtype=dtype)
    for u, v in zip(fast(x, dequantize=False), plain(x, dequantize=False), strict=True):
        assert u.is_contiguous()
        torch.testing.assert_close(u, v, rtol=tol, atol=tol)


def test_l2_in_one_reduction_equals_l2_penalty():
    model = randomize_(tiny())
    scales = nvp.loss.weight_norm_scales(model)
    torch.testing.assert_close(l2_of(scales, 5e-5), nvp.l2_penalty(model, 5e-5))


def test_bf16_autocast_keeps_the_flow_in_float32():
    model = randomize_(tiny()).eval()
    x = torch.rand(2, 1, 8, 8)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        z, sldj = model(x, dequantize=False)
    assert z.dtype == sldj.dtype == torch.float32
    with torch.no_grad():
        z32, sldj32 = model(x, dequantize=False)
    torch.testing.assert_close(sldj, sldj32, rtol=1e-2, atol=0)  # bf16 s/t nets, same flow
