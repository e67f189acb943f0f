"""Adversarially fair classification and representations, fairness reports and scorers."""

from sklearn_adv.fairness.adversarial import FairClassifier
from sklearn_adv.fairness.metrics import (
    FAIRNESS_METRICS,
    fairness_report,
    make_fairness_scorer,
    make_tradeoff_scorer,
)
from sklearn_adv.fairness.plotting import FairnessTradeoffDisplay

__all__ = [
    "FAIRNESS_METRICS",
    "FairClassifier",
    "FairnessTradeoffDisplay",
    "fairness_report",
    "make_fairness_scorer",
    "make_tradeoff_scorer",
]
