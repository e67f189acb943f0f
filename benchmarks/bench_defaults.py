"""Defaults suite: every estimator at its defaults, on data none of the other benchmarks tune for.

Each estimator gets only what a user must give (``n_clusters``, ``sensitive``,
target rows marked -1) and ``random_state``; every other parameter is its
default. Each family runs a registry of cases (small to large, narrow to wide,
numeric, categorical and mixed, balanced and imbalanced; for images several
kinds of variation; for domain adaptation several kinds and strengths of
shift and one label-shift case) against the family's honest baselines:

* ``dann``: ``DomainAdversarialClassifier`` against the same network trained
  without adaptation (``adversary_weight=0``: the target rows then shape no
  weight) and a standardised ``MLPClassifier`` trained on the source rows;
  accuracy on the unlabelled target rows seen in training (transductive).
* ``gan``: gradient boosting trained on ``GANAugmenter`` rows only (as many as
  the real training rows, with the real labels) against the same model
  trained on the real rows; ROC AUC on held-out real rows.
* ``tick``: ``TICKMeans`` against KMeans on the pixels and KMeans after moving
  each image's centre of mass to the image centre; clustering accuracy
  (clusters matched to classes one-to-one, Hungarian algorithm).
* ``fair``: ``FairClassifier`` against a logistic regression and fairlearn's
  ``ExponentiatedGradient`` (logistic regression, demographic parity), both on
  the same one-hot and standardised columns; accuracy and demographic-parity
  difference on held-out rows.
* ``mixup``: a classifier after ``MixupTransformer`` (and a ``GridSearchCV``
  over ``alpha`` including 0) against the same classifier without mixup;
  held-out accuracy.

Every case runs for 3 seeds (the seed draws the data, the split and the
estimators' own randomness), and each comparison is paired by seed: the mean
of the per-seed differences, ours minus the baseline, and its standard error
(standard deviation over seeds / sqrt(seeds)). A comparison is a *win* when the
mean difference in ours' favour exceeds both twice its standard error and a
small practical margin (0.01 for accuracies, AUCs and parity gaps), a *lose*
when it does so in the baseline's favour, and a *tie* otherwise. The goals of
the issue on defaults are checked per family at the end (met / NOT met, with
the numbers). Fit times are CPU seconds of our estimator's fit, one thread.

Usage::

    python benchmarks/bench_defaults.py [--quick] [--family NAME] [--jobs N]

``--quick`` runs each family's small cases for one seed (development only: no
standard errors, so no verdicts). ``--family`` runs one family (dann, gan,
tick, fair, mixup). ``--jobs`` runs (case, seed) tasks in parallel processes.
Writes benchmarks/results/bench_defaults.txt for the full suite (other
selections: bench_defaults_<selection>.txt).
"""

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from fairlearn.metrics import demographic_parity_difference  # noqa: E402
from fairlearn.reductions import DemographicParity, ExponentiatedGradient  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from scipy import ndimage  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, make_classification, make_moons  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _shared import centre_of_mass, clustering_accuracy  # noqa: E402

from sklearn_adv import (  # noqa: E402
    DomainAdversarialClassifier,
    FairClassifier,
    GANAugmenter,
    MixupTransformer,
    TICKMeans,
)
from sklearn_adv.datasets import load_adult, load_digit_images, make_digit_shift, make_transformed_digits  # noqa: E402
from sklearn_adv.pipeline import make_pipeline  # noqa: E402

SEEDS = (0, 1, 2)
# A difference smaller than this is no practical difference, however small its standard error.
MARGIN = 0.01


# -- registry -------------------------------------------------------------------------------


@dataclass
class Case:
    """One data set of a family: ``make(seed, quick)`` returns the data the family's ``evaluate`` takes."""

    name: str
    describe: str
    make: Callable
    quick: bool = False  # part of --quick
    n_seeds: int = 3  # large cases whose defaults take minutes per fit run fewer seeds (no standard error then)
    tags: tuple = ()  # read by the family's goals, e.g. "label-shift"


@dataclass
class Family:
    """Our estimator at its defaults, its baselines, the scores compared, and the issue's goals."""

    name: str
    ours: str
    baselines: tuple
    # (score name, +1 if higher is better, -1 if lower is better)
    metrics: tuple
    evaluate: Callable  # (data, seed) -> {method: {score: value}}, plus "_fit_s" for ours' CPU seconds
    cases: list = field(default_factory=list)
    goals: Callable = None  # (family, results) -> list of (met, text)


def cpu_timed(fit):
    start = time.process_time()
    model = fit()
    return model, time.process_time() - start


# -- shared data helpers --------------------------------------------------------------------


def adult(n_rows, seed, columns=None):
    """``n_rows`` training rows of the packaged UCI Adult and as many test rows (all when fewer)."""
    X, y = load_adult(return_X_y=True)
    X_test, y_test = load_adult(subset="test", return_X_y=True)
    if columns is not None:
        X, X_test = X[columns], X_test[columns]
    rng = np.random.RandomState(seed)
    train = rng.choice(len(X), min(n_rows, len(X)), replace=False)
    test = rng.choice(len(X_test), min(max(n_rows, 2000), len(X_test)), replace=False)
    return (
        X.iloc[train].reset_index(drop=True),
        np.asarray(y)[train],
        X_test.iloc[test].reset_index(drop=True),
        np.asarray(y_test)[test],
    )


