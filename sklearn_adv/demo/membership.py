"""Membership inference in the tour: do models trained on digits and on UCI Adult leak their training records?

The README's random forest on 600 digits, then a fully grown random forest
and a regularised logistic regression trained on the same Adult records, are
audited with RMIA (reference models on population data) against the simple
loss-threshold attack; the tour prints the whole row of each audit. The
forests leak (high true-positive rate at a 1% false-positive rate); the
logistic regression barely does.
"""

from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_adv import MembershipAuditor
from sklearn_adv.datasets import load_adult, load_digit_images

N_ROWS = 1500
BASELINE_NAME = "loss-threshold attack (Yeom et al.)"

# The columns of MembershipAuditor.evaluate's row, as the results table names them.
METRIC_NAMES = {
    "roc_auc": "membership ROC AUC",
    "tpr_at_1%_fpr": "TPR at 1% FPR",
    "tpr_at_0.1%_fpr": "TPR at 0.1% FPR",
    "advantage": "advantage (largest TPR - FPR)",
    "balanced_accuracy": "balanced accuracy at the auditor's threshold",
    "precision": "precision at the auditor's threshold",
    "recall": "recall at the auditor's threshold",
}


def _encode():
    return make_column_transformer(
        (StandardScaler(), make_column_selector(dtype_include="number")),
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    )


def _digit_splits():
    """The README's digits: members, non-members and population, as its tour slices them."""
    X, y = load_digit_images()
    X = X.reshape(len(X), -1)
    return (X[:600], y[:600]), (X[600:1200], y[600:1200]), (X[1200:], y[1200:])


def _audit_rows(task, reports):
    """One result row per column of the audits' rows: RMIA's value against the loss attack's."""
    return [
        {
            "estimator": "MembershipAuditor",
            "task": task,
            "metric": METRIC_NAMES.get(key, key),
            "ours": float(reports["rmia"][key]),
            "baseline": float(reports["loss"][key]),
            "baseline_name": BASELINE_NAME,
        }
        for key in reports["rmia"].index
    ]


def _adult_splits(n_rows, seed=0):
    """Members, non-members and population: disjoint sets of complete Adult rows."""
    X, y = load_adult(subset="train", return_X_y=True)
    complete = np.flatnonzero(X.notna().all(axis=1).to_numpy())
    rows = np.random.RandomState(seed).choice(complete, 3 * n_rows, replace=False)
    X, y = X.iloc[rows].reset_index(drop=True), y.iloc[rows].to_numpy()
    return [(X.iloc[k * n_rows : (k + 1) * n_rows], y[k * n_rows : (k + 1) * n_rows]) for k in range(3)]


def run(out_dir):
    """Audit the README's digits forest, an overfit and a regularised Adult model; save their log-log ROC curves.

    Parameters
    ----------
    out_dir : str or path-like
        Folder for the figure ``membership_roc.png`` (created if missing).

    Returns
    -------
    rows : list of dict
        Keys ``estimator``, ``task``, ``metric``, ``ours``, ``baseline``,
        ``baseline_name``, one per column of the audit's row (see
        :func:`~sklearn_adv.privacy.membership_metrics`); ``ours`` is RMIA
        with 4 reference models, ``baseline`` the loss-threshold attack, on
        the same members and non-members.
    """
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    adult = _adult_splits(N_ROWS)
    forest = RandomForestClassifier(n_estimators=100, random_state=0)
    audits = [  # name, members, target, (members, non-members, population)
        ("digits random forest", "600 members", forest, _digit_splits()),
        ("Adult random forest (overfit)", f"{N_ROWS} members", make_pipeline(_encode(), forest), adult),
        ("Adult logistic regression C=0.01", f"{N_ROWS} members",
         make_pipeline(_encode(), LogisticRegression(C=0.01, max_iter=1000)), adult),
    ]
    fig, axes = plt.subplots(1, len(audits), figsize=(4.5 * len(audits), 4.5))
    rows = []
    for ax, (name, size, target, (members, nonmembers, population)) in zip(axes, audits):
        target = clone(target).fit(*members)
        reports = {}
        for attack in ("rmia", "loss"):
            auditor = MembershipAuditor(target, attack=attack, n_reference_models=4, random_state=0).fit(*population)
            reports[attack] = auditor.evaluate(*members, *nonmembers).iloc[0]
            auditor.plot_roc(*members, *nonmembers, ax=ax, label=attack)
        ax.set_title(name, fontsize="medium")
        rows += _audit_rows(f"{name}, {size}", reports)
    fig.suptitle("Membership inference, log-log ROC: RMIA and the loss attack")
    fig.tight_layout()
    fig.savefig(out_dir / "membership_roc.png", dpi=100)
    plt.close(fig)
    return rows
