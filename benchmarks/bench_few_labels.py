"""Few labels: the semi-supervised GAN classifier against label propagation, self-training, VAT and labelled-only networks.

Tables:

(a) ``load_digits`` (pixels / 16, flat 64-pixel rows), 1,257 training / 540
    test rows (stratified split of each seed), a balanced labelled subset of
    50 or 100 training rows, the other training rows unlabelled (``y == -1``);
    test accuracy;
(b) UCI Adult (``sklearn_adv.datasets.load_adult``): 4,000 rows of
    ``adult.data`` of which 200 or 1,000 labelled (stratified), the others
    unlabelled; ROC AUC on 4,000 rows of ``adult.test``, with its standard
    error over seeds (rows to which LabelSpreading propagates no label, whose
    probabilities are 0/0, get the labelled rows' positive share). Numeric columns standardised and categorical columns
    one-hot (an encoder fitted on the training rows) for the baselines; ours
    and the labelled-only network take the DataFrame (the same encoding);
(c) calibration: expected calibration error (15 bins of the top probability)
    with and without label smoothing, at its accuracy: DANN on
    ``make_digit_shift("rotate", 30)`` (target rows), the semi-supervised
    GAN on digits with 50 labels;
(d) ``GANAugmenter``'s discriminator options, one-sided label smoothing
    (0.1) and discriminator mixup (alpha 0.2), against the defaults:
    train-on-synthetic ROC AUC (gradient boosting trained on synthetic rows,
    tested on real held-out rows) and detector ROC AUC (a classifier telling
    synthetic from real rows; 0.5 is indistinguishable) of
    ``sklearn_adv.augmentation.quality.quality_report``; Adult (2,000 rows,
    a short budget of 30 epochs) and digits (as 8x8 images, 1,257 rows, 30
    epochs).

Methods of (a) and (b):

* labelled-only network: ``NeuralClassifier`` with the semi-supervised
  GAN's first discriminator network (MLP 500-250-250, weight norm, Gaussian
  noise; the default is now 256-128), trained on the labelled rows alone at
  its defaults: the reference of the fit times;
* ``LabelSpreading`` (knn kernel, and rbf kernel with gamma 20 on digits,
  the scale of the pixels; its default gamma on Adult), defaults otherwise;
* ``SelfTrainingClassifier`` over ``SVC(probability=True)`` (digits) or
  ``LogisticRegression`` (Adult), defaults;
* VAT (Miyato et al. 2018), written here compactly: an MLP 256-256 trained on
  the labelled rows' cross-entropy plus the virtual adversarial loss on
  unlabelled rows (xi 1, eps 0.5 on digits and 1.0 on Adult's standardised
  rows, one power iteration, 2,000 steps);
* ours: ``SemiSupervisedGANClassifier`` at its defaults (about 700
  steps: 54 epochs of digits, 18 of Adult's 4,000 rows).

Fit times are CPU seconds of one thread (less disturbed by other processes
than wall time); "x alone" is the ratio to the labelled-only network.

Usage::

    python benchmarks/bench_few_labels.py [--seeds 3] [--quick] [--digits-only]

Writes benchmarks/results/bench_few_labels.txt (``--digits-only``: tables (a)
and the GAN's part of (c), in bench_few_labels_digits.txt; ``--quick``: with
the suffix ``_quick``).
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.compose import ColumnTransformer, make_column_selector  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier  # noqa: E402
from sklearn.svm import SVC  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sklearn_adv import DomainAdversarialClassifier, GANAugmenter, NeuralClassifier, SemiSupervisedGANClassifier  # noqa: E402
from sklearn_adv.augmentation.quality import quality_report  # noqa: E402
from sklearn_adv.datasets import load_adult, make_digit_shift  # noqa: E402

torch.set_num_threads(1)
warnings.filterwarnings("ignore")

# The semi-supervised GAN's first discriminator network, for the labelled-only network (the time reference).
SAME_NETWORK = dict(
    encoder="mlp", encoder__hidden_units=(500, 250, 250), encoder__weight_norm=True, encoder__input_noise=0.3,
    encoder__noise=0.3,
)


# -- data -------------------------------------------------------------------------


def balanced_labels(y, n_labels, rng):
    """``y`` with all but ``n_labels`` rows set to -1, the labelled ones spread evenly (stratified) over classes."""
    classes = np.unique(y)
    labelled = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), n_labels // len(classes), replace=False) for c in classes]
    )
    partial = np.full(len(y), -1)
    partial[labelled] = y[labelled]
    return partial


def digits(seed, n_labels):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=540, stratify=y, random_state=seed)
    return X_train, balanced_labels(y_train, n_labels, np.random.RandomState(seed)), X_test, y_test


def adult(seed, n_labels, n_train=4000, n_test=4000):
    X, y = load_adult(return_X_y=True)
    X_test, y_test = load_adult(subset="test", return_X_y=True)
    y, y_test = np.asarray(y == y.max(), dtype=int), np.asarray(y_test == y_test.max(), dtype=int)
    rng = np.random.RandomState(seed)
    rows = rng.choice(len(X), n_train, replace=False)
    X, y = X.iloc[rows].reset_index(drop=True), y[rows]
    test_rows = rng.choice(len(X_test), n_test, replace=False)
    X_test, y_test = X_test.iloc[test_rows].reset_index(drop=True), y_test[test_rows]
    # Stratified labels: the classes in their proportions (about 24% positive).
    labelled, _ = train_test_split(np.arange(n_train), train_size=n_labels, stratify=y, random_state=seed)
    partial = np.full(n_train, -1)
    partial[labelled] = y[labelled]
    return X, partial, X_test, y_test


def encoded(X_train, X_test):
    encoder = ColumnTransformer(
        [
            ("num", StandardScaler(), make_column_selector(dtype_include="number")),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), make_column_selector(dtype_exclude="number")),
        ]
    )
    return encoder.fit_transform(X_train).astype(np.float32), encoder.transform(X_test).astype(np.float32)


# -- VAT --------------------------------------------------------------------------


def fit_vat(X, y_partial, seed, eps, xi=1.0, steps=2000, hidden=(256, 256), lr=1e-3):
    """An MLP trained on cross-entropy of the labelled rows plus the virtual adversarial loss of the unlabelled rows."""
    torch.manual_seed(seed)
    classes = np.unique(y_partial[y_partial >= 0])
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
    labelled = np.flatnonzero(y_partial >= 0)
    X_l, y_l = X[labelled], torch.as_tensor(np.searchsorted(classes, y_partial[labelled]))
    layers, width = [], X.shape[1]
    for units in hidden:
        layers += [nn.Linear(width, units), nn.ReLU()]
        width = units
    model = nn.Sequential(*layers, nn.Linear(width, len(classes)))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def unit(d):
        return d / (d.flatten(1).norm(dim=1, keepdim=True) + 1e-12)

    for _ in range(steps):
        rows_l = torch.randint(len(X_l), (64,))
        x_u = X[torch.randint(len(X), (128,))]
        with torch.no_grad():
            p = F.softmax(model(x_u), dim=1)
        d = (xi * unit(torch.randn_like(x_u))).requires_grad_(True)
        kl = F.kl_div(F.log_softmax(model(x_u + d), dim=1), p, reduction="batchmean")
        (grad,) = torch.autograd.grad(kl, d)
        r_adv = eps * unit(grad)
        vat = F.kl_div(F.log_softmax(model(x_u + r_adv), dim=1), p, reduction="batchmean")
        loss = F.cross_entropy(model(X_l[rows_l]), y_l[rows_l]) + vat
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def predict_proba(X_new):
        with torch.no_grad():
            return F.softmax(model(torch.as_tensor(np.asarray(X_new, dtype=np.float32))), dim=1).numpy()

    return classes, predict_proba


# -- methods ----------------------------------------------------------------------


def run(method, task, X, y_partial, X_test, y_test, seed, quick):
    """(test score, top probabilities or None, CPU seconds of the fit) of ``method``."""
    start = time.process_time()
    labelled = y_partial >= 0
    if method == "labelled-only network":
        model = NeuralClassifier(random_state=seed, **SAME_NETWORK).fit(X[labelled], y_partial[labelled])
        proba = model.predict_proba
    elif method == "ours":
        quick_epochs = {"max_epochs": 11 if task == "digits" else 4} if quick else {}
        model = SemiSupervisedGANClassifier(random_state=seed, **quick_epochs).fit(X, y_partial)
        proba = model.predict_proba
    elif method == "ours, label_smoothing=0.1":
        quick_epochs = {"max_epochs": 11} if quick else {}
        model = SemiSupervisedGANClassifier(label_smoothing=0.1, random_state=seed, **quick_epochs).fit(X, y_partial)
        proba = model.predict_proba
    else:
        if task == "adult":
            X, X_test = encoded(X, X_test)
        if method == "VAT":
            _, proba = fit_vat(X, y_partial, seed, eps=0.5 if task == "digits" else 1.0, steps=2000 // (5 if quick else 1))
        else:
            model = {
                "LabelSpreading (knn)": LabelSpreading(kernel="knn"),
                "LabelSpreading (rbf)": LabelSpreading(kernel="rbf", gamma=20) if task == "digits" else LabelSpreading(),
                "SelfTraining": SelfTrainingClassifier(
                    SVC(probability=True, random_state=seed) if task == "digits" else LogisticRegression(max_iter=1000)
                ),
            }[method].fit(X, y_partial)
            proba = model.predict_proba
    seconds = time.process_time() - start
    p = proba(X_test)
    if task == "adult":
        # LabelSpreading leaves rows it cannot reach (no labelled neighbour) at 0/0: they get the labelled share.
        return roc_auc_score(y_test, np.nan_to_num(p[:, 1], nan=y_partial[labelled].mean())), None, seconds
    return accuracy_score(y_test, p.argmax(axis=1)), p, seconds


def expected_calibration_error(proba, y, n_bins=15):
    """Mean over 15 equal-width bins of the top probability of |accuracy - confidence|, weighted by the bin's rows."""
    confidence, correct = proba.max(axis=1), (proba.argmax(axis=1) == y)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    return sum(
        (bins == b).mean() * abs(correct[bins == b].mean() - confidence[bins == b].mean())
        for b in range(n_bins)
        if np.any(bins == b)
    )


