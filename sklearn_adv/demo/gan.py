"""GAN augmentation in the tour: synthetic UCI Adult rows, their utility and how new they are.

A GANAugmenter learns 3,000 Adult rows for a few seconds; a gradient-boosting
model trained on its synthetic rows only is compared, on adult.test, with the
same model trained on the real rows, and the synthetic rows' distance to the
training rows is compared with that of test rows. Synthetic rows lose
utility against the real ones, as the tour shows.
"""

from pathlib import Path

import numpy as np

from sklearn_adv import GANAugmenter
from sklearn_adv.augmentation.quality import plot_marginals, quality_report
from sklearn_adv.datasets import load_adult

N_ROWS = 3000
EPOCHS = 30


def run(out_dir):
    """Train a GAN on 3,000 Adult rows, report its rows' utility and memorization, save their marginals.

    Parameters
    ----------
    out_dir : str or path-like
        Folder for the figure ``gan_adult_marginals.png`` (created if missing).

    Returns
    -------
    rows : list of dict
        Keys ``estimator``, ``task``, ``metric``, ``ours``, ``baseline``,
        ``baseline_name``: the ROC AUC and macro F1 on adult.test of
        HistGradientBoosting trained on synthetic rows (ours) and on the real
        rows (baseline), and the distance-to-closest-record ratio (ours:
        synthetic rows; baseline: test rows, 1 by definition).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    X, y = load_adult(subset="train", return_X_y=True)
    X_test, y_test = load_adult(subset="test", return_X_y=True)
    rows = np.random.RandomState(0).choice(len(X), N_ROWS, replace=False)
    X_train, y_train = X.iloc[rows].reset_index(drop=True), y.iloc[rows].to_numpy()
    X_test, y_test = X_test.reset_index(drop=True), y_test.to_numpy()

    gan = GANAugmenter(max_epochs=EPOCHS, batch_size=500, random_state=0).fit(X_train, y_train)
    synthetic, y_synthetic = gan.sample(N_ROWS, y=y_train, random_state=0)
    report = quality_report(
        X_train, synthetic, X_test.iloc[:N_ROWS], y_train=y_train, y_synthetic=y_synthetic,
        y_holdout=y_test[:N_ROWS], sections=["memorization", "utility"],
    ).set_index("metric")

    fig = plot_marginals(X_train, synthetic, columns=["age", "hours-per-week", "education", "marital-status", "sex", "race"])
    fig.savefig(out_dir / "gan_adult_marginals.png", dpi=90)
    plt.close(fig)

    task = f"Adult, {N_ROWS} rows, {EPOCHS} epochs"
    result = []
    for metric in ("ROC AUC", "macro F1"):
        result.append({
            "estimator": "GANAugmenter",
            "task": task,
            "metric": f"HGB {metric}, trained on synthetic rows only",
            "ours": float(report.loc[f"TSTR {metric}", "value"]),
            "baseline": float(report.loc[f"TSTR {metric}", "reference"]),
            "baseline_name": "trained on the real rows",
        })
    result.append({
        "estimator": "GANAugmenter",
        "task": task,
        "metric": "distance to closest training row, ratio to test rows (>= 1: no copying)",
        "ours": float(report.loc["DCR ratio (median)", "value"]),
        "baseline": 1.0,
        "baseline_name": "test rows",
    })
    return result
