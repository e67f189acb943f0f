"""Adversarial training in the tour: a conv net on digits, trained normally and against attacks.

Normal training gives a network that is as accurate on clean digits as the
adversarially trained one, and that most small perturbations of the pixels
(at most 0.1 each, pixels in [0, 1]) fool; adversarial training keeps most
of its accuracy under the same attack. The attack is projected gradient
descent (20 steps, one random start) on the test images: a stronger attack
may find more; the benchmark (``benchmarks/bench_robustness.py``) runs 50
steps with 5 restarts.
"""

from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_adv import AdversarialTrainingClassifier
from sklearn_adv.nn.perturbations import gradient_attack

EPS = 0.1
EPOCHS = 10
BASELINE_NAME = "same network, normal training (eps=0)"


def _attacked_accuracy(clf, images, y, eps, steps=20):
    """Accuracy on ``images`` moved by PGD within ``eps`` (L-infinity) and the [0, 1] box."""
    module = clf.net_.module_.eval()
    x = torch.as_tensor(clf._network_input(images))
    target = torch.as_tensor(np.searchsorted(clf.classes_, y))
    x_adv = gradient_attack(lambda z: module(z)[0], x, target, eps=eps, steps=steps, lower=0.0, upper=1.0,
                            generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return float((module(x_adv)[0].argmax(1) == target).float().mean())


def run(out_dir):
    """Train the default conv net on digits normally and adversarially; compare clean and attacked accuracy.

    Parameters
    ----------
    out_dir : str or path-like
        Output folder (created if missing); this section saves no figure.

    Returns
    -------
    rows : list of dict
        Keys ``estimator``, ``task``, ``metric``, ``ours``, ``baseline``,
        ``baseline_name``; ``ours`` is the adversarially trained network,
        ``baseline`` the same network trained normally.
    """
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    X, y = load_digits(return_X_y=True)
    images = (X / 16.0).reshape(-1, 8, 8)
    X_train, X_test, y_train, y_test = train_test_split(images, y, test_size=540, stratify=y, random_state=0)
    params = dict(max_epochs=EPOCHS, random_state=0)
    normal = AdversarialTrainingClassifier(eps=0.0, **params).fit(X_train, y_train)
    robust = AdversarialTrainingClassifier(eps=EPS, **params).fit(X_train, y_train)
    task = f"digits images, L-inf eps {EPS}, {EPOCHS} epochs"
    scores = {
        "clean accuracy": (robust.score(X_test, y_test), normal.score(X_test, y_test)),
        "accuracy under PGD-20": tuple(_attacked_accuracy(clf, X_test, y_test, EPS) for clf in (robust, normal)),
    }
    return [
        {
            "estimator": "AdversarialTrainingClassifier",
            "task": task,
            "metric": metric,
            "ours": float(ours),
            "baseline": float(baseline),
            "baseline_name": BASELINE_NAME,
        }
        for metric, (ours, baseline) in scores.items()
    ]