METHODS = ["labelled-only network", "LabelSpreading (knn)", "LabelSpreading (rbf)", "SelfTraining", "VAT", "ours"]


def table(task, n_labels, seeds, quick, extra_methods=()):
    load = digits if task == "digits" else adult
    scores = {m: [] for m in [*METHODS, *extra_methods]}
    times, probas = {m: [] for m in scores}, {m: [] for m in scores}
    tests = []
    for seed in seeds:
        X, y_partial, X_test, y_test = load(seed, n_labels)
        tests.append(y_test)
        for method in scores:
            score, proba, seconds = run(method, task, X, y_partial, X_test, y_test, seed, quick)
            scores[method].append(score)
            times[method].append(seconds)
            probas[method].append(proba)
            print(f"  {task} {n_labels} seed {seed} {method}: {score:.4f} ({seconds:.1f} s cpu)", flush=True)
    metric = "accuracy" if task == "digits" else "ROC AUC"
    alone = np.mean(times["labelled-only network"])
    lines = [f"{task}, {n_labels} labels, {len(seeds)} seeds: {metric} mean ± standard error (min), CPU s per fit, x alone"]
    for method in scores:
        values = np.array(scores[method])
        se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else np.nan
        lines.append(
            f"  {method:<28} {values.mean():.4f} ± {se:.4f} (min {values.min():.4f})   "
            f"{np.mean(times[method]):7.1f} s   {np.mean(times[method]) / alone:6.1f}x"
        )
    return lines, scores, probas, tests


