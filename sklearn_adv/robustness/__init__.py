"""Adversarial robustness: attacks, robust accuracy and adversarially trained classifiers."""

from sklearn_adv.robustness.training import AdversarialTrainingClassifier

__all__ = ["AdversarialTrainingClassifier"]
