"""A 2-D Real NVP for teaching, built from the very coupling layer the image model uses.

A point ``x = (x₁, x₂)`` is stored as a ``(B, 2, 1, 1)`` image: two channels, one pixel. A
channel-wise :class:`nvp.AffineCoupling` then keeps one coordinate and transforms the other
(paper §3.3, eq. 7)::

    y₁ = x₁ · exp(s(x₂)) + t(x₂),   y₂ = x₂,   log|det ∂y/∂x| = s(x₂)

and ``reverse_mask`` swaps the roles, so alternating couplings transform both coordinates. The
toy model's log-likelihood is the change of variables formula (paper eq. 3)::

    log p(x) = log N(f(x); 0, I) + log|det ∂f/∂x|

Also here: the two-moons data set (our own sampler), the distance of points to its two
half circles, a flood fill for density grids, and a small training loop.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..coupling import CHANNEL_WISE, AffineCoupling
from ..flows import FlowSequence
from ..loss import gaussian_log_prob
from ..mode import eval_mode


def two_moons(
    n: int, noise: float = 0.05, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``n`` points of two interleaved half circles plus Gaussian noise, shape ``(n, 2)``.

    Upper moon ``(cos θ, sin θ)``, lower moon ``(1 − cos θ, ½ − sin θ)``, ``θ ~ U[0, π]``,
    centred at the origin (shift by ``(−½, −¼)``); points come shuffled.
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    theta = math.pi * torch.rand(n, generator=generator)
    upper = torch.arange(n) < (n + 1) // 2  # first half upper moon, rest lower
    x = torch.where(upper, torch.cos(theta), 1.0 - torch.cos(theta))
    y = torch.where(upper, torch.sin(theta), 0.5 - torch.sin(theta))
    points = torch.stack((x - 0.5, y - 0.25), dim=1)  # (n, 2)
    points = points + noise * torch.randn(n, 2, generator=generator)
    return points[torch.randperm(n, generator=generator)]


def moons_distance(x: torch.Tensor, n: int = 500) -> torch.Tensor:
    """Distance from each point ``(N, 2)`` to the two noiseless half circles that
    :func:`two_moons` scatters its points around, shape ``(N, 2)``: column 0 to the upper moon,
    column 1 to the lower (each circle sampled at ``n`` points)."""
    theta = torch.linspace(0, math.pi, n, dtype=x.dtype)
    upper = torch.stack((torch.cos(theta) - 0.5, torch.sin(theta) - 0.25), dim=1)  # (n, 2)
    lower = torch.stack((0.5 - torch.cos(theta), 0.25 - torch.sin(theta)), dim=1)  # (n, 2)
    return torch.stack([torch.cdist(x, arc).amin(1) for arc in (upper, lower)], dim=1)


def connected_region(inside: torch.Tensor, start: tuple[int, int]) -> torch.Tensor:
    """The cells of a boolean grid ``inside`` ``(H, W)`` that ``start`` reaches by steps up,
    down, left or right through ``inside`` cells (a flood fill), as an ``(H, W)`` mask."""
    reached = torch.zeros_like(inside)
    reached[start] = inside[start]
    while True:
        grown = reached.clone()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= inside
        if torch.equal(grown, reached):
            return reached
        reached = grown


def to_image(x: torch.Tensor) -> torch.Tensor:
    """``(B, 2)`` points -> ``(B, 2, 1, 1)`` two-channel one-pixel images."""
    return x.reshape(x.shape[0], 2, 1, 1)  # (B, 2, 1, 1)


def from_image(x: torch.Tensor) -> torch.Tensor:
    """``(B, 2, 1, 1)`` -> ``(B, 2)``."""
    return x.reshape(x.shape[0], 2)  # (B, 2)


class ToyFlow(nn.Module):
    """A stack of channel-wise :class:`nvp.AffineCoupling` layers on 2-D points.

    Args:
        num_couplings: coupling layers; masks alternate (even layers change ``x₁``, odd ``x₂``).
        mid_channels: width of each s/t ResNet.
        num_blocks: residual blocks per s/t ResNet.
    """

    def __init__(
        self, num_couplings: int = 8, mid_channels: int = 16, num_blocks: int = 1
    ) -> None:
        super().__init__()
        # coupling i keeps x₂ (even i) or x₁ (odd i): the masks alternate
        self.couplings = FlowSequence(*[
            AffineCoupling(2, mid_channels, num_blocks, CHANNEL_WISE,
                           reverse_mask=i % 2 == 1)
            for i in range(num_couplings)
        ])

    def forward(
        self, x: torch.Tensor, reverse: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x (B, 2) -> (z (B, 2), log|det ∂z/∂x| (B,))``; with ``reverse``, ``z -> x``."""
        y, sldj = self.couplings(to_image(x), x.new_zeros(x.shape[0]), reverse)
        return from_image(y), sldj

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x) = log N(f(x); 0, I) + log|det ∂f/∂x|``, shape ``(B,)``."""
        z, sldj = self(x)
        return gaussian_log_prob(z) + sldj

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``z ~ N(0, I)`` pushed through the inverse flow, ``(n, 2)`` (eval mode)."""
        param = next(self.parameters())
        z = torch.randn(n, 2, generator=generator, dtype=param.dtype)
        return self.trajectory(z, reverse=True)[-1]

    @torch.no_grad()
    def trajectory(self, x: torch.Tensor, reverse: bool = False) -> list[torch.Tensor]:
        """The points after each coupling: ``[x, f₁(x), f₂(f₁(x)), …]`` (eval mode).

        With ``reverse=True`` it starts from ``z`` and applies the inverses, last layer first,
        which is how samples are made.
        """
        h, sldj = to_image(x), x.new_zeros(x.shape[0])  # (B, 2, 1, 1), (B,)
        states = [x]
        layers = list(self.couplings.flows)
        with eval_mode(self):
            for layer in reversed(layers) if reverse else layers:
                h, sldj = layer(h, sldj, reverse)
                states.append(from_image(h))  # (B, 2)
        return states


