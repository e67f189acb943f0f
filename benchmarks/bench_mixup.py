"""Mixup and CutMix: does it help small labelled sets, and how fast is the sampler?

Three parts, in one process:

(a) Small-sample images: 200 and 500 labelled digits (``load_digits``, pixels
    divided by 16) drawn from a pool, scored on one fixed held-out test set of
    540 digits. LogisticRegression and MLPClassifier, without mixup, with
    mixup (alpha 0.2 and 0.4) and with CutMix on the 8x8 images (alpha 0.4
    and 1.0, the CutMix paper's value).
(b) Tabular rows: 500 and 2,000 labelled rows of UCI Adult (training file),
    scored on the whole test file (16,281 rows). Numeric columns scaled,
    categorical columns one-hot encoded; mixup runs after the encoding, so
    categories mix as probabilities. One more variant mixes the DataFrame
    before encoding (numeric columns mixed, categorical columns take the
    dominant parent's value).
(c) Throughput of ``MixupTransformer.fit_resample`` at d = 100 in float32 for
    1e5 and 1e6 input rows (``n_samples=1.0``), with peak memory, against a
    plain numpy mixup that draws pairs and mixes X and one-hot labels, and
    against imbalanced-learn's SMOTE on the same number of input rows.

Every model runs through ``sklearn_adv.pipeline.make_pipeline``, which hands
mixup's weighted label pairs to the classifier's ``fit`` as ``sample_weight``
(both LogisticRegression and MLPClassifier accept it). Each seed draws a new
labelled sample and seeds the mixup and the MLP. Models use scikit-learn's
defaults (no tuning of C or of the MLP's L2 penalty), and the MLP runs 200
epochs whatever the number of rows, so with mixup it takes about three times
as many gradient steps. A difference is called "better" or "worse" when the
mean paired difference over seeds exceeds two standard errors.

Usage::

    python benchmarks/bench_mixup.py [--data-dir DIR] [--seeds 5]

``DIR`` holds ``adult.data.gz`` and ``adult.test.gz`` (default:
``../shared/data`` beside the repository root; the copy shipped with the
package when that is missing). Writes benchmarks/results/bench_mixup.txt.
"""

import argparse
import os
import resource
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from imblearn.over_sampling import SMOTE  # noqa: E402
from sklearn.compose import ColumnTransformer, make_column_selector  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402
from sklearn.utils.validation import has_fit_parameter  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sklearn_adv import MixupTransformer  # noqa: E402
from sklearn_adv.datasets import load_adult  # noqa: E402
from sklearn_adv.pipeline import make_pipeline  # noqa: E402

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=ConvergenceWarning)

RESULTS = REPO / "benchmarks" / "results" / "bench_mixup.txt"
MODELS = {
    "LR": lambda seed: LogisticRegression(max_iter=2000),
    "MLP": lambda seed: MLPClassifier(hidden_layer_sizes=(100,), max_iter=200, random_state=seed),
}
# (label, MixupTransformer parameters or None, where mixup runs)
DIGIT_VARIANTS = [
    ("no mixup", None),
    ("mixup a=0.2", dict(alpha=0.2)),
    ("mixup a=0.4", dict(alpha=0.4)),
    ("cutmix a=0.4", dict(alpha=0.4, method="cutmix", image_shape=(8, 8))),
    ("cutmix a=1.0", dict(alpha=1.0, method="cutmix", image_shape=(8, 8))),
]
ADULT_VARIANTS = [
    ("no mixup", None, None),
    ("mixup a=0.2", dict(alpha=0.2), "encoded"),
    ("mixup a=0.4", dict(alpha=0.4), "encoded"),
    ("mixup a=0.2 on frame", dict(alpha=0.2), "frame"),
]

_lines = []


def say(line=""):
    print(line, flush=True)
    _lines.append(line)


# --------------------------------------------------------------------------
# (a) and (b): accuracy and log loss over seeds
# --------------------------------------------------------------------------


def _score(model, X_train, y_train, X_test, y_test):
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    proba = model.predict_proba(X_test)
    classes = model.classes_
    accuracy = accuracy_score(y_test, classes[proba.argmax(axis=1)])
    return accuracy, log_loss(y_test, proba, labels=classes), seconds


def run_digits(n_labelled, seeds):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=540, stratify=y, random_state=0)
    scores = {}
    for seed in seeds:
        X_train, _, y_train, _ = train_test_split(
            X_pool, y_pool, train_size=n_labelled, stratify=y_pool, random_state=seed
        )
        for model_name, make_model in MODELS.items():
            for label, params in DIGIT_VARIANTS:
                steps = [] if params is None else [MixupTransformer(**params, random_state=seed)]
                model = make_pipeline(*steps, make_model(seed))
                scores.setdefault((model_name, label), []).append(_score(model, X_train, y_train, X_test, y_test))
    return scores


