"""The fast paths compute what the plain ones do (no timing here: see benchmarks/)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import torch

import nvp
from nvp.testing import randomize_
from nvp.training import Config, train_step

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from opcount import OpCounter, uncounted  # noqa: E402  (a benchmark tool, not the package's)


def tiny(**kw) -> nvp.RealNVP:
    return nvp.RealNVP(**{**dict(in_channels=1, num_scales=2, mid_channels=4, num_blocks=1,
                                 image_size=(8, 8)), **kw})


def test_validate_false_skips_the_sync_and_changes_nothing_else():
    model = randomize_(tiny()).eval()
    x = torch.rand(3, 1, 8, 8)
    with OpCounter() as checked:
        a = model(x, dequantize=False)
    with OpCounter() as fast:
        b = model(x, dequantize=False, validate=False)
    assert checked.syncs == 1 and fast.syncs == 0
    for u, v in zip(a, b, strict=True):
        torch.testing.assert_close(u, v, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model(x * 2)  # public calls still validate


def test_a_training_step_syncs_once():
    model = tiny()
    config = Config(precision="fp32")
    optimizer = torch.optim.Adam(model.parameters())
    optimizer.step = uncounted(optimizer.step)  # on CPU Adam reads step counts with .item()
    x, u = torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    with OpCounter() as counter:
        train_step(model, optimizer, x, u, config)
    assert counter.syncs == 1  # reading the loss
    assert counter.from_python == 0  # no host-to-device copies of Python data (squeeze_alt)


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


def test_l2_penalty_of_a_found_list_equals_that_of_the_model():
    model = randomize_(tiny())
    scales = nvp.loss.weight_norm_scales(model)
    per_layer = 5e-5 * sum(g.pow(2).sum() for g in scales)
    torch.testing.assert_close(nvp.l2_penalty(scales, 5e-5), per_layer)
    torch.testing.assert_close(nvp.l2_penalty(model, 5e-5), per_layer)


def test_bf16_autocast_keeps_the_flow_in_float32():
    model = randomize_(tiny()).eval()
    x = torch.rand(2, 1, 8, 8)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        z, sldj = model(x, dequantize=False)
    assert z.dtype == sldj.dtype == torch.float32
    with torch.no_grad():
        z32, sldj32 = model(x, dequantize=False)
    torch.testing.assert_close(sldj, sldj32, rtol=1e-2, atol=0)  # bf16 s/t nets, same flow


def test_bf16_training_step_is_close_to_float32_and_stays_float32():
    torch.manual_seed(0)
    model = randomize_(tiny(), std=0.1)
    gen = torch.Generator().manual_seed(1)
    x, u = torch.rand(8, 1, 8, 8, generator=gen), torch.rand(8, 1, 8, 8, generator=gen)
    losses, grads = {}, {}
    for bf16 in (False, True):
        m = copy.deepcopy(model)
        optimizer = torch.optim.SGD(m.parameters(), lr=0.0)  # look at the gradients only
        config = Config(precision="bf16" if bf16 else "fp32", max_grad_norm=1e9)
        losses[bf16] = train_step(m, optimizer, x, u, config)
        grads[bf16] = torch.cat([p.grad.flatten() for p in m.parameters()])
        assert all(p.dtype == torch.float32 for p in m.parameters())
    assert losses[True] != losses[False]  # bf16 really was used ...
    assert losses[True] == pytest.approx(losses[False], rel=1e-2)  # ... and the loss is close
    cos = torch.nn.functional.cosine_similarity(grads[True], grads[False], dim=0)
    assert cos > 0.99  # the same descent direction


def test_the_private_torch_apis_nvp_relies_on_are_still_there_and_agree():
    """Each private PyTorch API sits behind one function of nvp (with its public fallback);
    this test fails when one moves or changes, so that the fallback is not taken silently."""
    from nvp.training.average import lerp_all_
    from nvp.training.loop import compile_errors

    assert hasattr(torch, "_foreach_lerp_"), "torch._foreach_lerp_ is gone: lerp_all_ falls " \
        "back to one lerp_ per tensor (slower on a GPU)"
    gen = torch.Generator().manual_seed(0)
    a = [torch.randn(3, 4, generator=gen), torch.randn(5, generator=gen)]
    b = [torch.randn(3, 4, generator=gen), torch.randn(5, generator=gen)]
    fused = [t.clone() for t in a]
    lerp_all_(fused, b, 0.3)
    for x, y, f in zip(a, b, fused, strict=True):
        torch.testing.assert_close(f, x.lerp(y, 0.3))
    errors = compile_errors()
    assert errors and issubclass(errors[0], Exception), \
        "torch._dynamo.exc.TorchDynamoException moved: update nvp.training.loop.compile_errors"
