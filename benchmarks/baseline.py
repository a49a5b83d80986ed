"""A straightforward Real NVP, written the way most public PyTorch ports are (the comparison point).

Same architecture, layer counts and widths as :class:`nvp.RealNVP` (so the same 18.5M parameters at
the CIFAR-10 configuration, and the same log-likelihood for the same weights: see
:func:`load_from_nvp`), but in the common public style of chrischute/real-nvp:

* the checkerboard mask is rebuilt from a Python list on every forward (and copied to the device);
* every coupling checks ``torch.isnan(exp(s)).any()`` (one host–device sync per coupling);
* weight norm is the classic hook (``torch.nn.utils.weight_norm``: ``weight_g``, ``weight_v``);
* squeezing permutes to channels-last and calls ``.contiguous()`` at each step, and the alternate
  order squeeze is a strided convolution with a 0/1 permutation kernel built on every call;
* the multi-scale model is recursive; the input range check costs two syncs (``min``, ``max``).

The maths is the paper's (``y = x·e^s + t``, ``s = scale·tanh(s_raw)``); it is not ours to speed
up: only how it is computed differs. Written for this benchmark, not copied.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn

with warnings.catch_warnings():  # the classic weight norm is deprecated, but it is what ports use
    warnings.simplefilter("ignore", FutureWarning)
    _weight_norm = nn.utils.weight_norm


def wn_conv(c_in: int, c_out: int, k: int) -> nn.Module:
    """Weight-normed conv ``w = g · v / ‖v‖`` via the classic forward pre-hook."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return _weight_norm(nn.Conv2d(c_in, c_out, k, padding=k // 2))


def checkerboard(h: int, w: int, reverse: bool, device: torch.device) -> torch.Tensor:
    """``(1, 1, H, W)``, 1 where ``i + j`` is even (odd if ``reverse``), built in Python."""
    rows = [[float((i + j) % 2 == int(reverse)) for j in range(w)] for i in range(h)]
    return torch.tensor(rows, device=device).view(1, 1, h, w)


