"""nvp: Real NVP (Dinh, Sohl-Dickstein & Bengio, 2016), small, correct and fast.

    model = nvp.RealNVP(in_channels=1, num_scales=2, mid_channels=32, num_blocks=2)
    z, sldj = model(x)                 # x in [0, 1], (B, C, H, W); sldj = log|det ∂z/∂x̃|, (B,)
    x, _ = model(z, reverse=True)      # back to images in [0, 1]

The package in three tiers: the maths at the top (``flows``, ``preprocess``, ``vardeq``,
``squeeze``, ``coupling``, ``resnet``, ``conditional``, ``model``, ``loss``, ``checks``, and
``testing``, the toolkit that verifies them); ``nvp.training`` runs training; ``nvp.book`` draws
the book's figures and widgets (``pip install nvp[book]``). ``nvp.data`` loads images.
"""

from . import conditional
from .coupling import AffineCoupling, checkerboard_mask
from .flows import Flow, FlowSequence
from .loss import bits_per_dim, gaussian_log_prob, l2_penalty, nll
from .model import RealNVP, Scale
from .preprocess import Logit, dequantize
from .squeeze import Squeeze, squeeze, squeeze_alt, unsqueeze, unsqueeze_alt
from .vardeq import UniformDequantizer, VariationalDequantizer

__all__ = [
    "AffineCoupling", "Config", "Flow", "FlowSequence", "Logit", "RealNVP", "Scale", "Squeeze",
    "UniformDequantizer", "VariationalDequantizer", "bits_per_dim", "checkerboard_mask",
    "conditional",
    "dequantize", "evaluate", "gaussian_log_prob", "image_bits_per_dim", "l2_penalty",
    "load_checkpoint", "load_model", "nll", "pretrained", "pretrained_info", "save_checkpoint",
    "squeeze", "squeeze_alt", "train", "unsqueeze", "unsqueeze_alt",
]
__version__ = "0.2.0"  # = pyproject.toml; chapters install the tag v0.2.0

# The training tier (tqdm, torch.distributed, checkpoints) loads on first use, so that
# ``import nvp`` in a chapter about the maths pays for the maths only.
_TRAINING = ("Config", "evaluate", "image_bits_per_dim", "load_checkpoint", "load_model",
             "pretrained", "pretrained_info", "save_checkpoint", "train")


def __getattr__(name: str) -> object:
    if name in _TRAINING or name in ("training", "data", "book", "testing"):
        import importlib

        module = importlib.import_module(f"{__name__}.{'training' if name in _TRAINING else name}")
        return getattr(module, name) if name in _TRAINING else module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
