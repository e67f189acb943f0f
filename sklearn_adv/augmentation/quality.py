"""Is synthetic data new, diverse, faithful and useful? One report, and the plots behind it.

:func:`quality_report` compares synthetic rows (or images) with the training
rows they were generated from and with holdout rows the generator never saw:

memorization
    Distance to the closest training record (DCR) of every synthetic row,
    against the same distance for holdout rows: a generator that copies its
    training rows puts synthetic rows closer to them than fresh rows from
    the same population are (ratio below 1). And the fraction of synthetic
    rows that are exact copies of a training row (with the holdout's own
    fraction as reference: real data has duplicates too).
diversity
    The birthday-paradox estimate of the support size (Arora, Risteski &
    Zhang 2018): if batches of ``s`` samples contain a near-duplicate pair
    about half the time, the distribution has about ``s ** 2`` distinct
    modes; the same estimate on the training rows is the reference. The
    coverage of classes and of the categories of every categorical column.
    And how much of the real data the synthetic rows cover: Alaa et al.'s
    beta-recall (:func:`alpha_precision_beta_recall`) and the recall of the
    k-nearest-neighbour manifold (:func:`manifold_precision_recall`).
fidelity
    Per-column marginal distances (Kolmogorov-Smirnov statistic for numeric
    columns, total-variation distance for categorical ones), the mean
    absolute difference of the pairwise correlations of the encoded
    columns, the ROC AUC of a classifier trained to tell real from
    synthetic rows (0.5: indistinguishable), and how many synthetic rows
    lie where real ones do: alpha-precision and the precision of the
    k-nearest-neighbour manifold.
utility
    Train on synthetic, test on real (TSTR), and train on real plus
    synthetic, against train on real only, with the estimator you choose,
    scored on the labelled holdout.

Rows are compared after one encoding fitted on the training rows, the
:class:`~sklearn_adv.preprocessing.TabularEncoder` (``numeric="standard"``):
numeric columns (and the columns of a 2-d array) standardised, with a 0/1
missing-value indicator for every numeric column that has missing values in
any of the data sets; categorical columns one-hot encoded, a missing value a
level of its own, a category the training rows lack an all-zero block.
Images are flattened and divided by the pixels' overall standard deviation:
distances between raw pixels, not between the features of a pretrained
network (the usual choice for natural images), because the report must run
offline and on a CPU, and because on small, centred images such as digits
pixel distances already separate the classes (a nearest-neighbour
classifier is about 98% right on ``load_digits``); they do reward pixel-level
closeness over likeness of content, so that a shifted copy of a digit counts
as far. The memorization metrics always compare with every training row; the
other distance-based metrics work on subsamples (``max_rows``).
"""

from numbers import Integral

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp
from sklearn.base import clone, is_classifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, f1_score, pairwise_distances_chunked, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import NearestNeighbors

# _safe_indexing is private by name but listed in scikit-learn's API reference as a public utility.
from sklearn.utils import _safe_indexing

from sklearn_adv.metrics import distance_to_closest_record, real_vs_synthetic, synthetic_detector
from sklearn_adv.preprocessing import TabularEncoder
from sklearn_adv.utils import concat_rows

__all__ = [
    "alpha_precision_beta_recall",
    "birthday_support",
    "distance_to_closest_record",
    "manifold_precision_recall",
    "plot_distance_to_closest_record",
    "plot_image_neighbours",
    "plot_marginals",
    "quality_report",
]

SECTIONS = ("memorization", "diversity", "fidelity", "utility")
_COLUMNS = ["section", "metric", "value", "reference", "description"]


# -- the report -------------------------------------------------------------


