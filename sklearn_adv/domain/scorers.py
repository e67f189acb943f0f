"""Model selection without target labels: scorers for GridSearchCV.

Each scorer is a callable ``scorer(estimator, X, y)`` that reads the
unlabelled target rows (``y == -1``) and the labelled source rows of a
validation fold, as :class:`~sklearn.model_selection.GridSearchCV` passes
them, and returns a number where greater is better. None needs a target
label.

- :func:`target_entropy_score`: minus the mean entropy of the predicted
  class probabilities on the target rows. Confident target predictions go
  with well-aligned features; on digit shifts it picked the adversary weight
  best of the rules tried.
- :func:`importance_weighted_accuracy`: importance-weighted validation
  (Sugiyama, Krauledat & Mueller 2007): source accuracy with each source row
  weighted by an estimate of ``p_target(x) / p_source(x)``. Unbiased in
  principle, but noisy, and it tends to prefer weak adaptation.
- :func:`domain_classifier_accuracy`: how well a fresh classifier tells
  source from target on the learned features (0.5 means indistinguishable).
  A diagnostic, not a selection rule: it is not "greater is better".

scikit-learn knows scorers by name only from its own list, which has no
public way to add names, so ``scoring="target_entropy"`` cannot work. The
ready scorer objects below are what ``scoring=`` takes instead, alone or as
values of a dict of several (``refit=`` then names one of its keys):
:data:`target_entropy_scorer`, :data:`importance_weighted_accuracy_scorer`,
:data:`domain_classifier_accuracy_scorer`, and
:data:`labelled_accuracy_scorer`, the accuracy on the labelled rows, which
``scoring="accuracy"`` is not: it counts every ``-1`` row as an error, and
no hook lets an estimator see the labels a string scorer compares with.
"""

import numpy as np
from scipy.special import xlogy
from sklearn.base import clone
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

# _safe_indexing is private by name but listed in scikit-learn's API reference as a public utility.
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import column_or_1d

from sklearn_adv.domain.dann import _unlabelled_mask


def _masks(X, y, scorer):
    if y is None:
        raise ValueError(f"{scorer} needs y with -1 marking the unlabelled target rows.")
    y = column_or_1d(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}.")
    target = _unlabelled_mask(y)
    return y, target


def _rows(X):
    """DataFrames as they are; arrays as 2-D rows (images flattened)."""
    if hasattr(X, "columns"):
        return X
    X = np.asarray(X)
    return X.reshape(len(X), -1)


def _domain_classifier(X):
    """Standardised logistic regression; categorical DataFrame columns one-hot encoded first."""
    classifier = LogisticRegression(max_iter=1000)
    if hasattr(X, "columns") and len(X.select_dtypes(exclude="number").columns):
        encode = make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
            (StandardScaler(), make_column_selector(dtype_include="number")),
        )
        return make_pipeline(encode, classifier)
    return make_pipeline(StandardScaler(), classifier)


def target_entropy_score(estimator, X, y):
    """Minus the mean entropy (in nats) of ``predict_proba`` on the target rows ``y == -1``.

    Greater is better: the model is confident on the target domain. Use it as
    ``GridSearchCV(..., scoring=target_entropy_score)``. A model can be
    confidently wrong, so compare it only among models that fit the source
    labels (check ``estimator.score`` too).

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba``
    X : array-like of shape (n_samples, ...)
    y : array-like of shape (n_samples,)
        Labels, -1 for the target rows scored here.

    Returns
    -------
    score : float
        Between ``-log(n_classes)`` and 0.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [2.5]])
    >>> y = np.array([0, 0, 1, 1, -1, -1])
    >>> model = LogisticRegression().fit(X[:4], y[:4])
    >>> bool(-np.log(2) <= target_entropy_score(model, X, y) <= 0)
    True
    """
    _, target = _masks(X, y, "target_entropy_score")
    if not target.any():
        raise ValueError("target_entropy_score needs target rows (y == -1) in the validation fold.")
    proba = np.clip(estimator.predict_proba(_safe_indexing(X, np.flatnonzero(target))), 0.0, 1.0)
    return float(np.mean(np.sum(xlogy(proba, proba), axis=1)))


def importance_weighted_accuracy(estimator, X, y, *, domain_classifier=None, max_weight=20.0, cv=5, random_state=0):
    """Accuracy on the labelled rows, each weighted by its estimated density ratio target/source.

    A domain classifier (``domain_classifier``, by default a standardised
    logistic regression on the flattened inputs) learns to tell target rows
    from labelled rows with out-of-fold predictions; a labelled row's weight
    is ``p(target | x) / p(source | x)`` times ``n_source / n_target``,
    clipped at ``max_weight``. Importance-weighted validation (IWV) estimates
    target accuracy without target labels when the shift is covariate shift
    with overlapping supports; with little overlap (rotated images) its
    weights concentrate on a few rows and it tends to prefer no adaptation.

    Parameters
    ----------
    estimator : fitted classifier
    X : array-like of shape (n_samples, ...)
    y : array-like of shape (n_samples,)
        Labels, -1 for target rows.
    domain_classifier : classifier with predict_proba, default=None
    max_weight : float, default=20.0
    cv : int, default=5
        Folds of the out-of-fold domain probabilities.
    random_state : int, default=0

    Returns
    -------
    score : float
        Weighted accuracy in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.randn(40, 2), rng.randn(40, 2) + 0.5])
    >>> y = np.concatenate([(X[:40, 0] > 0).astype(int), np.full(40, -1)])
    >>> model = LogisticRegression().fit(X[:40], y[:40])
    >>> bool(0 <= importance_weighted_accuracy(model, X, y) <= 1)
    True
    """
    y, target = _masks(X, y, "importance_weighted_accuracy")
    n_target, n_source = int(target.sum()), int((~target).sum())
    if n_target < cv or n_source < cv:
        raise ValueError(f"importance_weighted_accuracy needs at least cv={cv} target and {cv} labelled rows per fold.")
    rows = _rows(X)
    if domain_classifier is None:
        domain_classifier = _domain_classifier(rows)
    folds = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    p_target = cross_val_predict(clone(domain_classifier), rows, target, cv=folds, method="predict_proba")[:, 1]
    p_target = np.clip(p_target[~target], 1e-6, 1 - 1e-6)
    weights = np.minimum(p_target / (1 - p_target) * n_source / n_target, max_weight)
    source = np.flatnonzero(~target)
    correct = np.asarray(estimator.predict(_safe_indexing(X, source))) == y[source]
    return float(np.average(correct, weights=weights))