def table(n_rows, n_features, seed, weights=None, n_categorical=0, n_classes=2):
    """A generated classification table; the last ``n_categorical`` columns binned into 5 string levels."""
    X, y = make_classification(
        n_rows,
        n_features,
        n_informative=max(2, n_features // 4),
        n_redundant=max(0, n_features // 10),
        n_classes=n_classes,
        weights=weights,
        flip_y=0.05,
        random_state=seed,
    )
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(n_features)])
    for name in frame.columns[n_features - n_categorical :]:
        bins = pd.qcut(frame[name], 5, labels=["a", "b", "c", "d", "e"])
        frame[name] = pd.Categorical(bins.astype(str))
    return frame, y


def split(X, y, seed, test_size=0.3):
    """(X_train, y_train, X_test, y_test), stratified."""
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)
    return X_train, y_train, X_test, y_test


def one_hot_scaler():
    """One-hot for categorical columns, standardisation for the numeric ones."""
    return make_column_transformer(
        (
            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
            lambda X: [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])],
        ),
        remainder=StandardScaler(),
    )


def as_frame(X):
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])


# -- DomainAdversarialClassifier ------------------------------------------------------------


def rotate(X, degrees):
    theta = np.radians(degrees)
    return X @ np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]).T


def moons_shift(angle=0.0, scale=1.0, n=600, target_positive=None):
    def make(seed, quick):
        X_s, y_s = make_moons(n, noise=0.1, random_state=seed)
        X_t, y_t = make_moons(n if target_positive is None else 3 * n, noise=0.1, random_state=seed + 1000)
        if target_positive is not None:  # label shift: the same inputs per class, other class proportions
            rng = np.random.RandomState(seed)
            n_pos = int(target_positive * n)
            keep = np.r_[
                rng.choice(np.flatnonzero(y_t == 1), n_pos, replace=False),
                rng.choice(np.flatnonzero(y_t == 0), n - n_pos, replace=False),
            ]
            X_t, y_t = X_t[keep], y_t[keep]
        centre = X_s.mean(axis=0)
        X_t = centre + scale * rotate(X_t - centre, angle)
        return X_s, y_s, X_t, y_t

    return make