def quality_report(
    X_train,
    X_synthetic,
    X_holdout=None,
    *,
    y_train=None,
    y_synthetic=None,
    y_holdout=None,
    estimator=None,
    sections=SECTIONS,
    per_column=False,
    max_rows=5000,
    random_state=0,
):
    """Memorization, diversity, fidelity and utility of synthetic data, as one DataFrame.

    Parameters
    ----------
    X_train : DataFrame, array of shape (n, n_features), or images (n, H, W) / (n, C, H, W)
        The rows the generator was trained on.
    X_synthetic : same format as ``X_train``
        The generated rows.
    X_holdout : same format as ``X_train`` or None, default=None
        Real rows the generator never saw: the reference of the memorization
        metrics and the test set of the utility metrics.
    y_train, y_synthetic, y_holdout : array-like or None, default=None
        Class labels, for class coverage and the utility section (which
        needs all three).
    estimator : classifier or None, default=None
        The model of the utility section; None is a
        ``HistGradientBoostingClassifier`` on the rows encoded as above (so
        it takes strings, categories and missing values). A given estimator
        is cloned for every fit, and given the rows as they are (images as
        flat rows).
    sections : iterable of str, default=("memorization", "diversity", "fidelity", "utility")
        Which sections to compute; a section that lacks its inputs (holdout,
        labels) is skipped.
    per_column : bool, default=False
        Also give one marginal-distance row per column.
    max_rows : int or None, default=5000
        The synthetic and holdout rows are subsampled to at most this many
        rows for the memorization metrics, whose reference is always the
        whole training set (so that no copy is missed); every data set is
        subsampled so for the diversity and fidelity metrics, and the
        coverage metrics compare subsamples of equal size (the smaller set's).
        The utility section uses all rows.
    random_state : int, default=0

    Returns
    -------
    report : DataFrame
        Columns ``section``, ``metric``, ``value``, ``reference`` (the same
        metric for real data, where there is one: holdout rows, training
        rows, a model trained on real rows; NaN otherwise) and
        ``description``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> X_train, X_holdout = rng.normal(size=(200, 3)), rng.normal(size=(200, 3))
    >>> copies = X_train[:100]  # a "generator" that memorised half its data
    >>> report = quality_report(X_train, copies, X_holdout, sections=["memorization"])
    >>> values = report.set_index("metric")["value"]
    >>> float(values["exact copy fraction"]), float(values["DCR ratio (median)"])
    (1.0, 0.0)
    """
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise ValueError(f"sections must be among {SECTIONS}, got {sorted(unknown)}.")
    for name, data in (("X_synthetic", X_synthetic), ("X_holdout", X_holdout)):
        if data is not None and _kind(data) != _kind(X_train):
            raise TypeError(f"{name} must have the format of X_train (a DataFrame, rows or images).")
    if len(X_train) < 2 or len(X_synthetic) < 2:
        raise ValueError("X_train and X_synthetic need at least 2 rows each.")
    X_synthetic = _same_columns(X_train, X_synthetic, "X_synthetic")
    X_holdout = _same_columns(X_train, X_holdout, "X_holdout")
    rng = np.random.RandomState(random_state)
    encoder = _fit_encoder(X_train, X_synthetic, X_holdout)
    E_train_all = _encode(encoder, X_train)  # the reference of the memorization metrics: every training row
    train_rows = _subsample_rows(len(X_train), max_rows, rng)
    train, E_train = _safe_indexing(X_train, train_rows), E_train_all[train_rows]
    synth = _subsample(X_synthetic, max_rows, rng)
    holdout = _subsample(X_holdout, max_rows, rng) if X_holdout is not None else None
    E_synth = _encode(encoder, synth)
    E_holdout = _encode(encoder, holdout) if holdout is not None else None

    # Coverage: one computation for the diversity (recall) and fidelity (precision) rows.
    coverage = _coverage(E_train, E_synth, E_holdout, random_state) if {"diversity", "fidelity"} & set(sections) else {}

    rows = []
    if "memorization" in sections:
        rows += _memorization(X_train, synth, holdout, E_train_all, E_synth, E_holdout)
    if "diversity" in sections:
        rows += _diversity(X_train, X_synthetic, E_train, E_synth, y_train, y_synthetic, rng)
        rows += _coverage_rows_of("diversity", coverage)
    if "fidelity" in sections:
        rows += _fidelity(train, synth, E_train, E_synth, per_column, random_state)
        rows += _coverage_rows_of("fidelity", coverage)
    if "utility" in sections and all(v is not None for v in (X_holdout, y_train, y_synthetic, y_holdout)):
        rows += _utility(X_train, X_synthetic, X_holdout, y_train, y_synthetic, y_holdout, estimator, encoder)
    return pd.DataFrame(rows, columns=_COLUMNS)


def _same_columns(X_train, X, name):
    """``X`` with the columns of the training frame, in their order."""
    if X is None or not isinstance(X_train, pd.DataFrame):
        return X
    if set(X.columns) != set(X_train.columns):
        raise ValueError(f"{name} must have the columns of X_train: {list(X_train.columns)}, got {list(X.columns)}.")
    return X[list(X_train.columns)]


def _row(section, metric, value, reference=np.nan, description=""):
    return {"section": section, "metric": metric, "value": float(value), "reference": float(reference),
            "description": description}


# -- memorization -------------------------------------------------------------


def _memorization(train, synth, holdout, E_train, E_synth, E_holdout):
    """``train`` / ``E_train``: every training row; ``synth`` and ``holdout``: the (subsampled) queries."""
    dcr_synth = distance_to_closest_record(E_train, E_synth)
    dcr_holdout = distance_to_closest_record(E_train, E_holdout) if E_holdout is not None else None
    copies = _exact_copy_fraction(train, synth)
    rows = [
        _row("memorization", "DCR synthetic (median)", np.median(dcr_synth),
             np.median(dcr_holdout) if dcr_holdout is not None else np.nan,
             "median distance of a synthetic row to its closest training row; reference: holdout rows"),
    ]
    if E_holdout is not None:
        rows.append(_row("memorization", "DCR ratio (median)", _ratio(np.median(dcr_synth), np.median(dcr_holdout)), 1.0,
                         "median DCR of synthetic rows over that of holdout rows; below 1: "
                         "closer to the training rows than fresh data"))
        rows.append(_row("memorization", "DCR ratio (5th percentile)",
                         _ratio(np.percentile(dcr_synth, 5), np.percentile(dcr_holdout, 5)), 1.0,
                         "the same for the closest 5% of rows, where copies show first"))
        rows.append(_row("memorization", "closer than holdout fraction", np.mean(dcr_synth < np.percentile(dcr_holdout, 5)), 0.05,
                         "share of synthetic rows closer to the training rows than 95% of holdout rows"))
    rows.append(_row("memorization", "exact copy fraction", copies,
                     _exact_copy_fraction(train, holdout) if holdout is not None else np.nan,
                     "share of synthetic rows identical to a training row; reference: holdout rows"))
    return rows