def domain_classifier_accuracy(estimator, X, y, *, classifier=None, cv=3, random_state=0):
    """Balanced accuracy of a fresh classifier telling target rows from labelled rows on ``estimator.transform(X)``.

    A diagnostic of how well the learned features align the domains: 0.5
    means the domains look the same to the classifier, 1.0 that they are
    fully separable. On the raw inputs (an estimator without ``transform``,
    or ``estimator=None``) it measures the shift itself. Not a selection
    rule: the best-adapted models often keep some domain information.

    Parameters
    ----------
    estimator : fitted estimator with ``transform``, or None
    X : array-like of shape (n_samples, ...)
    y : array-like of shape (n_samples,)
        Labels, -1 for target rows.
    classifier : classifier, default=None
        Standardised logistic regression when None.
    cv : int, default=3
    random_state : int, default=0

    Returns
    -------
    accuracy : float
        Cross-validated balanced accuracy in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.randn(50, 2), rng.randn(50, 2) + 3])
    >>> y = np.concatenate([np.zeros(50, int), np.full(50, -1)])
    >>> domain_classifier_accuracy(None, X, y) > 0.9
    True
    """
    _, target = _masks(X, y, "domain_classifier_accuracy")
    if min(target.sum(), (~target).sum()) < cv:
        raise ValueError(f"domain_classifier_accuracy needs at least cv={cv} target and {cv} labelled rows.")
    features = _rows(estimator.transform(X) if estimator is not None and hasattr(estimator, "transform") else X)
    if classifier is None:
        classifier = _domain_classifier(features)
    folds = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    predicted = cross_val_predict(clone(classifier), features, target, cv=folds)
    return float(0.5 * (np.mean(predicted[target]) + np.mean(~predicted[~target])))


def _labelled_accuracy(estimator, X, y):
    """Accuracy of ``estimator.predict`` on the rows with ``y != -1``, as DANN's own ``score``."""
    y, target = _masks(X, y, "labelled_accuracy_scorer")
    if target.all():
        raise ValueError("labelled_accuracy_scorer needs labelled rows (y != -1) in the validation fold.")
    source = np.flatnonzero(~target)
    return float(accuracy_score(y[source], estimator.predict(_safe_indexing(X, source))))


class _SemiSupervisedScorer:
    """A scorer ``scorer(estimator, X, y)`` for ``scoring=``, over folds of labelled and ``-1`` rows.

    A named object rather than the bare function, so that it reads as a
    scorer in a ``scoring`` dict and in reprs.
    """

    def __init__(self, name, score_func, doc):
        self._name = name
        self._score_func = score_func
        self.__doc__ = doc

    def __call__(self, estimator, X, y):
        return self._score_func(estimator, X, y)

    def __repr__(self):
        return self._name


#: Scorer of :func:`target_entropy_score` for ``scoring=``; greater is better.
target_entropy_scorer = _SemiSupervisedScorer(
    "target_entropy_scorer",
    target_entropy_score,
    "Scorer of :func:`target_entropy_score` for ``scoring=``; greater is better.",
)
#: Scorer of :func:`importance_weighted_accuracy` (its defaults) for ``scoring=``.
importance_weighted_accuracy_scorer = _SemiSupervisedScorer(
    "importance_weighted_accuracy_scorer",
    importance_weighted_accuracy,
    "Scorer of :func:`importance_weighted_accuracy` (with its defaults) for ``scoring=``; greater is better.",
)
#: Scorer of :func:`domain_classifier_accuracy` for ``scoring=``: to report, not to select on.
domain_classifier_accuracy_scorer = _SemiSupervisedScorer(
    "domain_classifier_accuracy_scorer",
    domain_classifier_accuracy,
    "Scorer of :func:`domain_classifier_accuracy` for ``scoring=``: a diagnostic to report, not to select on.",
)
#: Accuracy on the rows with ``y != -1`` for ``scoring=``, as ``DomainAdversarialClassifier.score``.
labelled_accuracy_scorer = _SemiSupervisedScorer(
    "labelled_accuracy_scorer",
    _labelled_accuracy,
    "Accuracy on the labelled rows (``y != -1``) for ``scoring=``, as ``DomainAdversarialClassifier.score``:"
    " ``scoring='accuracy'`` would count the unlabelled rows as errors.",
)
