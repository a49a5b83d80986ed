"""nvp: Real NVP (Dinh, Sohl-Dickstein & Bengio, 2016), small, correct and fast."""

from .coupling import AffineCoupling, checkerboard_mask
from .flows import Flow, FlowSequence
from .loss import bits_per_dim, gaussian_log_prob, l2_penalty, nll
from .model import RealNVP, Scale
from .preprocess import Logit, dequantize
from .squeeze import Squeeze, squeeze, squeeze_alt, unsqueeze, unsqueeze_alt

__all__ = [
    "AffineCoupling", "Flow", "FlowSequence", "Logit", "RealNVP", "Scale", "Squeeze",
    "bits_per_dim", "checkerboard_mask", "dequantize", "gaussian_log_prob", "l2_penalty", "nll",
    "squeeze", "squeeze_alt", "unsqueeze", "unsqueeze_alt",
]
__version__ = "0.1.0"
