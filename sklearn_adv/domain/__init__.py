"""Domain adaptation: learn from labelled source rows and unlabelled target rows.

:class:`DomainAdversarialClassifier` (DANN), label-free model-selection
scorers for :class:`~sklearn.model_selection.GridSearchCV`, a plot of
source and target features before and after adaptation, and the estimate of
the target's class proportions used under label shift.
"""

from sklearn_adv.domain.dann import DomainAdversarialClassifier
from sklearn_adv.domain.label_shift import estimate_class_weights
from sklearn_adv.domain.plotting import plot_domain_features
from sklearn_adv.domain.scorers import (
    domain_classifier_accuracy,
    importance_weighted_accuracy,
    target_entropy_score,
)

__all__ = [
    "DomainAdversarialClassifier",
    "domain_classifier_accuracy",
    "estimate_class_weights",
    "importance_weighted_accuracy",
    "plot_domain_features",
    "target_entropy_score",
]
