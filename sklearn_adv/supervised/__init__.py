"""Supervised network estimators: the plain networks the adversarial estimators are compared with and built on."""

from sklearn_adv.supervised.neural import NeuralClassifier

__all__ = ["NeuralClassifier"]
