"""Adversarial training and data augmentation as scikit-learn estimators."""

from sklearn_adv.augmentation import GANAugmenter, MixupTransformer
from sklearn_adv.cluster import TICKMeans
from sklearn_adv.domain import DomainAdversarialClassifier
from sklearn_adv.fairness import FairClassifier
from sklearn_adv.privacy import MembershipAuditor
from sklearn_adv.robustness import (
    AdversarialTrainingClassifier,
    PGDAttack,
    RobustnessDisplay,
    SquareAttack,
    make_robust_scorer,
    robust_accuracy_score,
)
from sklearn_adv.semi_supervised import SemiSupervisedGANClassifier
from sklearn_adv.supervised import NeuralClassifier

__version__ = "0.1.0.dev0"

__all__ = [
    "MixupTransformer",
    "GANAugmenter",
    "DomainAdversarialClassifier",
    "TICKMeans",
    "MembershipAuditor",
    "FairClassifier",
    "NeuralClassifier",
    "SemiSupervisedGANClassifier",
    "PGDAttack",
    "SquareAttack",
    "robust_accuracy_score",
    "make_robust_scorer",
    "RobustnessDisplay",
    "AdversarialTrainingClassifier",
]
