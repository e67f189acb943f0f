"""Fairness report and model-selection scorers, built on fairlearn's metrics.

fairlearn's :class:`~fairlearn.metrics.MetricFrame` and its
``demographic_parity_*``, ``equalized_odds_*`` and ``equal_opportunity_*``
functions are the field's shared vocabulary; this module arranges them into
one report and into scorers that ``GridSearchCV`` can use. The scorers read
the sensitive features through scikit-learn's metadata routing.
"""

from functools import partial
from numbers import Real

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn import config_context
from sklearn.metrics import accuracy_score, make_scorer
from sklearn.utils import Bunch

# validate_params and its constraint types have no public import path.
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

# _check_sample_weight has no public equivalent.
from sklearn.utils.validation import _check_sample_weight

__all__ = ["FAIRNESS_METRICS", "fairness_report", "make_fairness_scorer", "make_tradeoff_scorer"]

#: The fairness summaries by name: fairlearn's function, and whether greater is fairer.
FAIRNESS_METRICS = {
    "demographic_parity_difference": (demographic_parity_difference, False),
    "demographic_parity_ratio": (demographic_parity_ratio, True),
    "equalized_odds_difference": (equalized_odds_difference, False),
    "equalized_odds_ratio": (equalized_odds_ratio, True),
    "equal_opportunity_difference": (equal_opportunity_difference, False),
    "equal_opportunity_ratio": (equal_opportunity_ratio, True),
}