def _encoder():
    return ColumnTransformer(
        [
            ("num", StandardScaler(), make_column_selector(dtype_include="number")),
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                make_column_selector(dtype_exclude="number"),
            ),
        ]
    )


def run_adult(data_dir, n_labelled, seeds):
    X_all, y_all = load_adult(path=data_dir, subset="train", return_X_y=True)
    X_test, y_test = load_adult(path=data_dir, subset="test", return_X_y=True)
    scores = {}
    for seed in seeds:
        rows = np.random.default_rng(seed).choice(len(y_all), n_labelled, replace=False)
        X_train, y_train = X_all.iloc[rows], y_all.iloc[rows]
        for model_name, make_model in MODELS.items():
            for label, params, where in ADULT_VARIANTS:
                if params is None:
                    steps = [_encoder()]
                elif where == "encoded":
                    steps = [_encoder(), MixupTransformer(**params, random_state=seed)]
                else:
                    steps = [MixupTransformer(**params, random_state=seed), _encoder()]
                model = make_pipeline(*steps, make_model(seed))
                scores.setdefault((model_name, label), []).append(_score(model, X_train, y_train, X_test, y_test))
    return scores


def _compare(deltas):
    """'better', 'worse' or '~' for paired differences where larger is better."""
    deltas = np.asarray(deltas)
    if len(deltas) < 2:
        return "~"
    se = deltas.std(ddof=1) / np.sqrt(len(deltas))
    if deltas.mean() > 2 * se and deltas.mean() > 0:
        return "better"
    if deltas.mean() < -2 * se and deltas.mean() < 0:
        return "worse"
    return "~"


def _verdict(acc_cmp, loss_cmp):
    found = {acc_cmp, loss_cmp}
    if "better" in found and "worse" in found:
        return "mixed"
    if "better" in found:
        return "helps"
    if "worse" in found:
        return "hurts"
    return "no clear effect"


def report_scores(task, n_labelled, scores, baseline="no mixup"):
    """One line per (model, variant); returns the (task, model, variant, verdict) that are not 'helps'."""
    not_helping = []
    for (model_name, label), runs in scores.items():
        runs = np.asarray(runs)
        acc, loss, seconds = runs[:, 0], runs[:, 1], runs[:, 2]
        line = (
            f"{task:<7} {n_labelled:>5} {model_name:<4} {label:<21} "
            f"{acc.mean():.3f} ± {acc.std(ddof=1):.3f}   {loss.mean():.3f} ± {loss.std(ddof=1):.3f}   "
        )
        if label == baseline:
            say(line + f"{'':>15}   {'':>15}   {'(baseline)':<16} {seconds.mean():6.2f}")
            continue
        base = np.asarray(scores[(model_name, baseline)])
        d_acc, d_loss = acc - base[:, 0], loss - base[:, 1]
        verdict = _verdict(_compare(d_acc), _compare(-d_loss))
        wins = int((d_acc > 0).sum())
        say(
            line
            + f"{d_acc.mean():+.3f} ({wins}/{len(d_acc)} up)   {d_loss.mean():+.3f} ± {d_loss.std(ddof=1):.3f}   "
            + f"{verdict:<16} {seconds.mean():6.2f}"
        )
        if verdict != "helps":
            not_helping.append(
                f"{task} n={n_labelled} {model_name} {label}: {verdict} "
                f"(accuracy {d_acc.mean():+.3f}, log loss {d_loss.mean():+.3f})"
            )
    return not_helping


def score_header():
    say(
        f"{'task':<7} {'n':>5} {'model':<4} {'variant':<21} {'accuracy':<15}   {'log loss':<15}   "
        f"{'d accuracy':<15}   {'d log loss':<15}   {'verdict':<16} {'fit s':>6}"
    )


# --------------------------------------------------------------------------
# (c) throughput and memory
# --------------------------------------------------------------------------


def numpy_mixup(X, y, alpha, rng):
    """The plain reference: draw pairs and lambdas, mix X and one-hot labels."""
    n = len(X)
    first, second = rng.permutation(n), rng.permutation(n)
    lam = rng.beta(alpha, alpha, n).astype(X.dtype)[:, None]
    onehot = np.eye(int(y.max()) + 1, dtype=X.dtype)[y]
    X_new = lam * X[first] + (1 - lam) * X[second]
    y_new = lam * onehot[first] + (1 - lam) * onehot[second]
    return X_new, y_new


