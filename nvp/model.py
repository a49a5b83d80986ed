"""The multi-scale Real NVP model (paper §3.6, Figure 4(b)).

Per scale: 3 checkerboard couplings, squeeze, 3 channel-wise couplings, unsqueeze; then half of
the dimensions are factored out (they go straight to ``z``) and the other half goes on to the next
scale at half the resolution, twice the channels and twice the s/t width. The last scale has
4 checkerboard couplings. As in chrischute/real-nvp, ``z`` has the shape of ``x``: factored-out
parts are put back in place, so ``z`` is simply the image-shaped latent.

The seed builds this recursively (each scale holds the next one); :class:`RealNVP` runs the same
computation as a loop over scales, which is easier to read and to trace.

With ``num_classes = K > 0`` the model is class-conditional, ``p(x | y)`` (:mod:`nvp.conditional`):
the label reaches every s/t network as one-hot planes, and/or sets the prior's mean and scale.
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import check_finite, check_noise, check_shape, check_tensor, check_unit_interval
from .conditional import CONDITIONINGS, ClassPrior, Conditioning, check_labels, label_planes
from .coupling import CHANNEL_WISE, CHECKERBOARD, AffineCoupling
from .flows import Flow, FlowSequence
from .mode import eval_mode
from .preprocess import Logit
from .resnet import ResNet
from .squeeze import squeeze, squeeze_alt, unsqueeze, unsqueeze_alt
from .vardeq import Dequantization, make_dequantizer


class Scale(Flow):
    """The couplings of one scale on ``(B, C, H, W)``; the output has the input's shape.

    Not last: 3 checkerboard couplings, then squeeze → 3 channel-wise couplings (at twice the
    s/t width) → unsqueeze. Last: 4 checkerboard couplings. Masks alternate within each group.
    ``context_channels``: the one-hot label planes every s/t network also sees (0: unconditional).
    """

    def __init__(self, in_channels: int, mid_channels: int, num_blocks: int, last: bool,
                 context_channels: int = 0, bounded: bool = True) -> None:
        super().__init__()
        n_checker = 4 if last else 3
        self.in_couplings = FlowSequence(*[
            AffineCoupling(in_channels, mid_channels, num_blocks, CHECKERBOARD, i % 2 == 1,
                           context_channels, bounded)
            for i in range(n_checker)
        ])
        self.out_couplings = None if last else FlowSequence(*[
            AffineCoupling(4 * in_channels, 2 * mid_channels, num_blocks, CHANNEL_WISE, i % 2 == 1,
                           context_channels, bounded)
            for i in range(3)
        ])

    def forward(
        self, x: torch.Tensor, sldj: torch.Tensor, reverse: bool = False,
        context: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not reverse:
            x, sldj = self.in_couplings(x, sldj, context=context)
        if self.out_couplings is not None:
            x = squeeze(x)  # (B, 4C, H/2, W/2)
            x, sldj = self.out_couplings(x, sldj, reverse, context=context)
            x = unsqueeze(x)  # (B, C, H, W)
        if reverse:
            x, sldj = self.in_couplings(x, sldj, reverse=True, context=context)
        return x, sldj


class RealNVP(nn.Module):
    """Real NVP for images: ``x ∈ [0, 1]^(C×H×W)  ↔  z ~ N(0, I)`` of the same shape.

    ``z, sldj = model(x)``: dequantize, logit, then the multi-scale flow. ``sldj`` is
    ``log|det ∂z/∂x̃|`` of everything after dequantization, so ``log p(x̃) = log N(z; 0, I) + sldj``;
    with ``dequantization="variational"`` it also carries ``−log q(u | x)`` of the learned noise
    (:mod:`nvp.vardeq`), so that ``nvp.bits_per_dim(z, sldj)`` is the bound either way.

    ``x, _ = model(z, reverse=True)`` inverts it and returns images in ``[0, 1]``.

    Args:
        in_channels: image channels (1 for MNIST, 3 for CIFAR-10).
        num_scales: scales; height and width must be multiples of ``2**(num_scales - 1)``.
        mid_channels: width of the s/t ResNets at the first scale (doubles per scale).
        num_blocks: residual blocks per s/t ResNet.
        data_constraint: β of the logit pre-processing (paper §4.1).
        image_size: ``(H, W)`` that :meth:`sample` draws by default (optional).
        channels_last: run the s/t networks on NHWC-stored activations (faster; same values).
        dequantization: ``"uniform"`` (the paper's) or ``"variational"`` (Flow++, learned).
        num_classes: ``K > 0`` makes the model class-conditional, ``model(x, y=labels)``
            (:mod:`nvp.conditional`); 0 (the default) is plain Real NVP.
        conditioning: how the label enters (with ``num_classes > 0``): ``"st"`` (one-hot planes
            into every s/t network), ``"prior"`` (a per-class Gaussian prior; needs
            ``image_size``) or ``"both"``.
        bounded_scale: the couplings' ``s = scale · tanh(s_raw)`` (True) or ``s = s_raw``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_scales: int = 2,
        mid_channels: int = 64,
        num_blocks: int = 8,
        data_constraint: float = 0.9,
        image_size: tuple[int, int] | None = None,
        channels_last: bool = True,
        dequantization: Dequantization = "uniform",
        num_classes: int = 0,
        conditioning: Conditioning = "prior",
        bounded_scale: bool = True,
    ) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("num_scales", num_scales),
                        ("mid_channels", mid_channels), ("num_blocks", num_blocks)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
            raise ValueError(f"num_classes must be an integer >= 0, got {num_classes!r}")
        if conditioning not in CONDITIONINGS:
            raise ValueError(f"conditioning must be one of {CONDITIONINGS}, got {conditioning!r}")
        if num_classes and conditioning != "st" and image_size is None:
            raise ValueError("a class prior (conditioning='prior' or 'both') needs "
                             "image_size=(H, W)")
        self.in_channels = in_channels
        self.num_scales = num_scales
        self.image_size = None if image_size is None else (int(image_size[0]), int(image_size[1]))
        self.factor = 2 ** (num_scales - 1)  # H and W must be multiples of this
        self.dequantization = dequantization
        self.dequantizer = make_dequantizer(dequantization, in_channels)
        self.logit = Logit(data_constraint)
        self.num_classes = num_classes
        self.conditioning = conditioning
        st_labels = num_classes if conditioning in ("st", "both") else 0
        self.scales = nn.ModuleList(
            Scale(in_channels * 2**i, mid_channels * 2**i, num_blocks,
                  last=i == num_scales - 1, context_channels=st_labels,
                  bounded=bounded_scale)
            for i in range(num_scales)
        )
        self.prior = None  # a per-class N(μ_y, σ_y²) as a last flow, or the standard normal
        if num_classes and conditioning in ("prior", "both"):
            self.prior = ClassPrior(num_classes, (in_channels, *self.image_size))
        for m in self.modules():
            if isinstance(m, ResNet):
                m.set_channels_last(channels_last)
        if self.image_size is not None:
            check_shape(torch.empty(1, in_channels, *self.image_size), in_channels, self.factor,
                        "image_size")

    def flow(
        self, x: torch.Tensor, sldj: torch.Tensor, reverse: bool = False,
        y: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The multi-scale flow on logits ``(B, C, H, W) <-> z (B, C, H, W)``,
        no checks; ``y``: the labels of a class-conditional model."""
        context = None
        if y is not None and self.conditioning in ("st", "both"):
            context = label_planes(y, self.num_classes, x.dtype)  # (B, K, 1, 1)
        if reverse and self.prior is not None:
            x, sldj = self.prior(x, sldj, reverse=True, y=y)
        if not reverse:
            factored = []
            for scale in self.scales[:-1]:
                x, sldj = scale(x, sldj, context=context)
                x = squeeze_alt(x)  # (B, 4C, H/2, W/2)
                # keep (B, 2C, H/2, W/2); factor out the rest
                x, x_out = x.chunk(2, dim=1)
                factored.append(x_out)
            x, sldj = self.scales[-1](x, sldj, context=context)
            for x_out in reversed(factored):
                # put the factored half back
                x = unsqueeze_alt(torch.cat((x, x_out), dim=1))
            if self.prior is not None:
                x, sldj = self.prior(x, sldj, y=y)
            return x, sldj
        factored = []
        # split z exactly as the forward pass assembled it
        for _ in self.scales[:-1]:
            x, x_out = squeeze_alt(x).chunk(2, dim=1)  # (B, 2C, H/2, W/2) each
            factored.append(x_out)
        x, sldj = self.scales[-1](x, sldj, reverse=True, context=context)
        for scale, x_out in zip(reversed(self.scales[:-1]), reversed(factored),
                                strict=True):
            x = unsqueeze_alt(torch.cat((x, x_out), dim=1))  # (B, C, H, W)
            x, sldj = scale(x, sldj, reverse=True, context=context)
        return x, sldj

    def forward(
        self, x: torch.Tensor, reverse: bool = False, dequantize: bool = True,
        validate: bool = True, noise: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x -> (z, sldj)``, or ``z -> (x, sldj)`` with ``reverse=True`` (x clamped to [0, 1]).

        ``dequantize``: fill each 8-bit bin with noise first (``x̃ = (255·x + u)/256``, uniform
        or learned: :mod:`nvp.vardeq`); ``noise`` is the uniform draw ``u₀ ∈ [0, 1)``, shape of
        ``x`` (drawn here if None). ``dequantize=False`` takes ``x`` as ``x̃`` itself.

        ``validate=False`` skips the value checks (range, NaN), the one host–device sync of a
        call: for a trainer feeding data it has already checked once. Type and shape are always
        checked (they cost no sync).

        ``y``: the labels ``(B,)`` of a class-conditional model (``num_classes > 0``), required
        there and refused elsewhere; ``z`` is then the code under each image's own label.
        """
        name = "z" if reverse else "x"
        check_tensor(x, name)
        check_shape(x, self.in_channels, self.factor, name)
        if y is not None or self.num_classes:
            if y is None:
                raise ValueError(f"this model is class-conditional ({self.num_classes} classes): "
                                 "pass the labels, model(x, y=labels)")
            check_labels(y, x.shape[0], self.num_classes, validate)
            if self.prior is not None and tuple(x.shape[-2:]) != self.image_size:
                raise ValueError(f"{name} is {x.shape[-2]}×{x.shape[-1]}, but this model's class "
                                 f"prior is for {self.image_size[0]}×{self.image_size[1]} images")
        sldj = x.new_zeros(x.shape[0])
        if reverse:
            if validate:
                check_finite(x, name)
            logits, sldj = self.flow(x, sldj, reverse=True, y=y)
            x, sldj = self.logit(logits, sldj, reverse=True)
            return x.clamp(0.0, 1.0), sldj
        if validate:
            check_unit_interval(x, name)
            if dequantize and noise is not None:
                check_noise(noise, x)
        if dequantize:
            if noise is None:
                noise = torch.rand(x.shape, dtype=x.dtype, device=x.device)
            x, log_q = self.dequantizer(x, noise)  # x̃ (B, C, H, W), log q(u | x) (B,)
            sldj = sldj - log_q  # 0 for uniform noise
        logits, sldj = self.logit(x, sldj)
        return self.flow(logits, sldj, y=y)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        temperature: float = 1.0,
        image_size: tuple[int, int] | None = None,
        generator: torch.Generator | None = None,
        y: int | torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Draw ``n`` images in ``[0, 1]``: ``z ~ N(0, T²·I)``, then the inverse
        flow (eval mode).

        ``temperature`` T < 1 trades diversity for quality
        (Kingma & Dhariwal 2018). ``y`` (class-conditional models): one
        label for all ``n`` images, or ``n`` labels.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        if (isinstance(temperature, bool)
                or not isinstance(temperature, (int, float))
                or not temperature > 0 or temperature == float("inf")):
            raise ValueError("temperature must be a positive finite number, "
                             f"got {temperature!r}")
        size = image_size if image_size is not None else self.image_size
        if size is None:
            raise ValueError("pass image_size=(H, W), or build the model with "
                             "image_size=(H, W)")
        param = next(self.parameters())
        shape = (n, self.in_channels, int(size[0]), int(size[1]))
        check_shape(torch.empty(shape, device="meta"), self.in_channels,
                    self.factor, "image_size")
        if isinstance(y, int) and not isinstance(y, bool):
            y = torch.full((n,), y, dtype=torch.long)
        if y is not None:
            check_labels(y, n, self.num_classes)
            y = y.to(param.device)
        z = torch.randn(shape, generator=generator, dtype=param.dtype,
                        device=param.device) * temperature
        with eval_mode(self):
            x, _ = self(z, reverse=True, y=y)
        return x