def _ratio(a, b):
    if b == 0:
        return np.inf if a > 0 else 1.0
    return a / b


def _exact_copy_fraction(train, query):
    train_keys = set(_row_keys(train))
    keys = _row_keys(query)
    return float(np.mean([key in train_keys for key in keys])) if len(keys) else 0.0


def _row_keys(X):
    if isinstance(X, pd.DataFrame):
        return list(pd.util.hash_pandas_object(X.astype(object).where(X.notna(), None), index=False))
    flat = np.asarray(X).reshape(len(X), -1)
    return [row.tobytes() for row in np.ascontiguousarray(flat, dtype=np.float64)]


# -- diversity -----------------------------------------------------------------


def birthday_support(E, threshold, batch_sizes=None, n_trials=10, random_state=0):
    """Birthday-paradox estimate of the number of distinct modes of the distribution of rows ``E``.

    For growing batch sizes ``s``, draws ``n_trials`` batches of ``s`` rows
    and counts those holding a pair closer than ``threshold``. The first
    ``s`` at which at least half the batches hold such a pair gives the
    estimate ``s ** 2`` (Arora, Risteski & Zhang 2018).

    Returns
    -------
    support : float
        The estimate, or ``s_max ** 2`` when no batch size reached one half.
    lower_bound : bool
        True when no batch size reached one half (the estimate is then a
        lower bound).
    """
    rng = np.random.RandomState(random_state)
    n = len(E)
    if batch_sizes is None:
        batch_sizes = [s for s in (2 ** k for k in range(3, 12)) if s <= n] or [n]
    for s in batch_sizes:
        hits = 0
        for _ in range(n_trials):
            batch = E[rng.choice(n, size=s, replace=False)]
            if _min_pair_distance(batch) <= threshold:
                hits += 1
        if hits >= n_trials / 2:
            return float(s) ** 2, False
    return float(batch_sizes[-1]) ** 2, True


def _min_pair_distance(batch):
    return distance_to_closest_record(batch, batch, exclude_self=True).min()


def _diversity(X_train, X_synthetic, E_train, E_synth, y_train, y_synthetic, rng):
    # Near-duplicates: closer than the closest 1% of pairs of neighbouring training rows.
    threshold = np.percentile(distance_to_closest_record(E_train, E_train, exclude_self=True), 1)
    seed = rng.randint(2**31 - 1)
    support_synth, bound_synth = birthday_support(E_synth, threshold, random_state=seed)
    support_train, bound_train = birthday_support(E_train, threshold, random_state=seed)
    note = " (lower bound)" if bound_synth else ""
    rows = [
        _row("diversity", "birthday support", support_synth, support_train,
             f"Arora et al.'s support-size estimate{note}; reference: the training rows"
             + (" (lower bound)" if bound_train else "")),
        _row("diversity", "birthday support ratio", support_synth / support_train, 1.0,
             "synthetic support over training support; below 1: fewer distinct modes"),
    ]
    if y_train is not None and y_synthetic is not None:
        classes = np.unique(np.asarray(y_train))
        present = np.isin(classes, np.asarray(y_synthetic))
        rows.append(_row("diversity", "class coverage", present.mean(), 1.0,
                         "share of the training classes present in the synthetic labels"))
    if isinstance(X_train, pd.DataFrame):
        total, covered, rare_total, rare_covered = 0, 0, 0, 0
        for column in _categorical_columns(X_train):
            frequencies = X_train[column].value_counts(normalize=True, dropna=False)
            seen = set(X_synthetic[column].dropna().unique()) | ({np.nan} if X_synthetic[column].isna().any() else set())
            for level, share in frequencies.items():
                hit = level in seen or (pd.isna(level) and X_synthetic[column].isna().any())
                total, covered = total + 1, covered + hit
                if share < 0.01:
                    rare_total, rare_covered = rare_total + 1, rare_covered + hit
        if total:
            rows.append(_row("diversity", "category coverage", covered / total, 1.0,
                             "share of the (column, category) pairs of the training rows that synthetic rows have"))
        if rare_total:
            rows.append(_row("diversity", "rare category coverage", rare_covered / rare_total, 1.0,
                             "the same for categories of under 1% of training rows"))
    return rows


# -- coverage ------------------------------------------------------------------------


