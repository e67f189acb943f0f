"""Mixup in the tour: LogisticRegression with and without mixup, on digits and on UCI Adult.

Mixup helps a little on a small labelled set of images (mostly the log loss)
and does not help on Adult's one-hot encoded census rows: the tour shows both.
"""

from pathlib import Path

import numpy as np
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_adv import MixupTransformer
from sklearn_adv.datasets import load_adult
from sklearn_adv.pipeline import make_pipeline

SEEDS = (0, 1, 2)
ALPHA = 0.2
BASELINE_NAME = "LogisticRegression without mixup"


def _scores(model, X_train, y_train, X_test, y_test):
    proba = model.fit(X_train, y_train).predict_proba(X_test)
    return (
        accuracy_score(y_test, model.classes_[proba.argmax(axis=1)]),
        log_loss(y_test, proba, labels=model.classes_),
    )


def _compare(task, runs_with, runs_without):
    """Result rows for the mean accuracy and log loss over seeds."""
    with_, without = np.mean(runs_with, axis=0), np.mean(runs_without, axis=0)
    return [
        {
            "estimator": "MixupTransformer",
            "task": task,
            "metric": metric,
            "ours": float(with_[k]),
            "baseline": float(without[k]),
            "baseline_name": BASELINE_NAME,
        }
        for k, metric in enumerate(["accuracy", "log loss (lower is better)"])
    ]


def _digits_rows(n_labelled=300):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    with_, without = [], []
    for seed in SEEDS:
        X_train, _, y_train, _ = train_test_split(X_pool, y_pool, train_size=n_labelled, stratify=y_pool, random_state=seed)
        mixed = make_pipeline(MixupTransformer(alpha=ALPHA, random_state=seed), LogisticRegression(max_iter=2000))
        with_.append(_scores(mixed, X_train, y_train, X_test, y_test))
        without.append(_scores(LogisticRegression(max_iter=2000), X_train, y_train, X_test, y_test))
    return _compare(f"digits, {n_labelled} labelled ({len(SEEDS)} seeds)", with_, without)


def _adult_rows(n_labelled=2000):
    X_all, y_all = load_adult(subset="train", return_X_y=True)
    X_test, y_test = load_adult(subset="test", return_X_y=True)
    with_, without = [], []
    for seed in SEEDS:
        rows = np.random.default_rng(seed).choice(len(y_all), n_labelled, replace=False)
        X_train, y_train = X_all.iloc[rows], y_all.iloc[rows]
        encode = lambda: ColumnTransformer(  # noqa: E731
            [
                ("num", StandardScaler(), make_column_selector(dtype_include="number")),
                (
                    "cat",
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                    make_column_selector(dtype_exclude="number"),
                ),
            ]
        )
        mixed = make_pipeline(encode(), MixupTransformer(alpha=ALPHA, random_state=seed), LogisticRegression(max_iter=2000))
        plain = make_pipeline(encode(), LogisticRegression(max_iter=2000))
        with_.append(_scores(mixed, X_train, y_train, X_test, y_test))
        without.append(_scores(plain, X_train, y_train, X_test, y_test))
    return _compare(f"Adult, {n_labelled} labelled rows ({len(SEEDS)} seeds)", with_, without)


def _mixed_pairs(X_res, y_res, weights, n_original, limit):
    """The first ``limit`` mixed rows whose two labels differ: (row, (label, weight), (label, weight)).

    In the weighted-pairs representation such a row is returned twice in a
    row, once per label, with weights summing to 1.
    """
    pairs, k = [], n_original
    while k + 1 < len(X_res) and len(pairs) < limit:
        if weights[k] < 1 and np.array_equal(X_res[k], X_res[k + 1]):
            pairs.append((X_res[k], (y_res[k], weights[k]), (y_res[k + 1], weights[k + 1])))
            k += 2
        else:
            k += 1
    return pairs


def _plot_mixed_digits(path, n_columns=6):
    import matplotlib.pyplot as plt

    X, y = load_digits(return_X_y=True)
    X = X[:200] / 16.0
    y = y[:200]
    fig, axes = plt.subplots(2, n_columns, figsize=(1.6 * n_columns, 4.0))
    for axes_row, method in zip(axes, ["mixup", "cutmix"]):
        sampler = MixupTransformer(alpha=1.0, method=method, image_shape=(8, 8), random_state=0)
        X_res, y_res = sampler.fit_resample(X, y)
        for ax, (image, (label_a, w_a), (label_b, w_b)) in zip(
            axes_row, _mixed_pairs(X_res, y_res, sampler.sample_weight_, len(X), n_columns)
        ):
            ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.set_title(f"{w_a:.2f}·{label_a} + {w_b:.2f}·{label_b}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        axes_row[0].set_ylabel(method, fontsize=11)
    fig.suptitle("Mixed digits and their two weighted labels")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(out_dir):
    """Compare LogisticRegression with and without mixup; save a figure of mixed digits.

    Parameters
    ----------
    out_dir : str or path-like
        Folder for the figure ``mixup_digits.png`` (created if missing).

    Returns
    -------
    rows : list of dict
        Keys ``estimator``, ``task``, ``metric``, ``ours``, ``baseline``,
        ``baseline_name``; ``ours`` is with mixup (alpha 0.2), ``baseline``
        the same model without it, both averaged over three seeds.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _plot_mixed_digits(out_dir / "mixup_digits.png")
    return _digits_rows() + _adult_rows()