def sensor_shift(n_rows, n_features, offset=0.0, gain_spread=0.0):
    """Two halves of a generated table; the target's sensors read ``offset`` standard deviations too high
    on a quarter of the columns and with gains drawn in [1 - gain_spread, 1 + gain_spread] on every column."""

    def make(seed, quick):
        X, y = make_classification(
            n_rows,
            n_features,
            n_informative=max(2, n_features // 4),
            n_redundant=max(0, n_features // 10),
            flip_y=0.02,
            random_state=seed,
        )
        X_s, y_s, X_t, y_t = split(X, y, seed, test_size=0.5)
        rng = np.random.RandomState(seed + 1)
        shifted = rng.choice(n_features, max(1, n_features // 4), replace=False)
        X_t = X_t * rng.uniform(1 - gain_spread, 1 + gain_spread, n_features)
        X_t[:, shifted] += offset * X_s[:, shifted].std(axis=0)
        return X_s, y_s, X_t, y_t

    return make


def digit_shift(transformation, strength):
    """``make_digit_shift``'s halves, flat rows; 'contrast' maps v to 0.5 + strength * (v - 0.5)."""

    def make(seed, quick):
        if transformation == "contrast":
            (X_s, y_s), (X_t, y_t) = make_digit_shift("rotate", angle=0, random_state=seed)
            X_t = 0.5 + strength * (X_t - 0.5)
        else:
            (X_s, y_s), (X_t, y_t) = make_digit_shift(transformation, angle=strength, random_state=seed)
        return X_s.reshape(len(X_s), -1), y_s, X_t.reshape(len(X_t), -1), y_t

    return make


def adult_sex_shift(n_per_domain):
    """Men with labels as source, women without as target (categorical and numeric columns)."""

    def make(seed, quick):
        X, y = load_adult(return_X_y=True)
        y = np.asarray(y)
        rng = np.random.RandomState(seed)
        men = rng.choice(np.flatnonzero(X["sex"] == "Male"), n_per_domain, replace=False)
        women = rng.choice(np.flatnonzero(X["sex"] == "Female"), n_per_domain, replace=False)
        X = X.drop(columns="sex")
        return X.iloc[men].reset_index(drop=True), y[men], X.iloc[women].reset_index(drop=True), y[women]

    return make


def evaluate_dann(data, seed):
    X_s, y_s, X_t, y_t = data
    if isinstance(X_s, pd.DataFrame):
        X = pd.concat([X_s, X_t], ignore_index=True)
    else:
        X = np.vstack([X_s, X_t])
    y = np.r_[y_s, -np.ones(len(X_t), dtype=int)]
    ours, seconds = cpu_timed(lambda: DomainAdversarialClassifier(random_state=seed).fit(X, y))
    source_only = DomainAdversarialClassifier(adversary_weight=0, random_state=seed).fit(X, y)
    prep = one_hot_scaler() if isinstance(X_s, pd.DataFrame) else StandardScaler()
    mlp = make_pipeline(prep, MLPClassifier(random_state=seed)).fit(X_s, y_s)
    return {
        "DANN": {"accuracy": ours.score(X_t, y_t)},
        "source-only": {"accuracy": source_only.score(X_t, y_t)},
        "MLP": {"accuracy": mlp.score(X_t, y_t)},
        "_fit_s": seconds,
    }


def dann_goals(family, results):
    goals = []
    for case in family.cases:
        if case.name not in results or "_errors" in results[case.name]:
            continue
        r = results[case.name]
        ours, src, mlp = (np.mean(r[m]["accuracy"]) for m in ("DANN", "source-only", "MLP"))
        if "label-shift" in case.tags:
            goals.append((ours >= src - 0.02, f"{case.name}: DANN {ours:.3f} >= source-only {src:.3f} - 0.02"))
            continue
        goals.append((ours >= src + 0.05, f"{case.name}: DANN {ours:.3f} >= source-only {src:.3f} + 0.05"))
        goals.append(
            (ours >= max(src, mlp) - 0.01, f"{case.name}: DANN {ours:.3f} >= max(source-only, MLP) {max(src, mlp):.3f} - 0.01")
        )
        if "rotated-moons" in case.tags:
            goals.append((ours >= 0.90, f"{case.name}: DANN {ours:.3f} >= 0.90"))
    return goals


DANN = Family(
    name="dann",
    ours="DANN",
    baselines=("source-only", "MLP"),
    metrics=(("accuracy", +1),),
    evaluate=evaluate_dann,
    goals=dann_goals,
    cases=[
        Case(
            "moons-rot35",
            "two moons, 600 + 600 rows, target rotated 35 deg",
            moons_shift(angle=35),
            quick=True,
            tags=("rotated-moons",),
        ),
        Case("moons-rot20", "two moons, 300 + 300 rows, target rotated 20 deg", moons_shift(angle=20, n=300)),
        Case("moons-scale1.5", "two moons, 600 + 600 rows, target scaled 1.5x about the centre", moons_shift(scale=1.5)),
        Case(
            "table-offset1",
            "20 numeric columns, 1,000 + 1,000 rows, sensor offset 1 sd on 5 columns",
            sensor_shift(2000, 20, offset=1.0),
        ),
        Case(
            "table-offset2-gain",
            "20 numeric columns, 1,000 + 1,000 rows, offset 2 sd on 5 columns, gains 0.5-1.5",
            sensor_shift(2000, 20, offset=2.0, gain_spread=0.5),
        ),
        Case(
            "wide-gain",
            "120 numeric columns, 1,000 + 1,000 rows, gains 0.3-1.7 on every column",
            sensor_shift(2000, 120, gain_spread=0.7),
        ),
        Case("digits-rot30", "load_digits halves (flat 64 pixels), target rotated 30 deg", digit_shift("rotate", 30), quick=True),
        Case("digits-blur", "load_digits halves, target blurred (sigma 1 px)", digit_shift("blur", 0)),
        Case("digits-contrast0.4", "load_digits halves, target contrast x0.4 about mid-grey", digit_shift("contrast", 0.4)),
        Case("adult-men-women", "UCI Adult, 2,000 men labelled, 2,000 women unlabelled (mixed columns)", adult_sex_shift(2000)),
        Case(
            "large-offset1.5-1seed",
            "20 numeric columns, 15,000 + 15,000 rows, offset 1.5 sd on 5 columns",
            sensor_shift(30000, 20, offset=1.5),
            n_seeds=1,
        ),
        Case(
            "moons-label-shift",
            "two moons, no covariate shift, target 85% class 1 (source 50%)",
            moons_shift(target_positive=0.85),
            tags=("label-shift",),
        ),
    ],
)


# -- GANAugmenter ---------------------------------------------------------------------------


def gan_table(loader):
    def make(seed, quick):
        return loader(seed)

    return make


def adult_table(n_rows, columns=None):
    return gan_table(lambda seed: adult(n_rows, seed, columns))


def generated_table(n_rows, n_features, weights=None, n_categorical=0):
    def load(seed):
        X, y = table(int(n_rows / 0.7), n_features, seed, weights=weights, n_categorical=n_categorical)
        return split(X, y, seed)

    return gan_table(load)


def breast_cancer(seed):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return split(X, np.asarray(y), seed)


def hgb_auc(X_train, y_train, X_test, y_test, seed):
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed).fit(X_train, y_train)
    return roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])


def exact_copies(synthetic, real):
    """Synthetic rows equal to some real row in every column."""
    real_rows = set(map(tuple, real.astype(str).to_numpy()))
    return sum(row in real_rows for row in map(tuple, synthetic.astype(str).to_numpy()))


def evaluate_gan(data, seed):
    X_train, y_train, X_test, y_test = data
    gan, seconds = cpu_timed(lambda: GANAugmenter(random_state=seed).fit(X_train, y_train))
    X_syn, y_syn = gan.sample(len(X_train), y=y_train, random_state=seed)
    X_syn = pd.DataFrame(X_syn, columns=X_train.columns).astype(X_train.dtypes.to_dict())
    return {
        "GAN rows": {"roc_auc": hgb_auc(X_syn, np.asarray(y_syn), X_test, y_test, seed), "copies": exact_copies(X_syn, X_train)},
        "real rows": {"roc_auc": hgb_auc(X_train, y_train, X_test, y_test, seed)},
        "_fit_s": seconds,
    }


def gan_goals(family, results):
    goals = []
    for case in family.cases:
        if case.name not in results or "_errors" in results[case.name]:
            continue
        r = results[case.name]
        ratio = np.mean(r["GAN rows"]["roc_auc"]) / np.mean(r["real rows"]["roc_auc"])
        fit_s, copies = max(r["_fit_s"]), int(np.sum(r["GAN rows"]["copies"]))
        goals.append((ratio >= 0.90, f"{case.name}: synthetic/real ROC AUC {ratio:.3f} >= 0.90"))
        goals.append((fit_s <= 180, f"{case.name}: slowest fit {fit_s:.0f} CPU s <= 180"))
        goals.append((copies == 0, f"{case.name}: {copies} exact copies of training rows == 0"))
    return goals


GAN = Family(
    name="gan",
    ours="GAN rows",
    baselines=("real rows",),
    metrics=(("roc_auc", +1),),
    evaluate=evaluate_gan,
    goals=gan_goals,
    cases=[
        Case("adult-500", "UCI Adult, 500 training rows (8 categorical, 6 numeric)", adult_table(500), quick=True),
        Case("adult-2000", "UCI Adult, 2,000 training rows", adult_table(2000)),
        Case(
            "adult-categorical-1000",
            "UCI Adult's 8 categorical columns only, 1,000 rows",
            adult_table(
                1000, ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex", "native-country"]
            ),
        ),
        Case("numeric-700", "generated, 700 rows, 10 numeric columns", generated_table(700, 10), quick=True),
        Case(
            "mixed-imbalanced-2000",
            "generated, 2,000 rows, 12 numeric + 8 categorical columns, 10% positive",
            generated_table(2000, 20, weights=[0.9], n_categorical=8),
        ),
        Case("wide-1000", "generated, 1,000 rows, 100 numeric columns", generated_table(1000, 100)),
        Case("breast-cancer", "load_breast_cancer, 398 training rows, 30 numeric columns", gan_table(breast_cancer)),
        Case("adult-30000-1seed", "UCI Adult, 30,000 training rows", adult_table(30000), n_seeds=1),
    ],
)


# -- TICKMeans ------------------------------------------------------------------------------


def placed_digits(
    canvas=12, max_shift=2, max_rotation=0.0, brightness=0.0, max_blur=0.0, noise=0.0, classes=10, copies=1, n_rows=None
):
    """Digits on a canvas, each with its own shift, rotation, brightness factor in [1 - b, 1 + b],
    Gaussian blur of sigma in [0, max_blur] and Gaussian noise of standard deviation ``noise`` (pixels in [0, 1])."""

    def make(seed, quick):
        rng = np.random.RandomState(seed)
        images, labels = load_digit_images()
        keep = labels < classes
        images, labels = np.tile(images[keep], (copies, 1, 1)), np.tile(labels[keep], copies)
        if n_rows is not None:
            pick = rng.choice(len(labels), n_rows, replace=False)
            images, labels = images[pick], labels[pick]
        start = (canvas - 8) // 2
        out = np.zeros((len(images), canvas, canvas))
        for i, digit in enumerate(images):
            image = np.zeros((canvas, canvas))
            image[start : start + 8, start : start + 8] = digit
            if max_rotation:
                image = ndimage.rotate(image, rng.uniform(-max_rotation, max_rotation), reshape=False, order=1)
            if max_blur:
                image = ndimage.gaussian_filter(image, rng.uniform(0, max_blur))
            image = ndimage.shift(image, rng.randint(-max_shift, max_shift + 1, 2), order=0)
            out[i] = image * rng.uniform(1 - brightness, 1 + brightness)
        out = np.clip(out + rng.normal(scale=noise, size=out.shape), 0, None) if noise else np.clip(out, 0, None)
        return out, labels

    return make


def transformed_digits(seed, quick):
    return make_transformed_digits(random_state=seed)


def evaluate_tick(data, seed):
    images, y = data
    k = len(np.unique(y))
    tick, seconds = cpu_timed(lambda: TICKMeans(n_clusters=k, random_state=seed).fit(images))
    flat = images.reshape(len(images), -1)
    kmeans, kmeans_s = cpu_timed(lambda: KMeans(k, random_state=seed).fit(flat))
    centred = KMeans(k, random_state=seed).fit(centre_of_mass(images).reshape(len(images), -1))
    return {
        "TICKMeans": {"accuracy": clustering_accuracy(y, tick.labels_), "time_ratio": seconds / max(kmeans_s, 1e-3)},
        "KMeans": {"accuracy": clustering_accuracy(y, kmeans.labels_)},
        "centring + KMeans": {"accuracy": clustering_accuracy(y, centred.labels_)},
        "_fit_s": seconds,
    }


def tick_goals(family, results):
    goals = []
    for case in family.cases:
        if case.name not in results or "_errors" in results[case.name]:
            continue
        r = results[case.name]
        ours, centred = np.mean(r["TICKMeans"]["accuracy"]), np.mean(r["centring + KMeans"]["accuracy"])
        ratio = np.mean(r["TICKMeans"]["time_ratio"])
        goals.append((ours >= centred + 0.10, f"{case.name}: TICKMeans {ours:.3f} >= centring + KMeans {centred:.3f} + 0.10"))
        goals.append((ratio <= 10, f"{case.name}: TICKMeans / KMeans CPU time {ratio:.1f} <= 10"))
    return goals


TICK = Family(
    name="tick",
    ours="TICKMeans",
    baselines=("KMeans", "centring + KMeans"),
    metrics=(("accuracy", +1),),
    evaluate=evaluate_tick,
    goals=tick_goals,
    cases=[
        Case("digits-5-small", "digits 0-4, 400 images, 12x12, shift 2 px", placed_digits(classes=5, n_rows=400), quick=True),
        Case("shift-rotate", "make_transformed_digits: 1,797 images, 12x12, shift 2 px, rotation 20 deg", transformed_digits),
        Case("shift-large-canvas", "1,797 images, 16x16, shift 4 px", placed_digits(canvas=16, max_shift=4)),
        Case("rotation", "1,797 images, 12x12, rotation 30 deg, no shift", placed_digits(max_shift=0, max_rotation=30)),
        Case(
            "brightness30",
            "1,797 images, 14x14, shift 3 px, rotation 15 deg, brightness +-30%",
            placed_digits(canvas=14, max_shift=3, max_rotation=15, brightness=0.3),
            quick=True,
        ),
        Case("blur", "1,797 images, 12x12, shift 2 px, blur sigma 0-1.2 px", placed_digits(max_blur=1.2)),
        Case("noise", "1,797 images, 12x12, shift 2 px, noise sd 1/8 of the grey range", placed_digits(noise=0.125)),
        Case(
            "mixture",
            "1,797 images, 14x14, shift 3, rotation 20, brightness 30%, blur 0-1, noise 1/16",
            placed_digits(canvas=14, max_shift=3, max_rotation=20, brightness=0.3, max_blur=1.0, noise=0.0625),
        ),
        Case(
            "large-30000",
            "30,000 images (17 transformed copies of each digit), 12x12, shift 2, rotation 15",
            placed_digits(max_rotation=15, copies=17, n_rows=30000),
        ),
    ],
)


# -- FairClassifier -------------------------------------------------------------------------


def fair_adult(n_rows, sensitive, columns=None):
    def make(seed, quick):
        X, y, X_test, y_test = adult(n_rows, seed, columns)
        if sensitive == "race":  # two groups: White and the others
            for frame in (X, X_test):
                frame["race"] = pd.Categorical(np.where(frame["race"] == "White", "White", "Other"))
        return X, y, X_test, y_test, sensitive

    return make


def biased_table(n_rows, n_features, weights=None, n_categorical=0):
    """A generated table plus a binary ``group`` column: the group shifts the most informative column
    (so the label depends on it through the features) and the proxy columns correlate with it."""

    def make(seed, quick):
        X, y = table(int(n_rows / 0.7), n_features, seed, weights=weights, n_categorical=n_categorical)
        rng = np.random.RandomState(seed)
        group = (rng.uniform(size=len(y)) < 0.3 + 0.4 * y).astype(int)  # the positive class is mostly group 1
        X["group"] = pd.Categorical(np.where(group == 1, "A", "B"))
        X["x0"] = X["x0"] + 0.8 * group
        return (*split(X, y, seed), "group")

    return make


def evaluate_fair(data, seed):
    X, y, X_test, y_test, sensitive = data
    s, s_test = X[sensitive].astype(str), X_test[sensitive].astype(str)

    def scores(predicted):
        return {
            "accuracy": float(np.mean(predicted == y_test)),
            "dp_gap": demographic_parity_difference(y_test, predicted, sensitive_features=s_test),
        }

    ours, seconds = cpu_timed(lambda: FairClassifier(sensitive=sensitive, random_state=seed).fit(X, y))
    encoder = one_hot_scaler().fit(X)
    E, E_test = encoder.transform(X), encoder.transform(X_test)
    lr = LogisticRegression(max_iter=1000).fit(E, y)
    expgrad = ExponentiatedGradient(LogisticRegression(max_iter=1000), DemographicParity()).fit(E, y, sensitive_features=s)
    lr_scores = scores(lr.predict(E_test))
    return {
        "FairClassifier": scores(ours.predict(X_test)),
        "LogisticRegression": lr_scores,
        "ExponentiatedGradient": scores(expgrad.predict(E_test, random_state=seed)),
        "_reference": {"oracle_accuracy": threshold_oracle(lr.predict_proba(E_test)[:, 1], y_test, s_test,
                                                           lr_scores["dp_gap"] / 2)},
        "_fit_s": seconds,
    }


def threshold_oracle(scores, y, groups, max_gap, n_quantiles=101):
    """The best accuracy of per-group thresholds on ``scores`` whose parity gap is at most ``max_gap``.

    It reads the attribute and picks the thresholds on the rows it is scored on: no deployable model that
    does not read the attribute does better from these scores, so it tells whether a goal is reachable.
    Two groups (the larger two when there are more).
    """
    y, groups = np.asarray(y), np.asarray(groups)
    names, counts = np.unique(groups, return_counts=True)
    a, b = names[np.argsort(counts)[::-1][:2]]
    best = 0.0
    for threshold_a in np.quantile(scores[groups == a], np.linspace(0, 1, n_quantiles)):
        predicted_a = scores[groups == a] >= threshold_a
        right_a = np.sum(predicted_a == y[groups == a])
        for threshold_b in np.quantile(scores[groups == b], np.linspace(0, 1, n_quantiles)):
            predicted_b = scores[groups == b] >= threshold_b
            if abs(predicted_a.mean() - predicted_b.mean()) <= max_gap:
                best = max(best, (right_a + np.sum(predicted_b == y[groups == b])) / len(y))
    return float(best)


def fair_goals(family, results):
    goals = []
    for case in family.cases:
        if case.name not in results or "_errors" in results[case.name]:
            continue
        r = results[case.name]
        dp, acc = np.mean(r["FairClassifier"]["dp_gap"]), np.mean(r["FairClassifier"]["accuracy"])
        lr_dp, lr_acc = np.mean(r["LogisticRegression"]["dp_gap"]), np.mean(r["LogisticRegression"]["accuracy"])
        oracle = np.mean(r["_reference"]["oracle_accuracy"])
        goals.append(
            (
                dp <= lr_dp / 2 and acc >= lr_acc - 0.03,
                f"{case.name}: DP gap {dp:.3f} <= LR's {lr_dp:.3f} / 2 and accuracy {acc:.3f} >= LR's {lr_acc:.3f} - 0.03"
                f" (per-group thresholds on LR's scores, tuned on the test rows: {oracle:.3f} at half the gap)",
            )
        )
    return goals


FAIR = Family(
    name="fair",
    ours="FairClassifier",
    baselines=("LogisticRegression", "ExponentiatedGradient"),
    metrics=(("accuracy", +1), ("dp_gap", -1)),
    evaluate=evaluate_fair,
    goals=fair_goals,
    cases=[
        Case("adult-sex-500", "UCI Adult, 500 rows, sensitive sex (mixed columns)", fair_adult(500, "sex"), quick=True),
        Case("adult-sex-2000", "UCI Adult, 2,000 rows, sensitive sex", fair_adult(2000, "sex")),
        Case("adult-race-2000", "UCI Adult, 2,000 rows, sensitive race (White / other)", fair_adult(2000, "race")),
        Case(
            "adult-categorical-2000",
            "UCI Adult's categorical columns only, 2,000 rows, sensitive sex",
            fair_adult(
                2000,
                "sex",
                ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex", "native-country"],
            ),
        ),
        Case("numeric-1000", "generated, 1,000 rows, 10 numeric columns + group", biased_table(1000, 10), quick=True),
        Case(
            "imbalanced-2000",
            "generated, 2,000 rows, 16 numeric + 4 categorical + group, 15% positive",
            biased_table(2000, 20, weights=[0.85], n_categorical=4),
        ),
        Case("wide-2000", "generated, 2,000 rows, 120 numeric columns + group", biased_table(2000, 120)),
        Case("adult-sex-30000", "UCI Adult, 30,000 rows, sensitive sex", fair_adult(30000, "sex")),
    ],
)


# -- MixupTransformer -----------------------------------------------------------------------


def digits_rows(n_rows):
    def make(seed, quick):
        digits = load_digits()
        X_train, y_train, X_test, y_test = split(digits.data / 16.0, digits.target, seed)
        return X_train[:n_rows], y_train[:n_rows], X_test, y_test

    return make


def mixup_table(loader):
    def make(seed, quick):
        X_train, y_train, X_test, y_test = loader(seed)
        encoder = one_hot_scaler().fit(as_frame(X_train))  # mixup mixes encoded rows: categories mix as probabilities
        return encoder.transform(as_frame(X_train)), y_train, encoder.transform(as_frame(X_test)), np.asarray(y_test)

    return make


def moons_rows(n_rows):
    def make(seed, quick):
        X, y = make_moons(int(n_rows / 0.7), noise=0.3, random_state=seed)
        return split(X, y, seed)

    return mixup_table(lambda seed: make(seed, False))


def adult_rows(n_rows):
    def load(seed):
        return adult(n_rows, seed)

    return mixup_table(load)


def generated_rows(n_rows, n_features, weights=None):
    def load(seed):
        X, y = table(int(n_rows / 0.7), n_features, seed, weights=weights)
        return split(X, y, seed)

    return mixup_table(load)


MIXUP_GRID = {"mixuptransformer__alpha": [0.0, 0.2, 1.0]}


def evaluate_mixup(data, seed, make_classifier):
    X, y, X_test, y_test = data
    with_mixup, seconds = cpu_timed(lambda: make_pipeline(MixupTransformer(random_state=seed), make_classifier(seed)).fit(X, y))
    plain = make_classifier(seed).fit(X, y)
    grid = GridSearchCV(make_pipeline(MixupTransformer(random_state=seed), make_classifier(seed)), MIXUP_GRID, cv=3).fit(X, y)
    return {
        "mixup": {"accuracy": with_mixup.score(X_test, y_test)},
        "grid over alpha": {"accuracy": grid.score(X_test, y_test)},
        "no mixup": {"accuracy": plain.score(X_test, y_test)},
        "_fit_s": seconds,
    }


def logistic(seed):
    return LogisticRegression(max_iter=1000)


def mlp(seed):
    return MLPClassifier(random_state=seed)


def evaluate_mixup_case(data, seed):
    *rows, classifier = data
    return evaluate_mixup(rows, seed, {"LogisticRegression": logistic, "MLPClassifier": mlp}[classifier])


def with_classifier(make, classifier):
    return lambda seed, quick: (*make(seed, quick), classifier)


def mixup_goals(family, results):
    goals = []
    for case in family.cases:
        if case.name not in results or "_errors" in results[case.name]:
            continue
        r = results[case.name]
        diff, se = paired(r["grid over alpha"]["accuracy"], r["no mixup"]["accuracy"])
        worse = diff < 0 and -diff > 2 * se and -diff > MARGIN
        goals.append((not worse, f"{case.name}: grid over alpha (with 0) minus no mixup {diff:+.3f} +- {se:.3f}, not a loss"))
    return goals


MIXUP = Family(
    name="mixup",
    ours="mixup",
    baselines=("no mixup",),
    metrics=(("accuracy", +1),),
    evaluate=evaluate_mixup_case,
    goals=mixup_goals,
    cases=[
        Case(
            "digits-200-logistic",
            "load_digits, 200 training rows, 64 numeric columns, LogisticRegression",
            with_classifier(digits_rows(200), "LogisticRegression"),
            quick=True,
        ),
        Case(
            "digits-500-mlp", "load_digits, 500 training rows, MLPClassifier", with_classifier(digits_rows(500), "MLPClassifier")
        ),
        Case(
            "moons-300-mlp",
            "two moons (noise 0.3), 300 training rows, MLPClassifier",
            with_classifier(moons_rows(300), "MLPClassifier"),
            quick=True,
        ),
        Case(
            "breast-cancer-logistic",
            "load_breast_cancer, 398 training rows, 30 numeric columns",
            with_classifier(mixup_table(breast_cancer), "LogisticRegression"),
        ),
        Case(
            "adult-2000-logistic",
            "UCI Adult, 2,000 rows (mixed, one-hot before mixup)",
            with_classifier(adult_rows(2000), "LogisticRegression"),
        ),
        Case(
            "imbalanced-2000-logistic",
            "generated, 2,000 rows, 20 numeric columns, 10% positive",
            with_classifier(generated_rows(2000, 20, weights=[0.9]), "LogisticRegression"),
        ),
        Case(
            "wide-1000-logistic",
            "generated, 1,000 rows, 150 numeric columns",
            with_classifier(generated_rows(1000, 150), "LogisticRegression"),
        ),
        Case(
            "wide-1000-mlp",
            "generated, 1,000 rows, 150 numeric columns, MLPClassifier",
            with_classifier(generated_rows(1000, 150), "MLPClassifier"),
        ),
        Case(
            "adult-30000-logistic",
            "UCI Adult, 30,000 rows, LogisticRegression",
            with_classifier(adult_rows(30000), "LogisticRegression"),
        ),
    ],
)

FAMILIES = {family.name: family for family in (DANN, GAN, TICK, FAIR, MIXUP)}


# -- runner ---------------------------------------------------------------------------------


def paired(ours, baseline):
    """Mean paired difference and its standard error (NaN with one seed)."""
    diff = np.asarray(ours, dtype=float) - np.asarray(baseline, dtype=float)
    se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else np.nan
    return float(diff.mean()), float(se)


def verdict(diff, se, sign):
    """'win' when the difference in ours' favour exceeds 2 standard errors and the margin; 'lose' symmetric."""
    if np.isnan(se):
        return "n/a"
    gain = sign * diff
    if gain > 2 * se and gain > MARGIN:
        return "win"
    if -gain > 2 * se and -gain > MARGIN:
        return "lose"
    return "tie"


def run_task(family_name, case_index, seed, quick):
    family = FAMILIES[family_name]
    case = family.cases[case_index]
    warnings.filterwarnings("ignore")  # convergence and fit-time notices; the scores speak
    start = time.process_time()
    try:
        scores = family.evaluate(case.make(seed, quick), seed)
    except Exception as exc:  # one failing case is a finding, not the end of the suite
        scores = {"_error": f"{type(exc).__name__}: {exc}"}
    return family_name, case.name, seed, scores, time.process_time() - start


def collect(task_results):
    """{family: {case: {method: {score: [per seed]}, "_fit_s": [...], "_task_s": [...]}}}."""
    results = {}
    for family_name, case_name, _seed, scores, task_s in task_results:
        case = results.setdefault(family_name, {}).setdefault(case_name, {"_fit_s": [], "_task_s": []})
        if "_error" in scores:
            case.setdefault("_errors", []).append(f"seed {_seed}: {scores['_error']}")
            continue
        case["_fit_s"].append(scores.pop("_fit_s"))
        case["_task_s"].append(task_s)
        for method, values in scores.items():
            for score, value in values.items():
                case.setdefault(method, {}).setdefault(score, []).append(value)
    return results


def report_family(family, results, say):
    say(f"== {family.name}: {family.ours} at its defaults vs {', '.join(family.baselines)} ==")
    tally = {}
    for case in family.cases:
        if case.name not in results or "_errors" in results[case.name]:
            continue
        r = results[case.name]
        if "_errors" in r:
            say(f"-- {case.name}: {case.describe}: FAILED " + "; ".join(r["_errors"])[:300])
            continue
        say(
            f"-- {case.name}: {case.describe}"
            f"  (ours' fit {np.mean(r['_fit_s']):.1f} CPU s; case {np.sum(r['_task_s']):.0f} CPU s)"
        )
        for score, sign in family.metrics:
            methods = [m for m in r if not m.startswith("_") and score in r[m]]
            say("   " + score + ": " + ", ".join(f"{m} {np.mean(r[m][score]):.3f}" for m in methods))
            for ours in [m for m in methods if m not in family.baselines]:
                for baseline in family.baselines:
                    diff, se = paired(r[ours][score], r[baseline][score])
                    v = verdict(diff, se, sign)
                    if ours == family.ours:
                        tally.setdefault((baseline, score), []).append((case.name, v, diff, se))
                    say(f"     {ours} - {baseline}: {diff:+.3f} +- {se:.3f}  -> {v}")
    say(f"-- {family.name} summary (win / tie / lose of {family.ours}):")
    for (baseline, score), rows in tally.items():
        counts = {v: sum(row[1] == v for row in rows) for v in ("win", "tie", "lose", "n/a")}
        losses = "; ".join(f"{name} {diff:+.3f} +- {se:.3f}" for name, v, diff, se in rows if v == "lose")
        say(
            f"   vs {baseline} on {score}: {counts['win']} / {counts['tie']} / {counts['lose']}"
            + (f"  (n/a {counts['n/a']})" if counts["n/a"] else "")
            + (f"; losses: {losses}" if losses else "")
        )
    say(f"-- {family.name} goals of the issue:")
    for met, text in family.goals(family, results):
        say(f"   {'met    ' if met else 'NOT met'}  {text}")
    say("")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small cases, one seed (development)")
    parser.add_argument("--family", choices=sorted(FAMILIES), help="run one family")
    parser.add_argument("--jobs", type=int, default=1, help="parallel processes over (case, seed)")
    args = parser.parse_args(argv)

    families = [FAMILIES[args.family]] if args.family else list(FAMILIES.values())
    seeds = SEEDS[:1] if args.quick else SEEDS
    selection = "_".join(filter(None, [args.family, "quick" if args.quick else ""]))
    out = REPO / "benchmarks" / "results" / (f"bench_defaults_{selection}.txt" if selection else "bench_defaults.txt")
    header = [
        "Defaults suite: every estimator at its defaults (only n_clusters / sensitive / target rows -1 given)"
        + (" (QUICK RUN)" if args.quick else ""),
        f"seeds {list(seeds)} unless a case says otherwise; paired differences ours - baseline, "
        "mean +- standard error over seeds; "
        f"win / lose: beyond 2 standard errors and {MARGIN} in ours' / the baseline's favour, else tie",
        "",
    ]
    for line in header:
        print(line, flush=True)
    lines, cpu_s, start_wall = list(header), 0.0, time.perf_counter()

    def say(line):
        print(line, flush=True)
        lines.append(line)

    for family in families:
        tasks = [
            (family.name, index, seed, args.quick)
            for index, case in enumerate(family.cases)
            if case.quick or not args.quick
            for seed in seeds[: case.n_seeds]
        ]
        # The large cases are last in each registry; start them first so that parallel jobs finish together.
        task_results = Parallel(n_jobs=args.jobs)(delayed(run_task)(*task) for task in reversed(tasks))
        results = collect(task_results)
        cpu_s += sum(sum(case["_task_s"]) for case in results.get(family.name, {}).values())
        report_family(family, results.get(family.name, {}), say)
        # Written after every family, so that an interrupted run keeps what it measured.
        out.write_text("\n".join(lines) + "\n")
    say(
        f"Total: {cpu_s / 60:.1f} CPU-minutes of tasks, {(time.perf_counter() - start_wall) / 60:.1f} wall minutes, "
        f"{args.jobs} job(s), OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}"
    )
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