def squeeze(x: torch.Tensor, reverse: bool = False) -> torch.Tensor:
    """2×2 squeeze (channel ``4c + 2·dy + dx``) through a channels-last permute."""
    b, c, h, w = x.size()
    x = x.permute(0, 2, 3, 1)  # (B, H, W, C)
    if reverse:
        x = x.view(b, h, w, c // 4, 2, 2).permute(0, 1, 4, 2, 5, 3)
        x = x.contiguous().view(b, 2 * h, 2 * w, c // 4)  # (B, 2H, 2W, C/4)
    else:
        x = x.view(b, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 5, 2, 4)
        x = x.contiguous().view(b, h // 2, w // 2, 4 * c)  # (B, H/2, W/2, 4C)
    return x.permute(0, 3, 1, 2)  # (B, C', H', W')


def squeeze_alt(x: torch.Tensor, reverse: bool = False) -> torch.Tensor:
    """Alternate-order squeeze as a stride-2 conv with a 0/1 kernel built on every call (offsets
    (0,0), (1,1), (0,1), (1,0); channels grouped by offset)."""
    c = x.size(1) // 4 if reverse else x.size(1)
    offsets = torch.tensor([[[[1., 0.], [0., 0.]]], [[[0., 0.], [0., 1.]]],
                            [[[0., 1.], [0., 0.]]], [[[0., 0.], [1., 0.]]]],
                           dtype=x.dtype, device=x.device)  # (4, 1, 2, 2)
    kernel = torch.zeros(4 * c, c, 2, 2, dtype=x.dtype, device=x.device)
    for ci in range(c):
        kernel[4 * ci:4 * ci + 4, ci:ci + 1] = offsets
    order = torch.tensor([4 * ci + k for k in range(4) for ci in range(c)])
    kernel = kernel[order]  # output channel k·C + c
    return F.conv_transpose2d(x, kernel, stride=2) if reverse else F.conv2d(x, kernel, stride=2)


class ResidualBlock(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.norm1, self.conv1 = nn.BatchNorm2d(ch), wn_conv(ch, ch, 3)
        self.norm2, self.conv2 = nn.BatchNorm2d(ch), wn_conv(ch, ch, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = x
        x = self.conv1(F.relu(self.norm1(x)))
        x = self.conv2(F.relu(self.norm2(x)))
        return x + skip


class ResNet(nn.Module):
    def __init__(self, c_in: int, mid: int, c_out: int, num_blocks: int) -> None:
        super().__init__()
        self.in_norm = nn.BatchNorm2d(c_in)
        self.in_conv = wn_conv(2 * c_in, mid, 3)
        self.blocks = nn.ModuleList([ResidualBlock(mid) for _ in range(num_blocks)])
        self.out_norm = nn.BatchNorm2d(mid)
        self.out_conv = nn.Conv2d(mid, c_out, 1)  # plain, zero-initialised, as in nvp
        nn.init.zeros_(self.out_conv.weight)
        nn.init.zeros_(self.out_conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.in_norm(x)
        x = F.relu(torch.cat((x, -x), dim=1))
        x = self.in_conv(x)
        for block in self.blocks:
            x = block(x)
        return self.out_conv(F.relu(self.out_norm(x)))


class Coupling(nn.Module):
    def __init__(self, c: int, mid: int, num_blocks: int, checker: bool, reverse_mask: bool):
        super().__init__()
        self.checker, self.reverse_mask = checker, reverse_mask
        c = c if checker else c // 2
        self.st_net = ResNet(c, mid, 2 * c, num_blocks)
        self.scale = nn.Parameter(torch.ones(1, c, 1, 1))

    def forward(self, x, sldj, reverse=False):
        if self.checker:
            b = checkerboard(x.size(2), x.size(3), self.reverse_mask, x.device)
            st = self.st_net(x * b)
            s, t = st.chunk(2, dim=1)
            s = self.scale * torch.tanh(s)
            s, t = s * (1 - b), t * (1 - b)
            if reverse:
                x = (x - t) * torch.exp(-s)
                sldj = sldj - s.reshape(s.size(0), -1).sum(-1)
            else:
                exp_s = s.exp()
                if torch.isnan(exp_s).any():
                    raise RuntimeError("scale factor has NaN entries")
                x = x * exp_s + t
                sldj = sldj + s.reshape(s.size(0), -1).sum(-1)
            return x, sldj
        if self.reverse_mask:
            x_id, x_change = x.chunk(2, dim=1)
        else:
            x_change, x_id = x.chunk(2, dim=1)
        s, t = self.st_net(x_id).chunk(2, dim=1)
        s = self.scale * torch.tanh(s)
        if reverse:
            x_change = (x_change - t) * torch.exp(-s)
            sldj = sldj - s.reshape(s.size(0), -1).sum(-1)
        else:
            exp_s = s.exp()
            if torch.isnan(exp_s).any():
                raise RuntimeError("scale factor has NaN entries")
            x_change = x_change * exp_s + t
            sldj = sldj + s.reshape(s.size(0), -1).sum(-1)
        x = torch.cat((x_id, x_change) if self.reverse_mask else (x_change, x_id), dim=1)
        return x, sldj


class _Scale(nn.Module):
    """One scale, holding the next one (recursive, as in the public port)."""

    def __init__(self, idx: int, num_scales: int, c: int, mid: int, num_blocks: int) -> None:
        super().__init__()
        self.last = idx == num_scales - 1
        n = 4 if self.last else 3
        self.in_couplings = nn.ModuleList(
            [Coupling(c, mid, num_blocks, True, i % 2 == 1) for i in range(n)])
        if not self.last:
            self.out_couplings = nn.ModuleList(
                [Coupling(4 * c, 2 * mid, num_blocks, False, i % 2 == 1) for i in range(3)])
            self.next = _Scale(idx + 1, num_scales, 2 * c, 2 * mid, num_blocks)

    def forward(self, x, sldj, reverse=False):
        if reverse:
            if not self.last:
                x = squeeze_alt(x)
                x, x_split = x.chunk(2, dim=1)
                x, sldj = self.next(x, sldj, reverse)
                x = squeeze_alt(torch.cat((x, x_split), dim=1), reverse=True)
                x = squeeze(x)
                for coupling in reversed(self.out_couplings):
                    x, sldj = coupling(x, sldj, reverse)
                x = squeeze(x, reverse=True)
            for coupling in reversed(self.in_couplings):
                x, sldj = coupling(x, sldj, reverse)
            return x, sldj
        for coupling in self.in_couplings:
            x, sldj = coupling(x, sldj)
        if not self.last:
            x = squeeze(x)
            for coupling in self.out_couplings:
                x, sldj = coupling(x, sldj)
            x = squeeze(x, reverse=True)
            x = squeeze_alt(x)
            x, x_split = x.chunk(2, dim=1)
            x, sldj = self.next(x, sldj)
            x = squeeze_alt(torch.cat((x, x_split), dim=1), reverse=True)
        return x, sldj


class BaselineRealNVP(nn.Module):
    """``z, sldj = model(x)``, same contract and maths as :class:`nvp.RealNVP`."""

    def __init__(self, in_channels=1, num_scales=2, mid_channels=64, num_blocks=8,
                 data_constraint=0.9) -> None:
        super().__init__()
        self.beta = data_constraint
        self.flows = _Scale(0, num_scales, in_channels, mid_channels, num_blocks)

    def forward(self, x, reverse=False, dequantize=True, noise=None):
        if reverse:
            x, sldj = self.flows(x, x.new_zeros(x.size(0)), reverse=True)
            x = ((2 * torch.sigmoid(x) - 1) / self.beta + 1) / 2
            return x, sldj
        if x.min() < 0 or x.max() > 1:
            raise ValueError("expected x in [0, 1]")
        if dequantize:
            x = (x * 255.0 + (torch.rand_like(x) if noise is None else noise)) / 256.0
        p = ((2 * x - 1) * self.beta + 1) / 2
        y = p.log() - (1 - p).log()
        ldj = F.softplus(y) + F.softplus(-y) - math.log(1 / self.beta)
        return self.flows(y, ldj.view(ldj.size(0), -1).sum(-1))


def weight_norm_scales(model: nn.Module) -> list[nn.Parameter]:
    """The weight-norm magnitudes ``g`` (the paper's L2 penalty applies to these only)."""
    return [p for n, p in model.named_parameters() if n.endswith("weight_g")]


def _couplings(model: nn.Module) -> list[nn.Module]:
    kinds = ("Coupling", "AffineCoupling")
    return [m for m in model.modules() if type(m).__name__ in kinds]


def load_from_nvp(baseline: BaselineRealNVP, model: nn.Module) -> BaselineRealNVP:
    """Copy an ``nvp.RealNVP``'s weights into ``baseline`` (couplings in the same order)."""
    ours, theirs = _couplings(baseline), _couplings(model)
    if len(ours) != len(theirs):
        raise ValueError(f"{len(ours)} couplings here, {len(theirs)} in the nvp model")
    rename = {"parametrizations.weight.original0": "weight_g",
              "parametrizations.weight.original1": "weight_v"}
    state = {}
    for i, c in enumerate(theirs):
        for k, v in c.state_dict().items():
            for old, new in rename.items():
                k = k.replace(old, new)
            state[f"{i}.{k}"] = v
    with torch.no_grad():
        for i, c in enumerate(ours):
            mine = c.state_dict()
            for k, v in mine.items():
                src = state[f"{i}.{k}"]
                if src.shape != v.shape:
                    raise ValueError(f"coupling {i} {k}: {tuple(src.shape)} vs {tuple(v.shape)}")
                v.copy_(src)
    return baseline
