"""The s/t network of a coupling layer: a small ResNet with weight norm and batch norm (paper §4.1).

Its input is the half of the image a coupling leaves unchanged; its output holds ``s`` and ``t``
for the other half. It never has to be inverted, so it can be any network at all: that is the
whole trick of coupling layers (paper §3.3).

Speed: almost all of a training step is spent in these convolutions. They run on activations
and weights stored channels-last (NHWC), the layout oneDNN and cuDNN compute in natively (NCHW
tensors get re-laid out inside every convolution): see ``benchmarks/RESULTS.md``. Only the memory
layout changes, not the maths; the flow around the network keeps plain NCHW tensors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


def wn_conv(in_channels: int, out_channels: int, kernel_size: int) -> nn.Module:
    """Weight-normalised convolution ``w = g · v / ‖v‖`` (Salimans & Kingma 2016), same padding."""
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
    return weight_norm(conv)


class ResidualBlock(nn.Module):
    """``h + conv(relu(bn(conv(relu(bn(h))))))``
    (pre-activation residual block)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(channels)
        self.conv1 = wn_conv(channels, channels, 3)
        self.norm2 = nn.BatchNorm2d(channels)
        self.conv2 = wn_conv(channels, channels, 3)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        # in place: bn never reads its output
        r = self.conv1(F.relu(self.norm1(h), inplace=True))
        r = self.conv2(F.relu(self.norm2(r), inplace=True))
        return h + r


class ResNet(nn.Module):
    """``(B, C_in, H, W) -> (B, C_out, H, W)``.

    batch norm → concat(x, −x) → ReLU → 3×3 conv → residual blocks →
    batch norm → ReLU → 1×1 conv.
    ``concat(x, −x)`` before the ReLU keeps both signs of the input.

    The last 1×1 convolution is a plain convolution that starts at zero, so
    every coupling layer starts as the identity map. It is not
    weight-normalised on purpose: with ``w = g·v/‖v‖`` and ``g = 0`` the
    whole output of a channel hangs on the single number ``g``, which Adam
    moves by about ``lr`` per step, and the flow needs hundreds of steps
    before ``t`` can even shift the background pixels; with a plain
    zero-initialised convolution every weight moves at once (measured on
    MNIST-5k: held-out 4.07 vs 6.36 bits/dim after one epoch).

    ``channels_last`` (see :meth:`set_channels_last`): compute on NHWC-stored
    activations and weights (see the module docstring); the output is
    NCHW-contiguous either way.
    """

    def __init__(
        self,
        in_channels: int,
        mid_channels: int,
        out_channels: int,
        num_blocks: int,
    ):
        super().__init__()
        self.in_norm = nn.BatchNorm2d(in_channels)
        self.in_conv = wn_conv(2 * in_channels, mid_channels, 3)
        self.blocks = nn.Sequential(
            *[ResidualBlock(mid_channels) for _ in range(num_blocks)]
        )
        self.out_norm = nn.BatchNorm2d(mid_channels)
        self.out_conv = nn.Conv2d(mid_channels, out_channels, 1)
        # s = t = 0: the coupling starts as the identity
        nn.init.zeros_(self.out_conv.weight)
        nn.init.zeros_(self.out_conv.bias)
        self.set_channels_last(True)

    def set_channels_last(self, on: bool = True) -> ResNet:
        """Store activations and convolution weights NHWC (``on``) or NCHW;
        returns ``self``."""
        self.channels_last = bool(on)
        layout = torch.channels_last if on else torch.contiguous_format
        return self.to(memory_format=layout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            # (B, C_in, H, W), stored NHWC
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.in_norm(x)
        # (B, 2·C_in, H, W)
        x = F.relu(torch.cat((x, -x), dim=1), inplace=True)
        h = self.in_conv(x)  # (B, mid, H, W)
        h = self.blocks(h)
        # (B, C_out, H, W)
        out = self.out_conv(F.relu(self.out_norm(h), inplace=True))
        return out.contiguous()  # NCHW again, for the flow's reshapes