def _binarize(y_true, y_pred, pos_label):
    """0/1 versions of binary labels, 1 for ``pos_label``, as fairlearn's rates expect."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and y_pred have different lengths: {len(y_true)} and {len(y_pred)}.")
    labels = np.unique(np.concatenate([y_true.ravel(), y_pred.ravel()]))
    if len(labels) > 2:
        raise ValueError(f"Fairness rates need binary labels; y_true and y_pred hold {len(labels)}: {labels.tolist()}.")
    if pos_label is None:
        if not set(labels.tolist()) <= {0, 1, -1}:  # True and False are 1 and 0 in a set
            raise ValueError(f"Pass pos_label= for labels {labels.tolist()}; it defaults to 1 for 0/1, -1/1 or boolean labels.")
        pos_label = 1
    return (y_true == pos_label).astype(int), (y_pred == pos_label).astype(int)


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "sensitive_features": ["array-like"],
        "pos_label": [None, "boolean", str, Real],
        "sample_weight": [None, "array-like"],
    },
    prefer_skip_nested_validation=True,
)
def fairness_report(y_true, y_pred, *, sensitive_features, pos_label=None, sample_weight=None):
    """Per-group rates and the disparities between groups, for a binary classifier.

    Built on :class:`fairlearn.metrics.MetricFrame`: for each group of the
    sensitive feature(s) (their intersections, when there are several), the
    number of rows, selection rate, true and false positive rates and
    accuracy; then the largest difference and the smallest ratio between
    groups, and fairlearn's demographic parity, equalized odds and equal
    opportunity summaries.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    sensitive_features : array-like, Series or DataFrame of shape (n_samples,) or (n_samples, n_attributes)
        The protected attribute(s).
    pos_label : int, bool or str, default=None
        The favourable label; ``None`` means 1 (for 0/1, -1/1 or boolean labels).
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights for every rate and summary; ``count`` stays the number
        of rows.

    Returns
    -------
    report : :class:`~sklearn.utils.Bunch`
        Printed, an aligned table: the summaries, then the rates overall,
        per group, and their difference and ratio. Its keys:

        by_group : DataFrame
            One row per group: ``count``, ``selection_rate``,
            ``true_positive_rate``, ``false_positive_rate``, ``accuracy``.
        overall : Series
            The same rates on all rows.
        difference, ratio : Series
            Largest difference and smallest ratio of each rate between groups.
        summary : Series
            ``demographic_parity_difference``, ``demographic_parity_ratio``,
            ``equalized_odds_difference``, ``equalized_odds_ratio``,
            ``equal_opportunity_difference``, ``equal_opportunity_ratio``.
        metric_frame : fairlearn.metrics.MetricFrame
            For further analysis and plots.

    Examples
    --------
    >>> from sklearn_adv.fairness import fairness_report
    >>> report = fairness_report([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=["a", "a", "b", "b"])
    >>> report.by_group["selection_rate"].tolist()
    [0.5, 0.0]
    >>> float(report.summary["demographic_parity_difference"])
    0.5
    >>> print(report)
    summary                        value
    demographic_parity_difference  0.500
    demographic_parity_ratio       0.000
    equalized_odds_difference      1.000
    equalized_odds_ratio           0.000
    equal_opportunity_difference   1.000
    equal_opportunity_ratio        0.000
    <BLANKLINE>
    sensitive_feature_0  count  selection_rate  true_positive_rate  false_positive_rate  accuracy
    overall                  4           0.250               0.500                0.000     0.750
    a                        2           0.500               1.000                0.000     1.000
    b                        2           0.000               0.000                0.000     0.500
    difference                           0.500               1.000                0.000     0.500
    ratio                                0.000               0.000                          0.500
    """
    y_true, y_pred = _binarize(y_true, y_pred, pos_label)
    weighted = _weight_params(sample_weight, len(y_true))
    rate_metrics = {
        "selection_rate": selection_rate,
        "true_positive_rate": partial(true_positive_rate, pos_label=1),
        "false_positive_rate": partial(false_positive_rate, pos_label=1),
        "accuracy": accuracy_score,
    }
    frame = MetricFrame(
        metrics={"count": count, **rate_metrics},
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sensitive_features,
        sample_params={name: weighted for name in rate_metrics} if weighted else None,
    )
    rates = list(rate_metrics)
    summary = pd.Series(
        {
            name: func(y_true, y_pred, sensitive_features=sensitive_features, **weighted)
            for name, (func, _) in FAIRNESS_METRICS.items()
        }
    )
    return _FairnessReport(
        by_group=frame.by_group,
        overall=frame.overall,
        difference=frame.difference()[rates],
        ratio=frame.ratio()[rates],
        summary=summary,
        metric_frame=frame,
    )


class _FairnessReport(Bunch):
    """The result of :func:`fairness_report`: a Bunch that prints as a table.

    The summaries first, then the rates: overall, one row per group, and
    their difference and ratio between groups.
    """

    def __repr__(self):
        if not {"summary", "overall", "by_group", "difference", "ratio"} <= self.keys():
            return super().__repr__()  # a report edited into something else
        summary = _aligned_table(["summary", "value"], list(self.summary.items()), [".3f"])
        columns = list(self.by_group.columns)
        rows = [
            ("overall", self.overall),
            *((_as_text(group), row) for group, row in self.by_group.iterrows()),
            ("difference", self.difference),
            ("ratio", self.ratio),
        ]
        rates = _aligned_table(
            [_as_text(self.by_group.index.names), *columns],
            [(label, *(row.get(column) for column in columns)) for label, row in rows],
            [".0f" if column == "count" else ".3f" for column in columns],
        )
        return f"{summary}\n\n{rates}"

    __str__ = __repr__


def _as_text(values):
    """A group, or the names of the sensitive features, as text: intersections joined by commas."""
    if isinstance(values, (tuple, list)):
        return ", ".join(map(str, values))
    return str(values)


def _aligned_table(header, rows, formats):
    """A text table: the first column left-aligned, the others right-aligned, each value by its column's format."""
    cells = [list(map(str, header))]
    for label, *values in rows:
        cells.append([label, *("" if pd.isna(v) else format(v, f) for v, f in zip(values, formats))])
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ("  ".join([row[0].ljust(widths[0]), *map(str.rjust, row[1:], widths[1:])]) for row in cells)
    return "\n".join(line.rstrip() for line in lines)


def _weight_params(sample_weight, n_rows):
    """``{"sample_weight": weights}`` for fairlearn's metrics, or ``{}`` for unweighted rows."""
    if sample_weight is None:
        return {}
    return {"sample_weight": _check_sample_weight(sample_weight, np.empty((n_rows, 0)), ensure_non_negative=True)}


def _fairness_score(y_true, y_pred, *, sensitive_features=None, sample_weight=None, metric, pos_label):
    if sensitive_features is None:
        raise ValueError(
            "This fairness scorer needs sensitive_features: enable metadata routing "
            "(sklearn.set_config(enable_metadata_routing=True)) and pass sensitive_features= "
            "to the search's or cross-validation's fit."
        )
    y_true, y_pred = _binarize(y_true, y_pred, pos_label)
    weighted = _weight_params(sample_weight, len(y_true))
    return FAIRNESS_METRICS[metric][0](y_true, y_pred, sensitive_features=sensitive_features, **weighted)


def _tradeoff_score(y_true, y_pred, *, sensitive_features=None, sample_weight=None, metric, pos_label, base_score, penalty):
    disparity = _fairness_score(
        y_true, y_pred, sensitive_features=sensitive_features, sample_weight=sample_weight, metric=metric, pos_label=pos_label
    )
    if FAIRNESS_METRICS[metric][1]:
        disparity = 1.0 - disparity  # a ratio of 1 is perfect parity
    # score_func need not take weights when none are given.
    weighted = {} if sample_weight is None else {"sample_weight": sample_weight}
    return base_score(y_true, y_pred, **weighted) - penalty * disparity


def _requesting_sensitive_features(scorer):
    # Setting a request needs routing switched on; the request then stays with the scorer.
    with config_context(enable_metadata_routing=True):
        return scorer.set_score_request(sensitive_features=True)


@validate_params(
    {"metric": [StrOptions(set(FAIRNESS_METRICS))], "pos_label": [None, "boolean", str, Real]},
    prefer_skip_nested_validation=True,
)
def make_fairness_scorer(metric="demographic_parity_difference", *, pos_label=None):
    """A scorer of a fairness metric, reading the sensitive features through metadata routing.

    Differences are negated (greater is better, as scikit-learn's scorers),
    ratios are returned as they are. The scorer requests
    ``sensitive_features``: with ``sklearn.set_config(enable_metadata_routing=True)``,
    ``GridSearchCV(..., scoring=...).fit(X, y, sensitive_features=s)`` passes
    each split's sensitive features to it. For weighted rows, also request
    the weights: ``scorer.set_score_request(sample_weight=True)``.

    Parameters
    ----------
    metric : str, default="demographic_parity_difference"
        One of :data:`FAIRNESS_METRICS`.
    pos_label : int, bool or str, default=None
        The favourable label; ``None`` means 1.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, sensitive_features=..., sample_weight=None)``.

    Examples
    --------
    >>> import numpy as np, sklearn
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn_adv.fairness import make_fairness_scorer
    >>> X, y, s = np.zeros((4, 1)), np.array([1, 0, 1, 0]), np.array([0, 0, 1, 1])
    >>> scorer = make_fairness_scorer("demographic_parity_difference")
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     print(scorer(DummyClassifier().fit(X, y), X, y, sensitive_features=s))
    -0.0
    """
    greater_is_better = FAIRNESS_METRICS[metric][1]
    scorer = make_scorer(_fairness_score, greater_is_better=greater_is_better, metric=metric, pos_label=pos_label)
    return _requesting_sensitive_features(scorer)


@validate_params(
    {
        "metric": [StrOptions(set(FAIRNESS_METRICS))],
        "penalty": [Interval(Real, 0, None, closed="left")],
        "score_func": [callable],
        "pos_label": [None, "boolean", str, Real],
    },
    prefer_skip_nested_validation=True,
)
def make_tradeoff_scorer(metric="demographic_parity_difference", *, penalty=1.0, score_func=accuracy_score, pos_label=None):
    """A scorer of ``score - penalty * disparity``, to pick a model on accuracy and fairness at once.

    ``disparity`` is the fairness ``metric`` (for a ratio, ``1 - ratio``). With
    ``penalty=1`` and accuracy, a point of accuracy is worth a point of
    demographic parity difference. Reads the sensitive features through
    metadata routing, as :func:`make_fairness_scorer`.

    Parameters
    ----------
    metric : str, default="demographic_parity_difference"
        One of :data:`FAIRNESS_METRICS`.
    penalty : float, default=1.0
        Price of one unit of disparity in units of ``score_func``.
    score_func : callable, default=sklearn.metrics.accuracy_score
        ``score_func(y_true, y_pred)``, greater is better.
    pos_label : int, bool or str, default=None
        As for :func:`make_fairness_scorer`.

    Returns
    -------
    scorer : callable
        Called as :func:`make_fairness_scorer`'s scorer is.

    Examples
    --------
    A classifier that predicts the group itself is accurate here and as
    unfair as can be: a demographic parity difference of 1.

    >>> import numpy as np, sklearn
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from sklearn_adv.fairness import make_tradeoff_scorer
    >>> s = np.array([0, 0, 1, 1])
    >>> y = 1 - s
    >>> model = DecisionTreeClassifier().fit(s.reshape(-1, 1), y)
    >>> scorer = make_tradeoff_scorer(penalty=0.25)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     print(scorer(model, s.reshape(-1, 1), y, sensitive_features=s))
    0.75
    """
    scorer = make_scorer(
        _tradeoff_score, metric=metric, pos_label=pos_label, base_score=score_func, penalty=penalty
    )
    return _requesting_sensitive_features(scorer)
