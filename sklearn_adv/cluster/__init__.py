"""Clustering that ignores where and how an object sits in an image."""

from sklearn_adv.cluster.plotting import plot_prototypes
from sklearn_adv.cluster.tickmeans import TICKMeans

__all__ = ["TICKMeans", "plot_prototypes"]
