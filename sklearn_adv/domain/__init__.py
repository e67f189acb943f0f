"""Domain adaptation: learn from labelled source rows and unlabelled target rows.

:class:`DomainAdversarialClassifier` (DANN), label-free model-selection
scorers for :class:`~sklearn.model_selection.GridSearchCV`, a plot of
source and target features before and after adaptation, and the estimate of
the target's class proportions used under label shift.
"""

from sklearn_adv.domain.dann import DomainAdversarialClassifier
from sklearn_adv.domain.label_shift import class_shift, estimate_class_weights
from sklearn_adv.domain.plotting import plot_domain_features
from sklearn_adv.domain.scorers import (
    domain_classifier_accuracy,
    domain_classifier_accuracy_scorer,
    importance_weighted_accuracy,
    importance_weighted_accuracy_scorer,
    labelled_accuracy_scorer,
    target_entropy_score,
    target_entropy_scorer,
)

__all__ = [
    "DomainAdversarialClassifier",
    "domain_classifier_accuracy",
    "domain_classifier_accuracy_scorer",
    "estimate_class_weights",
    "class_shift",
    "importance_weighted_accuracy",
    "importance_weighted_accuracy_scorer",
    "labelled_accuracy_scorer",
    "plot_domain_features",
    "target_entropy_score",
    "target_entropy_scorer",
]