def alpha_precision_beta_recall(real, synthetic, *, n_alphas=30, max_rows=5000, random_state=0):
    """Alaa et al.'s alpha-precision and beta-recall of synthetic rows against real ones.

    Both compare, for a share ``alpha`` (or ``beta``) of the data from 0 to 1,
    how much of the "typical" part of one data set the other reaches, and
    summarise the curve by one minus its mean distance to the diagonal, as
    synthcity's "naive" estimate (the one TabSyn and TabDDPM report), on the
    rows as given instead of a learned embedding:

    alpha-precision (fidelity)
        For each ``alpha``, the share of synthetic rows inside the ball
        around the real rows' mean that holds a share ``alpha`` of real rows.
        Synthetic rows spread like the real ones follow the diagonal (score
        1); rows far outside the real data, or all piled near its centre,
        score about 0.
    beta-recall (diversity)
        For each ``beta``, the share of real rows that have a synthetic row
        at least as close as their nearest real neighbour, counting only the
        real rows whose nearest synthetic row is among the share ``beta`` of
        such rows closest to the synthetic mean.

    Parameters
    ----------
    real, synthetic : array-like of shape (n, n_features)
        Encoded rows (see :func:`quality_report` for an encoding of tables
        and images).
    n_alphas : int, default=30
        Points of the curves, evenly spaced from 0 to 1.
    max_rows : int or None, default=5000
        Both sets are subsampled to the same number of rows, the smaller
        set's size capped at ``max_rows`` (the cost grows as its square).
    random_state : int, default=0
        Seeds the subsampling; the result is deterministic given it.

    Returns
    -------
    alpha_precision, beta_recall : float
        In [0, 1] (clipped at 0), higher is better.

    Notes
    -----
    What a value means: a real data set scores about 1 against itself on
    both; rows drawn afresh from the real distribution score about 1 in
    alpha-precision but only about 0.5 in beta-recall, because a fresh
    synthetic row is as likely as not to be closer to a real row than that
    row's nearest real neighbour. So 0.5, not 1, is what a perfect
    generator reaches in beta-recall, and more means rows close to real ones
    (copies score 1: read it beside the memorization metrics). Known biases:
    alpha-precision reads only the distance to the real rows' mean, so it
    cannot tell a synthetic row in the real data from one at the same
    distance in empty space (the k-NN precision of
    :func:`manifold_precision_recall` can); both depend on the number of
    rows compared (hence equal sizes) and on the scaling of the columns.

    References
    ----------
    Alaa, A., van Breugel, B., Saveliev, E. and van der Schaar, M. (2022).
    How Faithful is your Synthetic Data? Sample-level Metrics for Evaluating
    and Auditing Generative Models. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> real = rng.normal(size=(500, 2))
    >>> precision, recall = alpha_precision_beta_recall(real, real)
    >>> round(precision, 2), round(recall, 2)
    (1.0, 1.0)
    >>> precision, recall = alpha_precision_beta_recall(real, rng.normal(size=(500, 2)) + 10)
    >>> round(precision, 2), round(recall, 2)
    (0.0, 0.0)
    """
    if not (isinstance(n_alphas, Integral) and n_alphas >= 2):
        raise ValueError(f"n_alphas must be an int of at least 2, got {n_alphas!r}.")
    real, synthetic = _equal_subsamples(real, synthetic, max_rows, random_state, min_rows=2, what="2 rows")
    alphas = np.linspace(0.0, 1.0, n_alphas)
    center = real.mean(axis=0)
    radii = np.quantile(np.linalg.norm(real - center, axis=1), alphas)
    precision_curve = (np.linalg.norm(synthetic - center, axis=1)[None, :] <= radii[:, None]).mean(axis=1)

    real_to_real = NearestNeighbors(n_neighbors=1).fit(real).kneighbors()[0][:, 0]  # excluding the row itself
    real_to_synthetic, closest = NearestNeighbors(n_neighbors=1).fit(synthetic).kneighbors(real)
    covered = real_to_synthetic[:, 0] <= real_to_real
    closest_radius = np.linalg.norm(synthetic[closest[:, 0]] - synthetic.mean(axis=0), axis=1)
    typical = closest_radius[None, :] <= np.quantile(closest_radius, alphas)[:, None]
    recall_curve = (covered[None, :] & typical).mean(axis=1)
    return _curve_score(alphas, precision_curve), _curve_score(alphas, recall_curve)


def _curve_score(alphas, curve):
    """One minus the area between the curve and the diagonal, relative to the area under the diagonal."""
    return float(max(0.0, 1.0 - np.abs(curve - alphas).sum() / alphas.sum()))


