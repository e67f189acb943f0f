"""Reference models: clones of the target trained on halves of the population.

The auditor trains them before an attack's ``fit`` (shadow models, offline
LiRA, RMIA); online LiRA trains more of them at scoring time.
"""

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone

# _safe_indexing is private by name but listed in scikit-learn's API reference as a public utility.
from sklearn.utils import _safe_indexing, check_random_state


def paired_half_masks(y, n_models, random_state):
    """``n_models`` boolean masks, each selecting half of every class.

    Masks come in complementary pairs, so every record is a training record of
    exactly half of the models (when ``n_models`` is even): the setting of the
    offline LiRA and RMIA papers.
    """
    rng = check_random_state(random_state)
    y = np.asarray(y)
    masks = np.zeros((n_models, len(y)), dtype=bool)
    for k in range(0, n_models, 2):
        for label in np.unique(y):
            rows = rng.permutation(np.flatnonzero(y == label))
            half = (len(rows) + rng.randint(2)) // 2
            masks[k, rows[:half]] = True
        if k + 1 < n_models:
            masks[k + 1] = ~masks[k]
    return masks


def fit_reference_models(template, X, y, masks, *, n_jobs=None, verbose=0, random_state=None):
    """Fit one clone of ``template`` per row of the boolean ``masks``, in parallel.

    Each clone trains on the records of ``(X, y)`` selected by its mask. Every
    ``random_state`` parameter of a clone (nested ones included) gets its own
    seed drawn from ``random_state``, so the models differ in their data and
    their randomness. Training fans out through joblib with ``n_jobs``.
    """
    rng = check_random_state(random_state)
    estimators = []
    for _ in masks:
        estimator = clone(template)
        seeds = {
            name: int(rng.randint(np.iinfo(np.int32).max))
            for name in estimator.get_params(deep=True)
            if name == "random_state" or name.endswith("__random_state")
        }
        estimators.append(estimator.set_params(**seeds))
    return Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_fit_one)(estimator, X, y, np.flatnonzero(mask)) for estimator, mask in zip(estimators, masks)
    )


def _fit_one(estimator, X, y, rows):
    return estimator.fit(_safe_indexing(X, rows), _safe_indexing(y, rows))
