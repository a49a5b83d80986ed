"""Affine coupling layers with checkerboard and channel-wise masks (paper §3.3–3.4).

A binary mask ``b`` splits the input into a part that is kept and a part that is transformed::

    y = b ⊙ x + (1 − b) ⊙ (x ⊙ exp(s(b ⊙ x)) + t(b ⊙ x))        (paper eq. 9)

Because ``s`` and ``t`` only see the kept part, the Jacobian is triangular (after ordering the
kept dimensions first) with diagonal ``1`` on the kept part and ``exp(s)`` on the rest, so::

    log|det ∂y/∂x| = Σ (1 − b) ⊙ s                                (paper eq. 6)

and the inverse needs no inverse of ``s`` or ``t``:  ``x = (y − t) ⊙ exp(−s)`` on the changed part.

Paper vs seed: the paper writes ``y = x·e^s + t``; chrischute/real-nvp writes ``y = (x + t)·e^s``.
Both are valid: ``(x + t)·e^s = x·e^s + t·e^s`` and ``t·e^s`` is just another arbitrary function
of the kept half, with the same diagonal ``e^s`` and so the same log-determinant. We use the
paper's form.

``s = scale · tanh(s_raw)``: tanh bounds the log-scale, a learnable per-channel ``scale``
(initialised to 1) sets its range, which keeps early training stable. ``bounded=False`` uses
``s = s_raw`` as many implementations do (chapter 7 shows how that fails).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from .flows import Flow
from .resnet import ResNet

MaskType = Literal["checkerboard", "channel"]
CHECKERBOARD: MaskType = "checkerboard"
CHANNEL_WISE: MaskType = "channel"


def checkerboard_mask(
    height: int,
    width: int,
    reverse: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``(1, 1, H, W)`` mask with ``b[i, j] = 1`` where ``i + j`` is even
    (odd if ``reverse``)."""
    i = torch.arange(height, device=device).view(-1, 1)
    j = torch.arange(width, device=device).view(1, -1)
    mask = ((i + j) % 2 == int(reverse)).to(dtype)
    return mask.view(1, 1, height, width)  # (1, 1, H, W)


class AffineCoupling(Flow):
    """One affine coupling layer.

    Args:
        in_channels: channels of the input ``x``.
        mid_channels: width of the s/t ResNet.
        num_blocks: residual blocks in the s/t ResNet.
        mask_type: ``"checkerboard"`` (spatial mask) or ``"channel"`` (halves of the channels).
        reverse_mask: swap which part is kept, so alternating layers transform every entry.
        context_channels: channels of an extra input ``context`` that ``s`` and ``t`` also see
            (a conditional coupling, as in :class:`nvp.VariationalDequantizer`, or the one-hot
            label planes of a class-conditional model, :mod:`nvp.conditional`); 0 for none.
            A context of size ``1 × 1`` is expanded to the input's ``H × W``.
        bounded: ``s = scale · tanh(s_raw)`` (True) or the unbounded ``s = s_raw``.
    """

    def __init__(
        self,
        in_channels: int,
        mid_channels: int,
        num_blocks: int,
        mask_type: MaskType,
        reverse_mask: bool = False,
        context_channels: int = 0,
        bounded: bool = True,
    ) -> None:
        super().__init__()
        self.bounded = bounded
        if mask_type not in (CHECKERBOARD, CHANNEL_WISE):
            raise ValueError(
                f"mask_type must be {CHECKERBOARD!r} or {CHANNEL_WISE!r}, got {mask_type!r}"
            )
        if mask_type == CHANNEL_WISE and in_channels % 2:
            raise ValueError(f"a channel-wise mask needs an even channel count, got {in_channels}")
        self.mask_type = mask_type
        self.reverse_mask = reverse_mask
        c = in_channels if mask_type == CHECKERBOARD else in_channels // 2  # channels of s and t
        self.st_net = ResNet(c + context_channels, mid_channels, 2 * c, num_blocks)
        self.scale = nn.Parameter(torch.ones(1, c, 1, 1))  # learnable range of s, per channel
        self._masks: dict[tuple, torch.Tensor] = {}  # checkerboard masks, built once per shape

    def mask(self, x: torch.Tensor) -> torch.Tensor:
        """The checkerboard mask for ``x``'s size, device and dtype (cached)."""
        key = (x.shape[-2], x.shape[-1], x.dtype, x.device)
        if key not in self._masks:
            self._masks[key] = checkerboard_mask(*key[:2], self.reverse_mask, x.dtype, x.device)
        return self._masks[key]

    def s_t(
        self, x_id: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``s = scale · tanh(s_raw)`` (or ``s_raw`` if not ``bounded``) and
        ``t`` from the kept part ``x_id`` (and ``context``)."""
        if context is not None:
            # (B, c_ctx, H, W)
            context = context.expand(-1, -1, *x_id.shape[-2:])
        # (B, c + c_ctx, H, W)
        h = x_id if context is None else torch.cat((x_id, context), dim=1)
        # Under autocast the s/t network may compute in bf16; s and t come
        # back in x's dtype, so the affine map and its log-det Σ s stay in
        # full precision: Σ s is exact for the s used.
        # each (B, c, H, W)
        s_raw, t = self.st_net(h).to(x_id.dtype).chunk(2, dim=1)
        return (self.scale * torch.tanh(s_raw) if self.bounded else s_raw), t

    def forward(
        self, x: torch.Tensor, sldj: torch.Tensor, reverse: bool = False,
        context: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.mask_type == CHECKERBOARD:
            b = self.mask(x)  # (1, 1, H, W), 1 = kept
            s, t = self.s_t(x * b, context)
            # kept entries: s = t = 0, so y = x there
            s, t = s * (1 - b), t * (1 - b)
            y = (x - t) * torch.exp(-s) if reverse else x * torch.exp(s) + t
        else:
            x_change, x_id = x.chunk(2, dim=1)  # (B, C/2, H, W) each
            if self.reverse_mask:
                x_id, x_change = x_change, x_id
            s, t = self.s_t(x_id, context)
            if reverse:
                x_change = (x_change - t) * torch.exp(-s)
            else:
                x_change = x_change * torch.exp(s) + t
            parts = (x_id, x_change) if self.reverse_mask else (x_change, x_id)
            y = torch.cat(parts, dim=1)  # (B, C, H, W), channel order kept
        ldj = s.flatten(1).sum(-1)  # log|det| = Σ s over the changed entries
        return y, (sldj - ldj) if reverse else (sldj + ldj)
