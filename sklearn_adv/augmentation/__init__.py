"""Samplers that add synthetic rows during fit: mixup and GAN augmentation."""

from sklearn_adv.augmentation.gan import GANAugmenter
from sklearn_adv.augmentation.mixup import MixupTransformer

__all__ = ["GANAugmenter", "MixupTransformer"]