def calibration_dann(seeds, quick):
    rows = []
    for smoothing in (0.0, 0.1):
        accuracy, ece = [], []
        for seed in seeds:
            (X_s, y_s), (X_t, y_t) = make_digit_shift("rotate", angle=30, random_state=seed)
            X = np.concatenate([X_s, X_t]).reshape(-1, 64)
            y = np.r_[y_s, np.full(len(y_t), -1)]
            model = DomainAdversarialClassifier(
                label_smoothing=smoothing, max_epochs=100 // (5 if quick else 1), random_state=seed
            ).fit(X, y)
            proba = model.predict_proba(X_t.reshape(-1, 64))
            accuracy.append(accuracy_score(y_t, proba.argmax(axis=1)))
            ece.append(expected_calibration_error(proba, y_t))
        rows.append(f"  DANN, digits rotated 30 deg, label_smoothing={smoothing}: target accuracy {np.mean(accuracy):.4f}, "
                    f"ECE {np.mean(ece):.4f} (per seed {', '.join(f'{e:.3f}' for e in ece)})")
    return rows


def gan_options(quick):
    rows = []
    X, y = load_adult(return_X_y=True)
    y = np.asarray(y == y.max(), dtype=int)
    train, holdout = train_test_split(np.arange(len(X)), train_size=2000, test_size=2000, stratify=y, random_state=0)
    X_digits, y_digits = load_digits(return_X_y=True)
    X_digits = (X_digits / 16.0).reshape(-1, 8, 8)
    d_train, d_holdout = train_test_split(np.arange(len(X_digits)), test_size=540, stratify=y_digits, random_state=0)
    data = {
        "Adult": (X.iloc[train], y[train], X.iloc[holdout], y[holdout]),
        "digits": (X_digits[d_train], y_digits[d_train], X_digits[d_holdout], y_digits[d_holdout]),
    }
    options = {
        "defaults": {},
        "one-sided smoothing 0.1": {"discriminator_label_smoothing": 0.1},
        "discriminator mixup 0.2": {"discriminator_mixup": 0.2},
    }
    for name, (X_train, y_train, X_hold, y_hold) in data.items():
        for label, params in options.items():
            start = time.process_time()
            gan = GANAugmenter(max_epochs=30 // (5 if quick else 1), random_state=0, **params).fit(X_train, y_train)
            seconds = time.process_time() - start
            X_syn, y_syn = gan.sample(len(X_train), random_state=0)
            report = quality_report(
                X_train, X_syn, X_hold, y_train=y_train, y_synthetic=y_syn, y_holdout=y_hold,
                sections=["fidelity", "utility"], random_state=0,
            ).set_index("metric")
            tstr, detector = report.loc["TSTR ROC AUC", "value"], report.loc["detector ROC AUC", "value"]
            rows.append(f"  {name:<7} {label:<26} train-on-synthetic AUC {float(tstr):.4f}   detector AUC "
                        f"{float(detector):.4f}   {seconds:6.1f} s")
            print(rows[-1], flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 seed, a fifth of the steps, for development")
    parser.add_argument("--digits-only", action="store_true", help="the digits tables and their calibration only")
    args = parser.parse_args()
    seeds = list(range(1 if args.quick else args.seeds))
    lines = [
        f"Few labels: sklearn_adv.SemiSupervisedGANClassifier vs scikit-learn's semi-supervised estimators and VAT "
        f"(torch {torch.__version__}, one thread), {len(seeds)} seeds",
        "",
    ]
    # Warm-up: torch imports parts of itself on the first optimizer step.
    X, y_partial, _, _ = digits(0, 50)
    NeuralClassifier(max_epochs=2, random_state=0).fit(X[y_partial >= 0], y_partial[y_partial >= 0])
    SemiSupervisedGANClassifier(max_epochs=1, random_state=0).fit(X, y_partial)
    calibration = []
    tasks = (("digits", (50, 100)),) if args.digits_only else (("digits", (50, 100)), ("adult", (200, 1000)))
    for task, counts in tasks:
        for n_labels in counts:
            extra = ("ours, label_smoothing=0.1",) if (task, n_labels) == ("digits", 50) else ()
            rows, scores, probas, tests = table(task, n_labels, seeds, args.quick, extra)
            lines += [*rows, ""]
            print("\n".join(rows), flush=True)
            if extra:
                for method in ("ours", *extra):
                    ece = [expected_calibration_error(p, y) for p, y in zip(probas[method], tests)]
                    calibration.append(f"  {method}, digits 50 labels: accuracy {np.mean(scores[method]):.4f}, "
                                       f"ECE {np.mean(ece):.4f} (per seed {', '.join(f'{e:.3f}' for e in ece)})")
    lines += ["Calibration: expected calibration error (15 bins), with and without label smoothing", *calibration]
    if not args.digits_only:
        lines += [*calibration_dann(seeds, args.quick), ""]
        lines += ["GANAugmenter's discriminator options (seed 0; 30 epochs, a short budget)", *gan_options(args.quick)]
    print("\n".join(lines), flush=True)
    name = "bench_few_labels" + ("_digits" if args.digits_only else "") + ("_quick" if args.quick else "")
    out = REPO / "benchmarks" / "results" / f"{name}.txt"
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