def manifold_precision_recall(real, synthetic, *, n_neighbors=5, max_rows=5000, random_state=0):
    """Precision and recall of the k-nearest-neighbour manifolds (Kynkäänniemi et al. 2019).

    Each set's manifold is the union of balls centred on its rows, each
    reaching the row's ``n_neighbors``-th nearest neighbour in the same set.

    precision (fidelity)
        The share of synthetic rows inside the real manifold: where real
        rows are.
    recall (diversity)
        The share of real rows inside the synthetic manifold: how much of the
        real data the synthetic rows cover.

    Parameters
    ----------
    real, synthetic : array-like of shape (n, n_features)
        Encoded rows (see :func:`quality_report` for an encoding of tables
        and images).
    n_neighbors : int, default=5
        The ``k`` of the balls' radii; both sets need more than ``k`` rows
        (a ``ValueError`` otherwise).
    max_rows : int or None, default=5000
        Both sets are subsampled to the same number of rows, the smaller
        set's size capped at ``max_rows`` (the cost grows as its square; the
        distances are computed in chunks of bounded memory).
    random_state : int, default=0
        Seeds the subsampling; the result is deterministic given it.

    Returns
    -------
    precision, recall : float
        In [0, 1], higher is better.

    Notes
    -----
    What a value means: identical sets score 1 and 1; rows drawn afresh
    from the real distribution score close to 1 on both (a little less, as
    balls of finite samples miss some of the other sample's rows); a
    synthetic set covering only half of the real data's modes scores about 1
    in precision and 0.5 in recall. Known biases: a real outlier makes a
    large ball, so that precision forgives synthetic rows near outliers
    (Naeem et al. 2020); scores grow with ``n_neighbors`` and fall with the
    dimension; they depend on the scaling of the columns and on the number
    of rows compared (hence equal sizes).

    References
    ----------
    Kynkäänniemi, T., Karras, T., Laine, S., Lehtinen, J. and Aila, T. (2019).
    Improved Precision and Recall Metric for Assessing Generative Models. NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> real = np.r_[rng.normal(size=(300, 2)) - 5, rng.normal(size=(300, 2)) + 5]  # two modes
    >>> one_mode = rng.normal(size=(600, 2)) - 5
    >>> precision, recall = manifold_precision_recall(real, one_mode)
    >>> round(precision, 1), round(recall, 1)
    (1.0, 0.5)
    """
    if not (isinstance(n_neighbors, Integral) and n_neighbors >= 1):
        raise ValueError(f"n_neighbors must be a positive int, got {n_neighbors!r}.")
    real, synthetic = _equal_subsamples(
        real, synthetic, max_rows, random_state, min_rows=n_neighbors + 1,
        what=f"n_neighbors + 1 = {n_neighbors + 1} rows (n_neighbors={n_neighbors})",
    )
    return _share_inside(synthetic, real, n_neighbors), _share_inside(real, synthetic, n_neighbors)


def _share_inside(query, support, n_neighbors):
    """Share of ``query`` rows within the k-NN ball of at least one ``support`` row."""
    radii = NearestNeighbors(n_neighbors=n_neighbors).fit(support).kneighbors()[0][:, -1]  # excluding the row itself
    # Distances computed two ways (tree or matrix product) differ by rounding:
    # a tolerance keeps a copy of a support row inside a ball of radius 0.
    radii = radii + 1e-6 * (np.sqrt(np.max(np.sum(support**2, axis=1))) + 1.0)
    chunks = pairwise_distances_chunked(query, support, reduce_func=lambda D, start: (D <= radii).any(axis=1))
    return float(np.mean(np.concatenate(list(chunks))))


def _equal_subsamples(real, synthetic, max_rows, random_state, min_rows, what):
    """Both sets as float arrays of rows, subsampled to one size (the smaller, at most ``max_rows``)."""
    real = np.asarray(real, dtype=np.float64)
    synthetic = np.asarray(synthetic, dtype=np.float64)
    for name, data in (("real", real), ("synthetic", synthetic)):
        if data.ndim != 2:
            raise ValueError(f"{name} must be a 2-d array of rows, got shape {data.shape}.")
        if not np.isfinite(data).all():
            raise ValueError(f"{name} contains NaN or infinity.")
        if len(data) < min_rows:
            raise ValueError(f"real and synthetic need at least {what} each; {name} has {len(data)}.")
    if real.shape[1] != synthetic.shape[1]:
        raise ValueError(f"real has {real.shape[1]} columns but synthetic has {synthetic.shape[1]}.")
    n = min(len(real), len(synthetic))
    if max_rows is not None:
        if max_rows < min_rows:
            raise ValueError(f"max_rows must be at least {min_rows}, got {max_rows}.")
        n = min(n, max_rows)
    rng = np.random.RandomState(random_state)
    return real[_subsample_rows(len(real), n, rng)], synthetic[_subsample_rows(len(synthetic), n, rng)]


_COVERAGE = {  # metric: (section, description)
    "beta-recall": ("diversity", "Alaa et al.'s beta-recall: how much of the training rows the synthetic rows cover "
                    "(synthcity's estimate); fresh real rows score about 0.5, copies 1; reference: holdout rows"),
    "k-NN recall": ("diversity", "share of training rows within the 5-nearest-neighbour balls of the synthetic rows "
                    "(Kynkäänniemi et al.); reference: holdout rows"),
    "alpha-precision": ("fidelity", "Alaa et al.'s alpha-precision: synthetic rows as far from the training rows' "
                        "mean as training rows are (synthcity's estimate); 1: as real; reference: holdout rows"),
    "k-NN precision": ("fidelity", "share of synthetic rows within the 5-nearest-neighbour balls of the training rows "
                       "(Kynkäänniemi et al.); reference: holdout rows"),
}


