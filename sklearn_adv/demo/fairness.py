"""FairClassifier in the tour: income prediction on UCI Adult that must not depend on sex.

A plain network (``adversary_weight=0``) and FairClassifier at a few adversary
weights are trained on 8,000 rows of the training file with ``sex`` as the
protected column (dropped from the inputs, read by the adversary) and scored
on the test file: accuracy, demographic parity difference, and how well a
logistic regression recovers sex from the learned representation.
"""

from pathlib import Path

import numpy as np
from fairlearn.metrics import demographic_parity_difference
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score

from sklearn_adv import FairClassifier
from sklearn_adv.datasets import load_adult

N_ROWS = 8000
WEIGHTS = (0.0, 0.1, 0.3, 1.0)
CHOSEN = 1.0
BASELINE_NAME = "the same network without adversary"


def _model(weight):
    return FairClassifier("sex", adversary_weight=weight, max_epochs=8, batch_size=128, random_state=0)


def _probe_auc(model, X_train, X_test):
    """ROC AUC of a logistic regression recovering sex from ``transform(X)``."""
    s_train, s_test = X_train["sex"] == "Male", X_test["sex"] == "Male"
    probe = LogisticRegression(max_iter=2000).fit(model.transform(X_train), s_train)
    return roc_auc_score(s_test, probe.predict_proba(model.transform(X_test))[:, 1])


def run(out_dir):
    """Fit FairClassifier at several adversary weights on Adult; save the trade-off plot.

    Parameters
    ----------
    out_dir : str or path-like
        Folder for the figure ``fairness_tradeoff.png`` (created if missing).

    Returns
    -------
    rows : list of dict
        Keys ``estimator``, ``task``, ``metric``, ``ours``, ``baseline``,
        ``baseline_name``; ``ours`` is FairClassifier at ``adversary_weight=1``,
        ``baseline`` the same network trained without the adversary.
    """
    import matplotlib.pyplot as plt

    from sklearn_adv.fairness import FairnessTradeoffDisplay

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    X_all, y_all = load_adult(subset="train", return_X_y=True)
    X_test, y_test = load_adult(subset="test", return_X_y=True)
    rows = np.random.default_rng(0).choice(len(y_all), N_ROWS, replace=False)
    X_train, y_train = X_all.iloc[rows].reset_index(drop=True), y_all.iloc[rows].to_numpy()
    y_test = y_test.to_numpy()

    results = {}
    for weight in WEIGHTS:
        model = _model(weight).fit(X_train, y_train)
        y_pred = model.predict(X_test)
        results[weight] = {
            "accuracy": accuracy_score(y_test, y_pred),
            "demographic parity difference (lower is fairer)": demographic_parity_difference(
                y_test, y_pred, sensitive_features=X_test["sex"]
            ),
            "ROC AUC of a probe recovering sex from transform(X) (0.5 = hidden)": _probe_auc(model, X_train, X_test),
        }

    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    FairnessTradeoffDisplay(
        list(WEIGHTS),
        [results[w]["accuracy"] for w in WEIGHTS],
        [results[w]["demographic parity difference (lower is fairer)"] for w in WEIGHTS],
        estimator_name="FairClassifier (label: adversary_weight)",
    ).plot(ax=ax)
    ax.set_title(f"UCI Adult, sensitive attribute sex ({N_ROWS:,} training rows)")
    fig.tight_layout()
    fig.savefig(out_dir / "fairness_tradeoff.png", dpi=100)
    plt.close(fig)

    task = f"Adult income, sensitive attribute sex ({N_ROWS:,} rows, adversary_weight={CHOSEN:g})"
    return [
        {
            "estimator": "FairClassifier",
            "task": task,
            "metric": metric,
            "ours": float(results[CHOSEN][metric]),
            "baseline": float(results[0.0][metric]),
            "baseline_name": BASELINE_NAME,
        }
        for metric in results[CHOSEN]
    ]
