"""How close synthetic rows sit to real ones: metrics shared by the quality report and the auditor.

:mod:`sklearn_adv.augmentation.quality` judges a generator's output and
:mod:`sklearn_adv.privacy.attacks` attacks a generator with the same two
measures: the distance from a row to its closest record, and a classifier
trained to tell real rows from synthetic ones. The families do not import
each other, so the measures live here, in a leaf module of the package that
imports neither torch nor any family; both read encoded rows (numbers, as
their encoders give them).
"""

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.neighbors import NearestNeighbors

__all__ = ["distance_to_closest_record", "real_vs_synthetic", "synthetic_detector"]


def distance_to_closest_record(E_reference, E_query, exclude_self=False):
    """Euclidean distance from each row of ``E_query`` to its nearest row of ``E_reference`` (encoded rows).

    Parameters
    ----------
    E_reference : ndarray of shape (n_reference, n_features)
    E_query : ndarray of shape (n_query, n_features)
    exclude_self : bool, default=False
        When ``E_query`` is ``E_reference``: skip each row's distance to itself
        and give the distance to its nearest other row.

    Returns
    -------
    distances : ndarray of shape (n_query,)

    Examples
    --------
    >>> import numpy as np
    >>> distance_to_closest_record(np.array([[0.0], [3.0]]), np.array([[1.0]]))
    array([1.])
    """
    k = 2 if exclude_self else 1
    distances, _ = NearestNeighbors(n_neighbors=k).fit(E_reference).kneighbors(E_query)
    return distances[:, -1]


def real_vs_synthetic(E_real, E_synthetic):
    """The training set of a detector: real rows labelled 0, then synthetic rows labelled 1.

    Parameters
    ----------
    E_real : ndarray of shape (n_real, n_features)
    E_synthetic : ndarray of shape (n_synthetic, n_features)

    Returns
    -------
    X : ndarray of shape (n_real + n_synthetic, n_features)
    y : ndarray of shape (n_real + n_synthetic,)
        0.0 for real rows, 1.0 for synthetic ones.
    """
    X = np.vstack([E_real, E_synthetic])
    y = np.r_[np.zeros(len(E_real)), np.ones(len(E_synthetic))]
    return X, y


def synthetic_detector(detector=None, random_state=0):
    """An unfitted classifier to tell real from synthetic rows.

    Parameters
    ----------
    detector : classifier or None, default=None
        Cloned when given; None is a ``HistGradientBoostingClassifier``, which
        needs no scaling and picks up interactions a linear model misses.
    random_state : int, default=0
        The default detector's seed.

    Returns
    -------
    detector : classifier
    """
    if detector is not None:
        return clone(detector)
    return HistGradientBoostingClassifier(random_state=random_state)