def _coverage_rows_of(section, coverage):
    return [_row(section, name, *coverage[name], description)
            for name, (where, description) in _COVERAGE.items() if where == section and name in coverage]


def _coverage(E_train, E_synth, E_holdout, random_state, n_neighbors=5):
    """The report's coverage metrics of the synthetic rows and, as reference, of the holdout rows."""
    def scores(E):
        k = min(n_neighbors, len(E) - 1, len(E_train) - 1)
        alpha_precision, beta_recall = alpha_precision_beta_recall(E_train, E, max_rows=None, random_state=random_state)
        precision, recall = manifold_precision_recall(E_train, E, n_neighbors=k, max_rows=None, random_state=random_state)
        return {"alpha-precision": alpha_precision, "beta-recall": beta_recall,
                "k-NN precision": precision, "k-NN recall": recall}

    value = scores(E_synth)
    reference = scores(E_holdout) if E_holdout is not None and len(E_holdout) >= 2 else dict.fromkeys(value, np.nan)
    return {name: (value[name], reference[name]) for name in value}


# -- fidelity -------------------------------------------------------------------


def _fidelity(train, synth, E_train, E_synth, per_column, random_state):
    distances = _marginal_distances(train, synth)
    rows = [_row("fidelity", "marginal distance (mean)", np.mean(list(distances.values())), 0.0,
                 "mean over columns of the KS statistic (numeric) or total-variation distance (categorical)")]
    if per_column:
        rows += [_row("fidelity", f"marginal distance: {name}", value, 0.0, "KS statistic or total-variation distance")
                 for name, value in distances.items()]
    rows.append(_row("fidelity", "correlation difference", _correlation_difference(E_train, E_synth), 0.0,
                     "mean absolute difference of the pairwise correlations of the encoded columns"))
    rows.append(_row("fidelity", "detector ROC AUC", _detector_auc(E_train, E_synth, random_state), 0.5,
                     "3-fold ROC AUC of gradient boosting told to separate real from synthetic rows; 0.5: indistinguishable"))
    return rows


def _marginal_distances(train, synth):
    if not isinstance(train, pd.DataFrame):
        flat_train = np.asarray(train, dtype=np.float64).reshape(len(train), -1)
        flat_synth = np.asarray(synth, dtype=np.float64).reshape(len(synth), -1)
        return {j: ks_2samp(flat_train[:, j], flat_synth[:, j]).statistic for j in range(flat_train.shape[1])}
    distances = {}
    categorical = set(_categorical_columns(train))
    for column in train.columns:
        if column in categorical:
            p = train[column].astype(object).fillna("<missing>").value_counts(normalize=True)
            q = synth[column].astype(object).fillna("<missing>").value_counts(normalize=True)
            distances[column] = 0.5 * p.subtract(q, fill_value=0).abs().sum()
        else:
            a = pd.to_numeric(train[column], errors="coerce").dropna().to_numpy(dtype=float)
            b = pd.to_numeric(synth[column], errors="coerce").dropna().to_numpy(dtype=float)
            distances[column] = ks_2samp(a, b).statistic if len(a) and len(b) else 1.0
    return distances


def _correlation_difference(E_train, E_synth):
    keep = (E_train.std(axis=0) > 0) & (E_synth.std(axis=0) > 0)
    if keep.sum() < 2:
        return 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.corrcoef(E_train[:, keep], rowvar=False)
        b = np.corrcoef(E_synth[:, keep], rowvar=False)
    upper = np.triu_indices_from(a, k=1)
    return float(np.nanmean(np.abs(a[upper] - b[upper])))


def _detector_auc(E_train, E_synth, random_state):
    n = min(len(E_train), len(E_synth))
    rng = np.random.RandomState(random_state)
    real = E_train[rng.choice(len(E_train), n, replace=False)]
    fake = E_synth[rng.choice(len(E_synth), n, replace=False)]
    features, labels = real_vs_synthetic(real, fake)
    detector = synthetic_detector(random_state=random_state)
    cv = StratifiedKFold(3, shuffle=True, random_state=random_state)
    proba = cross_val_predict(detector, features, labels, cv=cv, method="predict_proba")[:, 1]
    return roc_auc_score(labels, proba)


# -- utility ----------------------------------------------------------------------


