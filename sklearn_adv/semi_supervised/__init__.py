"""Learning from few labels: classifiers that also learn from unlabelled rows (``y == -1``)."""

from sklearn_adv.semi_supervised._ssgan import SemiSupervisedGANClassifier

__all__ = ["SemiSupervisedGANClassifier"]
