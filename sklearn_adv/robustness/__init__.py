"""Adversarial robustness: attacks that craft adversarial examples, robust accuracy as a scorer, adversarial training.

The attacks are registered in :mod:`sklearn_adv.plugins` under the kind
``"evasion_attack"``. :func:`torch_forward` gives the gradient attacks
their access to a model; register a builder for another model type with
``torch_forward.register(MyModel)``.
"""

from sklearn_adv.robustness._gradients import NotDifferentiableError, torch_forward
from sklearn_adv.robustness.attacks import PGDAttack, SquareAttack, fgsm
from sklearn_adv.robustness.plotting import RobustnessDisplay
from sklearn_adv.robustness.scoring import make_robust_scorer, robust_accuracy_score
from sklearn_adv.robustness.training import AdversarialTrainingClassifier

__all__ = [
    "PGDAttack",
    "SquareAttack",
    "fgsm",
    "robust_accuracy_score",
    "make_robust_scorer",
    "RobustnessDisplay",
    "AdversarialTrainingClassifier",
    "torch_forward",
    "NotDifferentiableError",
]
