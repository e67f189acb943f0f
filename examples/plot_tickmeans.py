"""
=====================================================
Clustering digits that are shifted and rotated
=====================================================

k-means on raw pixels groups images by where the ink is: a digit moved by two
pixels lands in another cluster. :class:`~sklearn_adv.TICKMeans` moves and
rotates each prototype to match each sample before measuring the distance,
so its clusters follow the shapes.

The data are the 1797 scikit-learn digits, each placed on a 12x12 canvas,
rotated by up to 20 degrees and shifted by up to 2 pixels
(:func:`~sklearn_adv.datasets.make_transformed_digits`).
"""

# %%
# The data
# --------
import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from sklearn_adv import TICKMeans
from sklearn_adv.cluster import plot_prototypes
from sklearn_adv.datasets import make_transformed_digits

X, y = make_transformed_digits(random_state=0)
print(X.shape)


def accuracy(y, labels):
    """Accuracy under the best one-to-one matching of clusters to digits."""
    table = np.zeros((10, 10))
    np.add.at(table, (y, labels), 1)
    rows, cols = linear_sum_assignment(-table)
    return table[rows, cols].sum() / len(y)


# %%
# k-means and TICKMeans
# ---------------------
# The default transformations are integer shifts (up to a quarter of the
# image side) and three rotations; the discrete solver searches them all.
kmeans = KMeans(n_clusters=10, n_init=10, random_state=0).fit(X.reshape(len(X), -1))
model = TICKMeans(n_clusters=10, random_state=0).fit(X)
for name, labels in [("KMeans", kmeans.labels_), ("TICKMeans", model.labels_)]:
    print(f"{name:10s} accuracy {accuracy(y, labels):.3f}  NMI {normalized_mutual_info_score(y, labels):.3f}")

# %%
# Prototypes and alignments
# -------------------------
# The first row shows the prototypes (with the size of each cluster); below,
# a few digits, and under each the prototype of its cluster as TICKMeans
# shifted and rotated it to match.
fig = plot_prototypes(model, X, n_samples=10)
plt.show()

# %%
# k-means's centroids, for comparison: blurred by the shifts, several of
# them mixtures of digits.
fig, axes = plt.subplots(1, 10, figsize=(11, 1.4))
for ax, centre in zip(axes, kmeans.cluster_centers_):
    ax.imshow(centre.reshape(12, 12), cmap="gray_r")
    ax.set_axis_off()
fig.suptitle("KMeans centroids")
plt.show()