def _utility(X_train, X_synthetic, X_holdout, y_train, y_synthetic, y_holdout, estimator, encoder):
    if estimator is None:
        # The report's encoding: it takes strings, categories and missing values, which
        # a model given raw frames might not.
        estimator = HistGradientBoostingClassifier(random_state=0)
        X_train, X_synthetic, X_holdout = (_encode(encoder, v) for v in (X_train, X_synthetic, X_holdout))
    if not is_classifier(estimator):
        raise TypeError(f"estimator must be a classifier, got {estimator!r}.")
    y_train, y_synthetic, y_holdout = (np.asarray(v) for v in (y_train, y_synthetic, y_holdout))
    if _kind(X_train) == "images":  # estimators take rows: images are flattened
        X_train, X_synthetic, X_holdout = (np.asarray(v).reshape(len(v), -1) for v in (X_train, X_synthetic, X_holdout))
    combined = concat_rows(X_train, X_synthetic)
    y_combined = np.concatenate([y_train, y_synthetic])
    scores = {name: _scores(clone(estimator), X, y, X_holdout, y_holdout)
              for name, X, y in (("real", X_train, y_train), ("synthetic", X_synthetic, y_synthetic),
                                 ("real+synthetic", combined, y_combined))}
    rows = []
    for metric in scores["real"]:
        rows.append(_row("utility", f"TSTR {metric}", scores["synthetic"][metric], scores["real"][metric],
                         "trained on synthetic rows, tested on the holdout; reference: trained on the training rows"))
        rows.append(_row("utility", f"real+synthetic {metric}", scores["real+synthetic"][metric], scores["real"][metric],
                         "trained on training plus synthetic rows; reference: training rows only"))
    return rows


def _scores(model, X, y, X_test, y_test):
    if len(np.unique(y)) < 2:
        return {"ROC AUC": np.nan, "accuracy": np.nan, "macro F1": np.nan}
    model.fit(X, y)
    predicted = model.predict(X_test)
    scores = {"ROC AUC": np.nan}
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X_test)
        classes = model.classes_
        if len(classes) == 2:
            scores["ROC AUC"] = roc_auc_score(y_test == classes[1], proba[:, 1])
        elif set(np.unique(y_test)) <= set(classes):
            scores["ROC AUC"] = roc_auc_score(y_test, proba, multi_class="ovr", labels=classes)
    scores["accuracy"] = accuracy_score(y_test, predicted)
    scores["macro F1"] = f1_score(y_test, predicted, average="macro")
    return scores


# -- encoding --------------------------------------------------------------------


def _kind(X):
    if isinstance(X, pd.DataFrame):
        return "frame"
    return "images" if np.ndim(X) > 2 else "rows"


def _categorical_columns(frame):
    return [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]


class _ImageScaler:
    """Flatten images and divide by the pixels' overall standard deviation (fitted on the training images)."""

    def fit(self, X, y=None):
        flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        self.scale_ = flat.std() or 1.0
        return self

    def transform(self, X):
        return np.asarray(X, dtype=np.float64).reshape(len(X), -1) / self.scale_

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)


def _fit_encoder(X_train, *others):
    """The report's encoding, fitted on the training rows (see the module's docstring).

    A numeric column with missing values in one of ``others`` gets its
    missing-value indicator even where the training rows have none, so that
    every data set can be encoded; scales and levels are the training rows'.
    """
    kind = _kind(X_train)
    if kind == "images":
        return _ImageScaler().fit(X_train)
    others = [X for X in others if X is not None]
    if kind == "rows":
        X_train = np.asarray(X_train, dtype=np.float64)
        indicated = np.zeros(X_train.shape[1], dtype=bool)
        for X in others:
            indicated |= np.isnan(np.asarray(X, dtype=np.float64)).any(axis=0)
    else:
        categorical = set(_categorical_columns(X_train))
        indicated = [c for c in X_train.columns if c not in categorical and any(X[c].isna().any() for X in others)]
    encoder = TabularEncoder(
        numeric="standard", handle_unknown="ignore", missing_indicators=indicated, dtype=np.float64
    )
    return encoder.fit(X_train)


def _encode(encoder, X):
    if _kind(X) == "rows":
        X = np.asarray(X, dtype=np.float64)
    return np.asarray(encoder.transform(X), dtype=np.float64)


def _subsample_rows(n, max_rows, rng):
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    return np.sort(rng.choice(n, max_rows, replace=False))


def _subsample(X, max_rows, rng):
    if max_rows is None or len(X) <= max_rows:
        return X
    return _safe_indexing(X, _subsample_rows(len(X), max_rows, rng))


# -- plots ------------------------------------------------------------------------


