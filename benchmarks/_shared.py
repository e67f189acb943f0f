"""Helpers several benchmark scripts share: clustering accuracy, centring images, timing CTGAN's epochs.

The scripts run from this folder (``python benchmarks/bench_*.py``), which
puts it on the import path.
"""

import time

import numpy as np
from scipy import ndimage
from scipy.optimize import linear_sum_assignment


def clustering_accuracy(y, labels):
    """Accuracy under the best one-to-one matching of clusters to classes (Hungarian algorithm)."""
    table = np.zeros((y.max() + 1, max(labels.max(), y.max()) + 1))
    np.add.at(table, (y, labels), 1)
    rows, cols = linear_sum_assignment(-table)
    return table[rows, cols].sum() / len(y)


def centre_of_mass(images):
    """Each image moved (bilinear) so that its centre of mass is the image centre."""
    centre = (np.array(images.shape[1:]) - 1) / 2.0
    out = np.empty_like(images)
    for i, image in enumerate(images):
        mass = ndimage.center_of_mass(image) if image.sum() > 0 else centre
        out[i] = ndimage.shift(image, centre - np.array(mass), order=1)
    return out


class EpochClock:
    """Stands in for tqdm in CTGAN's fit loop, to time its epochs."""

    stamps = []

    def __init__(self, iterable, disable=True, **kwargs):
        self.iterable = iterable

    def __iter__(self):
        for item in self.iterable:
            EpochClock.stamps.append(time.perf_counter())
            yield item
        EpochClock.stamps.append(time.perf_counter())

    def set_description(self, *args, **kwargs):
        pass