def _timed(call, repeats):
    """Best wall time over ``repeats`` calls after one warm-up, and the last result's sizes."""
    call()  # warm-up: first touches of large buffers cost page faults
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        out = call()
        best = min(best, time.perf_counter() - start)
        del out
    return best


def _peak_bytes(call):
    tracemalloc.start()
    out = call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del out
    return peak


def run_throughput(n_rows, repeats, d=100, alpha=0.2, n_minority=10_000):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_rows, d), dtype=np.float32)
    y = rng.integers(0, 2, n_rows)
    onehot = np.eye(2, dtype=np.float32)[y]
    y_imbalanced = np.zeros(n_rows, dtype=np.int64)
    y_imbalanced[rng.choice(n_rows, n_minority, replace=False)] = 1

    pairs = MixupTransformer(alpha=alpha, n_samples=1.0, random_state=0)
    interp = MixupTransformer(alpha=alpha, n_samples=1.0, y_mixing="interpolate", random_state=0)
    smote = SMOTE(random_state=0)
    methods = [
        ("numpy reference (pairs, mix X + one-hot y)", lambda: numpy_mixup(X, y, alpha, np.random.default_rng(1)), n_rows),
        ("ours, weighted label pairs", lambda: pairs.fit_resample(X, y), n_rows),
        ("ours, y_mixing='interpolate' (one-hot y)", lambda: interp.fit_resample(X, onehot), n_rows),
        (f"SMOTE ({n_minority:,} minority rows)", lambda: smote.fit_resample(X, y_imbalanced), n_rows - 2 * n_minority),
    ]
    X_out, _ = pairs.fit_resample(X, y)
    rows_returned = len(X_out)
    del X_out
    results = []
    for name, call, n_new in methods:
        seconds = _timed(call, repeats)
        peak = _peak_bytes(call)
        results.append((name, n_new, seconds, peak))
    return results, X.nbytes, rows_returned


def report_throughput(n_rows, results, input_bytes, rows_returned):
    ref_speed = results[0][1] / results[0][2]
    for name, n_new, seconds, peak in results:
        speed = n_new / seconds
        say(
            f"{n_rows:>9,} {name:<44} {n_new:>9,} {seconds:7.2f} {speed:>12,.0f} {speed / ref_speed:7.2f} "
            f"{peak / 2**20:9.0f} {peak / input_bytes:7.1f}"
        )
    say(
        f"{'':>9} (ours returned {rows_returned:,} rows: the {n_rows:,} originals, "
        "then each mixed row once, or twice when its two labels differ)"
    )


# --------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    seeds = list(range(args.seeds))
    data_dir = Path(args.data_dir)
    if not ((data_dir / "adult.data.gz").is_file() or (data_dir / "adult.data").is_file()):
        data_dir = None
    start = time.perf_counter()

    say("Mixup benchmark: accuracy and log loss on small labelled sets; fit_resample throughput")
    say(
        f"{len(seeds)} seeds; one thread; mean ± standard deviation over seeds; d = paired difference with the "
        "same seed's 'no mixup'"
    )
    say(f"LogisticRegression.fit takes sample_weight: {has_fit_parameter(LogisticRegression(), 'sample_weight')}; "
        f"MLPClassifier.fit takes sample_weight: {has_fit_parameter(MLPClassifier(), 'sample_weight')}")
    source = "the copy shipped with sklearn_adv" if data_dir is None else os.path.relpath(data_dir, REPO)
    say(f"Adult read from: {source}")
    say()

    not_helping = []
    say("(a) digits (8x8, 10 classes), fixed test set of 540; (b) UCI Adult, test file of 16,281 rows")
    score_header()
    for n_labelled in (200, 500):
        not_helping += report_scores("digits", n_labelled, run_digits(n_labelled, seeds))
    for n_labelled in (500, 2000):
        not_helping += report_scores("adult", n_labelled, run_adult(data_dir, n_labelled, seeds))
    say()
    say("Where mixup does not help (verdict other than 'helps'):")
    for line in not_helping:
        say(f"  {line}")
    say()

    say("(c) fit_resample throughput, d = 100, float32, n_samples = 1.0 (one mixed row per input row), alpha = 0.2")
    say("    new rows/s counts each new row once; ratio = speed / numpy reference; peak = tracemalloc peak during the call")
    say(
        f"{'n input':>9} {'method':<44} {'new rows':>9} {'best s':>7} {'new rows/s':>12} {'ratio':>7} "
        f"{'peak MiB':>9} {'x input':>7}"
    )
    for n_rows, repeats in ((100_000, 3), (1_000_000, 2)):
        report_throughput(n_rows, *run_throughput(n_rows, repeats))
    say()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    say(f"Process peak RSS {peak_rss:,.0f} MiB; total time {time.perf_counter() - start:.0f} s")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(_lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
