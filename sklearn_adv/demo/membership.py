"""Membership inference in the tour: does a model trained on UCI Adult leak its training records?

A fully grown random forest and a regularised logistic regression are
trained on the same Adult records and audited with RMIA (reference models on
population data) against the simple loss-threshold attack. The forest leaks
(high true-positive rate at a 1% false-positive rate); the logistic
regression barely does.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_adv import MembershipAuditor
from sklearn_adv.datasets import load_adult
from sklearn_adv.privacy import plot_membership_roc

N_ROWS = 1500
BASELINE_NAME = "loss-threshold attack (Yeom et al.)"


def _encode():
    return make_column_transformer(
        (StandardScaler(), make_column_selector(dtype_include="number")),
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    )


def _splits(n_rows, seed=0):
    """Members, non-members and population: disjoint sets of complete Adult rows."""
    X, y = load_adult(subset="train", return_X_y=True)
    complete = np.flatnonzero(X.notna().all(axis=1).to_numpy())
    rows = np.random.RandomState(seed).choice(complete, 3 * n_rows, replace=False)
    X, y = X.iloc[rows].reset_index(drop=True), y.iloc[rows].to_numpy()
    return [(X.iloc[k * n_rows : (k + 1) * n_rows], y[k * n_rows : (k + 1) * n_rows]) for k in range(3)]


def run(out_dir):
    """Audit an overfit and a regularised Adult model; save their log-log ROC curves.

    Parameters
    ----------
    out_dir : str or path-like
        Folder for the figure ``membership_roc.png`` (created if missing).

    Returns
    -------
    rows : list of dict
        Keys ``estimator``, ``task``, ``metric``, ``ours``, ``baseline``,
        ``baseline_name``; ``ours`` is RMIA with 4 reference models,
        ``baseline`` the loss-threshold attack, on the same members and
        non-members.
    """
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    members, nonmembers, population = _splits(N_ROWS)
    targets = {
        "random forest (overfit)": make_pipeline(_encode(), RandomForestClassifier(n_estimators=100, random_state=0)),
        "logistic regression C=0.01": make_pipeline(_encode(), LogisticRegression(C=0.01, max_iter=1000)),
    }
    X_audit = pd.concat([members[0], nonmembers[0]])
    y_audit = np.r_[members[1], nonmembers[1]]
    is_member = np.r_[np.ones(N_ROWS), np.zeros(N_ROWS)]
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.5))
    rows = []
    for ax, (name, target) in zip(axes, targets.items()):
        target.fit(*members)
        reports = {}
        for attack in ("rmia", "loss"):
            auditor = MembershipAuditor(target, attack=attack, n_reference_models=4, random_state=0).fit(*population)
            reports[attack] = auditor.evaluate(*members, *nonmembers).iloc[0]
            plot_membership_roc(is_member, auditor.score_samples(X_audit, y_audit), ax=ax, label=attack)
        ax.set_title(f"Adult {name}", fontsize="medium")
        task = f"Adult {name}, {N_ROWS} members"
        for metric, key in (("membership ROC AUC", "roc_auc"), ("TPR at 1% FPR", "tpr_at_1%_fpr")):
            rows.append(
                {
                    "estimator": "MembershipAuditor",
                    "task": task,
                    "metric": metric,
                    "ours": float(reports["rmia"][key]),
                    "baseline": float(reports["loss"][key]),
                    "baseline_name": BASELINE_NAME,
                }
            )
    fig.suptitle("Membership inference, log-log ROC: RMIA and the loss attack")
    fig.tight_layout()
    fig.savefig(out_dir / "membership_roc.png", dpi=100)
    plt.close(fig)
    return rows
