"""The torch engine every estimator shares.

Public so that users can plug in their own parts and build their own
estimators: the base of the network estimators (:class:`NetworkEstimator`,
:class:`NetworkClassifierMixin`) and of their skorch nets (:class:`BaseNet`), networks
(:func:`build_network`, :class:`MLP`, :class:`ConvNet`), the gradient-reversal
layer, the adversarial skorch net, callbacks (schedules, mixup) and the
tabular encoder (re-exported from :mod:`sklearn_adv.preprocessing`).
"""

from sklearn_adv.nn.adversarial import AdversarialNet, EncoderHead
from sklearn_adv.nn.base import NetworkClassifierMixin, NetworkEstimator
from sklearn_adv.nn.callbacks import AnnealLR, DivergenceGuard, Mixup, TrainingProgress, ganin_schedule
from sklearn_adv.nn.layers import GaussianNoise, GradientReversal, WeightNormLinear, reverse_gradient
from sklearn_adv.nn.net import BaseNet
from sklearn_adv.nn.networks import MLP, ConvNet, build_network, default_network
from sklearn_adv.nn.utils import resolve_device, seed_from, to_float32, torch_seed

# The encoder is torch-free and lives in preprocessing; the engine keeps the name for compatibility.
from sklearn_adv.preprocessing import TabularEncoder  # noqa: F401  (its former home; documented in preprocessing)

__all__ = [
    "AdversarialNet",
    "AnnealLR",
    "BaseNet",
    "ConvNet",
    "DivergenceGuard",
    "EncoderHead",
    "GaussianNoise",
    "GradientReversal",
    "MLP",
    "Mixup",
    "NetworkClassifierMixin",
    "NetworkEstimator",
    "TrainingProgress",
    "WeightNormLinear",
    "build_network",
    "default_network",
    "ganin_schedule",
    "resolve_device",
    "reverse_gradient",
    "seed_from",
    "to_float32",
    "torch_seed",
]