def plot_image_neighbours(X_train, X_synthetic, n_images=8, n_neighbours=2, image_shape=None, ax=None, cmap="gray_r"):
    """A grid of synthetic images (top row) above their nearest training images.

    Copies show as columns of identical images; the distance to the nearest
    neighbour is written under each synthetic image.

    Parameters
    ----------
    X_train, X_synthetic : arrays of images (n, H, W) / (n, 1, H, W), or flat rows with ``image_shape``
    n_images : int, default=8
        Synthetic images shown (the first ones).
    n_neighbours : int, default=2
    image_shape : tuple of int or None
        ``(H, W)`` of flat rows.
    ax : None
        Ignored placeholder for symmetry with the other helpers; a new figure is made.

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt

    train = _as_images(X_train, image_shape)
    synth = _as_images(X_synthetic, image_shape)[:n_images]
    scaler = _ImageScaler().fit(train)
    distances, indices = (
        NearestNeighbors(n_neighbors=n_neighbours).fit(scaler.transform(train)).kneighbors(scaler.transform(synth))
    )
    vmin, vmax = float(train.min()), float(train.max())
    fig, axes = plt.subplots(1 + n_neighbours, len(synth), figsize=(1.2 * len(synth), 1.3 * (1 + n_neighbours)), squeeze=False)
    for j, image in enumerate(synth):
        axes[0, j].imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
        axes[0, j].set_title(f"d={distances[j, 0]:.1f}", fontsize=8)
        for k in range(n_neighbours):
            axes[1 + k, j].imshow(train[indices[j, k]], cmap=cmap, vmin=vmin, vmax=vmax)
    for a in axes.ravel():
        a.set_xticks([])
        a.set_yticks([])
    axes[0, 0].set_ylabel("synthetic", fontsize=8)
    for k in range(n_neighbours):
        axes[1 + k, 0].set_ylabel(f"neighbour {k + 1}", fontsize=8)
    fig.tight_layout()
    return fig


def _as_images(X, image_shape):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 2:
        if image_shape is None:
            raise ValueError("Flat rows need image_shape=(H, W) to be shown as images.")
        return X.reshape(len(X), *image_shape[-2:])
    if X.ndim == 4:
        if X.shape[1] != 1:
            return np.moveaxis(X, 1, -1)
        return X[:, 0]
    return X


def plot_distance_to_closest_record(X_train, X_synthetic, X_holdout, ax=None, max_rows=5000, random_state=0):
    """Histograms of the distance to the closest training record of synthetic and of holdout rows.

    The distances are to every training row; at most ``max_rows`` synthetic
    and holdout rows are drawn.
    """
    import matplotlib.pyplot as plt

    rng = np.random.RandomState(random_state)
    X_synthetic = _same_columns(X_train, X_synthetic, "X_synthetic")
    X_holdout = _same_columns(X_train, X_holdout, "X_holdout")
    encoder = _fit_encoder(X_train, X_synthetic, X_holdout)
    train = _encode(encoder, X_train)  # every training row is a reference; the queries are subsampled
    synth = distance_to_closest_record(train, _encode(encoder, _subsample(X_synthetic, max_rows, rng)))
    holdout = distance_to_closest_record(train, _encode(encoder, _subsample(X_holdout, max_rows, rng)))
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    bins = np.linspace(0, np.percentile(np.r_[synth, holdout], 99), 40)
    ax.hist(holdout, bins=bins, alpha=0.6, label=f"holdout (median {np.median(holdout):.2f})", density=True)
    ax.hist(synth, bins=bins, alpha=0.6, label=f"synthetic (median {np.median(synth):.2f})", density=True)
    ax.set_xlabel("distance to the closest training row")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    return ax


def plot_marginals(X_train, X_synthetic, columns=None, n_columns=3, max_levels=8):
    """One panel per column: histograms (numeric) or bar charts of category shares (categorical)."""
    import matplotlib.pyplot as plt

    if not isinstance(X_train, pd.DataFrame):
        X_train, X_synthetic = pd.DataFrame(np.asarray(X_train)), pd.DataFrame(np.asarray(X_synthetic))
    columns = list(X_train.columns if columns is None else columns)
    n_rows = -(-len(columns) // n_columns)
    fig, axes = plt.subplots(n_rows, n_columns, figsize=(3.6 * n_columns, 2.6 * n_rows), squeeze=False)
    categorical = set(_categorical_columns(X_train))
    for a, column in zip(axes.ravel(), columns):
        if column in categorical:
            p = X_train[column].astype(str).value_counts(normalize=True)
            q = X_synthetic[column].astype(str).value_counts(normalize=True).reindex(p.index, fill_value=0)
            top = p.index[:max_levels]
            x = np.arange(len(top))
            a.bar(x - 0.2, p[top], width=0.4, label="real")
            a.bar(x + 0.2, q[top], width=0.4, label="synthetic")
            a.set_xticks(x, [str(t)[:10] for t in top], rotation=60, fontsize=7)
        else:
            real = pd.to_numeric(X_train[column], errors="coerce").dropna()
            fake = pd.to_numeric(X_synthetic[column], errors="coerce").dropna()
            bins = np.linspace(real.quantile(0.005), real.quantile(0.995), 30)
            a.hist(real, bins=bins, alpha=0.6, density=True, label="real")
            a.hist(fake, bins=bins, alpha=0.6, density=True, label="synthetic")
        a.set_title(str(column), fontsize=9)
    for a in axes.ravel()[len(columns):]:
        a.set_visible(False)
    axes.ravel()[0].legend(fontsize=7)
    fig.tight_layout()
    return fig