def train_toy(
    flow: ToyFlow,
    data: torch.Tensor,
    steps: int = 800,
    batch_size: int = 512,
    lr: float = 3e-3,
    generator: torch.Generator | None = None,
) -> list[float]:
    """Maximum likelihood with Adam: minimise ``−mean log p(x)`` over random mini-batches.

    The learning rate follows a cosine schedule from ``lr`` down to 0 over ``steps``.

    Returns the loss (nats per point) after every step. Leaves ``flow`` in eval mode.
    """
    # one fused kernel updates every parameter (on CPU from torch 2.4; before,
    # foreach: a few multi-tensor kernels), not a Python loop over them
    fast = {"fused": True} if torch.__version__ >= (2, 4) else {"foreach": True}
    opt = torch.optim.Adam(flow.parameters(), lr=lr, **fast)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    flow.train()
    history = []
    for _ in range(steps):
        idx = torch.randint(len(data), (batch_size,), generator=generator)
        loss = -flow.log_prob(data[idx]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        history.append(loss.item())
    flow.eval()
    return history


class _HandMadeST(nn.Module):
    """An s/t "network" written by hand: ``s_raw = x₂``, ``t = b · sin(1.5 · x₂)``."""

    def __init__(self, b: float) -> None:
        super().__init__()
        self.b = b

    def forward(self, x_id: torch.Tensor) -> torch.Tensor:
        """``(s_raw, t) = (x₂, b · sin(1.5 x₂))`` as channels: ``(B, 1, 1, 1) → (B, 2, 1, 1)``."""
        return torch.cat((x_id, self.b * torch.sin(1.5 * x_id)), dim=1)  # (B, 2, 1, 1)


def hand_coupling(a: float, b: float) -> AffineCoupling:
    """A real :class:`nvp.AffineCoupling` whose s/t network is replaced by simple formulas.

    It changes ``x₁`` and keeps ``x₂``, with ``s(x₂) = a · tanh(x₂)`` (the layer computes
    ``scale · tanh(s_raw)``; here ``scale = a``, ``s_raw = x₂``) and ``t(x₂) = b · sin(1.5 x₂)``::

        y₁ = x₁ · exp(a · tanh(x₂)) + b · sin(1.5 x₂),   y₂ = x₂

    ``a`` stretches (``s > 0``) or squeezes (``s < 0``) the plane along ``x₁``; ``b`` bends it.
    """
    layer = AffineCoupling(2, 1, 1, CHANNEL_WISE)
    layer.st_net = _HandMadeST(b)
    with torch.no_grad():
        layer.scale.fill_(a)
    return layer.eval()
