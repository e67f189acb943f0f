"""Adversarial robustness: attacks that craft adversarial examples, and robust accuracy as a scorer.

The attacks are registered in :mod:`sklearn_adv.plugins` under the kind
``"evasion_attack"``.
"""

from sklearn_adv.robustness.attacks import PGDAttack, SquareAttack, fgsm
from sklearn_adv.robustness.plotting import RobustnessDisplay
from sklearn_adv.robustness.scoring import make_robust_scorer, robust_accuracy_score

__all__ = [
    "PGDAttack",
    "SquareAttack",
    "fgsm",
    "robust_accuracy_score",
    "make_robust_scorer",
    "RobustnessDisplay",
]
