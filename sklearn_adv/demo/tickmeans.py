"""TICKMeans in the tour: clustering digits with and without transformation invariance.

On the 8x8 digits as shipped and on the same digits shifted and rotated on a
12x12 canvas, TICKMeans (default parameters, discrete solver) against
KMeans(n_init=10) on the pixels; clustering accuracy under the best matching
of clusters to digits, and NMI.
"""

from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score

from sklearn_adv import TICKMeans
from sklearn_adv.datasets import make_transformed_digits

BASELINE_NAME = "KMeans(n_init=10) on the pixels"


def _accuracy(y, labels):
    table = np.zeros((y.max() + 1, max(y.max(), labels.max()) + 1))
    np.add.at(table, (y, labels), 1)
    rows, cols = linear_sum_assignment(-table)
    return table[rows, cols].sum() / len(y)


def _rows(task, X, y):
    ours = TICKMeans(n_clusters=10, random_state=0).fit(X)
    baseline = KMeans(n_clusters=10, n_init=10, random_state=0).fit(X.reshape(len(X), -1))
    rows = []
    for metric, score in (("clustering accuracy", _accuracy), ("NMI", normalized_mutual_info_score)):
        rows.append(
            {
                "estimator": "TICKMeans",
                "task": task,
                "metric": metric,
                "ours": float(score(y, ours.labels_)),
                "baseline": float(score(y, baseline.labels_)),
                "baseline_name": BASELINE_NAME,
            }
        )
    return rows, ours


def run(out_dir):
    """Cluster plain and transformed digits; save the prototypes and alignments of the transformed ones.

    Parameters
    ----------
    out_dir : str or path-like
        Folder for the figure ``tickmeans_digits.png`` (created if missing).

    Returns
    -------
    rows : list of dict
        Keys ``estimator``, ``task``, ``metric``, ``ours``, ``baseline``,
        ``baseline_name``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_adv.cluster import plot_prototypes

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    digits = load_digits()
    plain, _ = _rows("digits 8x8, as shipped", digits.images, digits.target)
    X, y = make_transformed_digits(random_state=0)
    moved, model = _rows("digits shifted <= 2 px and rotated <= 20 deg on 12x12", X, y)
    fig = plot_prototypes(model, X, n_samples=10)
    fig.savefig(out_dir / "tickmeans_digits.png", dpi=100)
    plt.close(fig)
    return plain + moved
