"""The network estimators on the CPU (all cores) and on a GPU: fit time and quality, small data and large.

Every network estimator is fitted three times on the same data with the same
seed: ``device="cpu"`` with torch using every core, ``device="cuda"``, and
``device="auto"`` (what a user gets without choosing). Each fit is timed
whole (wall clock, the GPU synchronised) and per epoch (the median epoch of
the skorch history: training only, without the preprocessing that both
devices share); quality is the same metric for both devices.

Small data: the data and settings of the other benchmarks.

* DomainAdversarialClassifier: digits rotated by 30 degrees
  (``make_digit_shift``), as bench_dann (MLP (64, 64), batches of 128, 100
  epochs); target accuracy, transductive.
* FairClassifier: UCI Adult, sensitive attribute sex, as bench_fair (64
  hidden units, adversary 32, batches of 256, lr 1e-3, 10 epochs,
  adversary weight 1); accuracy on adult.test.
* GANAugmenter: UCI Adult, its defaults (batch 500), 10 epochs
  (``--gan-epochs``); train-on-synthetic ROC AUC (HistGradientBoosting
  trained on as many synthetic rows as real ones, scored on adult.test).
  CTGAN (``bench`` extra; skipped with a note when missing) on the same GPU,
  at its default batch of 500, 5 epochs (``--ctgan-epochs``): seconds per
  epoch and the same ROC AUC, at its own epochs.
* TICKMeans(method="deep"): the 1,797 transformed 12x12 digits
  (``make_transformed_digits``), defaults, as bench_tickmeans; clustering
  accuracy (Hungarian matching).
* NeuralClassifier: UCI Adult, its defaults, 10 epochs; ROC AUC on adult.test.

Large data: a table of ``--rows`` rows (1,000,000 by default): Adult's
training rows drawn with replacement, Gaussian noise of a tenth of each
numeric column's standard deviation added to the numeric columns. Every
estimator with its defaults for ``--large-epochs`` epochs (DANN: the women's
rows unlabelled, scored on the women of adult.test; FairClassifier: sex
sensitive). TICKMeans clusters images, not rows: its large set is
``--images`` transformed digits (20,000 by default), each 1,797 drawn with
another seed; its deep solver starts from the discrete one, which runs on
the CPU whatever the device, so its fit time gains less than its epochs.

Goals (issue 17), printed met / NOT met:

* GANAugmenter on Adult: at most 0.3 s per epoch on the GPU at its default
  batch, and train-on-synthetic ROC AUC within 0.01 of the CPU run's;
* large data: every estimator at least 5x faster per epoch on the GPU;
* small data: ``device="auto"`` never makes a fit more than 20% slower than
  the CPU.

Usage::

    python benchmarks/bench_gpu.py [--quick] [--rows N] [--only NAME ...]
    python benchmarks/bench_gpu.py --cpu-only --rows 20000 --quick

Without a GPU the script says so and exits; ``--cpu-only`` runs the CPU half
on small settings to check the script itself. On a GPU it writes
benchmarks/results/bench_gpu.txt (``--quick``: bench_gpu_quick.txt), section
by section, so a run cut short keeps what it measured. From the speeds
measured in issue 17, the full run should take 8 to 12 minutes on a 16-core
machine with one GPU (most of it the CPU fits on the large table), and
``--quick`` about 2; ``--only`` splits a run over several commands.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _shared import EpochClock, clustering_accuracy  # noqa: E402

from sklearn_adv import (  # noqa: E402
    DomainAdversarialClassifier,
    FairClassifier,
    GANAugmenter,
    NeuralClassifier,
    TICKMeans,
)
from sklearn_adv.datasets import load_adult, make_digit_shift, make_transformed_digits  # noqa: E402

warnings.filterwarnings("ignore")

RESULTS = REPO / "benchmarks" / "results"
LABEL = "income"
_lines = []


def say(line=""):
    print(line, flush=True)
    _lines.append(line)


# -- data ------------------------------------------------------------------------------


class Data:
    """The data sets, loaded on first use; ``data_dir`` None reads the Adult copy shipped with the package."""

    def __init__(self, data_dir, rows, images, seed=0):
        self.kwargs = {} if data_dir is None else {"path": data_dir}
        self.rows, self.images, self.seed = rows, images, seed
        self._cache = {}

    def _cached(self, name, make):
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    def adult(self):
        """(X_train, y_train, X_test, y_test): DataFrames and 0/1 labels."""

        def make():
            X, y = load_adult(subset="train", return_X_y=True, **self.kwargs)
            X_test, y_test = load_adult(subset="test", return_X_y=True, **self.kwargs)
            return X, np.asarray(y).astype(int), X_test, np.asarray(y_test).astype(int)

        return self._cached("adult", make)

    def large_table(self):
        """Adult's training rows drawn with replacement to ``rows`` rows, noise on the numeric columns."""

        def make():
            X, y, X_test, y_test = self.adult()
            rng = np.random.default_rng(self.seed)
            picked = rng.integers(len(X), size=self.rows)
            big = X.iloc[picked].reset_index(drop=True)
            for column in big.select_dtypes("number").columns:
                values = big[column].to_numpy(dtype=np.float64)
                big[column] = values + rng.normal(0.0, 0.1 * values.std(), size=len(values))
            X_test = X_test.astype({c: np.float64 for c in big.select_dtypes("number").columns})
            return big, y[picked], X_test, y_test

        return self._cached("large", make)

    def rotated_digits(self):
        """(X, y with -1 on the target rows, target rows, target labels), flat 64-pixel rows."""

        def make():
            (X_s, y_s), (X_t, y_t) = make_digit_shift("rotate", angle=30, random_state=self.seed)
            X_s, X_t = X_s.reshape(len(X_s), -1), X_t.reshape(len(X_t), -1)
            X = np.concatenate([X_s, X_t]).astype(np.float32)
            return X, np.r_[y_s, np.full(len(X_t), -1)], X_t.astype(np.float32), y_t

        return self._cached("digits", make)

    def transformed_digits(self, n=None):
        """``n`` transformed 12x12 digits (1,797 per seed) and their labels."""

        def make():
            parts = [make_transformed_digits(random_state=k) for k in range(-(-(n or 1797) // 1797))]
            images = np.concatenate([p[0] for p in parts])[: n or 1797]
            return images.astype(np.float32), np.concatenate([p[1] for p in parts])[: n or 1797]

        return self._cached(("transformed", n), make)


# -- quality -----------------------------------------------------------------------------


def train_on_synthetic_auc(X_synthetic, y_synthetic, X_test, y_test):
    """ROC AUC on the test rows of HistGradientBoosting trained on synthetic rows only (as bench_gan)."""
    encoder = ColumnTransformer(
        [
            ("num", "passthrough", make_column_selector(dtype_include="number")),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), make_column_selector(dtype_exclude="number")),
        ]
    )
    model = make_pipeline(encoder, HistGradientBoostingClassifier(random_state=0))
    model.fit(X_synthetic.reset_index(drop=True), np.asarray(y_synthetic))
    return roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])


def gan_quality(gan, X, y, X_test, y_test, n_rows=None):
    """Train-on-synthetic ROC AUC of as many rows as the real ones (at most ``n_rows``), real class proportions."""
    labels = y if n_rows is None or n_rows >= len(y) else np.random.default_rng(0).choice(y, n_rows, replace=False)
    rows, labels = gan.sample(len(labels), y=labels, random_state=0)
    return train_on_synthetic_auc(rows, labels, X_test, y_test)


# -- the cases: an estimator, its data, its quality ----------------------------------------


class Case:
    """One estimator on one data set: ``make(device)`` builds it, ``fit`` trains it, ``score`` rates it."""

    def __init__(self, name, estimator, metric, make, fit, score):
        self.name, self.estimator, self.metric = name, estimator, metric
        self.make, self.fit, self.score = make, fit, score


def small_cases(data, epochs, images):
    """The other benchmarks' data and settings; ``epochs`` maps an estimator to its epochs."""

    def dann_fit(model):
        X, y, _, _ = data.rotated_digits()
        model.fit(X, y)

    def dann_score(model):
        _, _, X_t, y_t = data.rotated_digits()
        return accuracy_score(y_t, model.predict(X_t))

    def fair_fit(model):
        X, y, _, _ = data.adult()
        model.fit(X.drop(columns="sex"), y, sensitive_features=X["sex"].astype(str).to_numpy())

    def adult_fit(model):
        X, y, _, _ = data.adult()
        model.fit(X, y)

    def accuracy_on_adult(model, drop=()):
        _, _, X_test, y_test = data.adult()
        return accuracy_score(y_test, model.predict(X_test.drop(columns=list(drop))))

    def auc_on_adult(model):
        _, _, X_test, y_test = data.adult()
        return roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])

    return [
        Case(
            f"rotated digits, {epochs['dann']} epochs", "DANN", "target accuracy",
            lambda device: DomainAdversarialClassifier(
                encoder="mlp", encoder__hidden_units=(64, 64), domain_head__hidden_units=(100,),
                domain_head__batch_norm=True, lr=1e-3, max_epochs=epochs["dann"], batch_size=128,
                device=device, random_state=0,
            ),
            dann_fit, dann_score,
        ),
        Case(
            f"Adult (sex), {epochs['fair']} epochs", "FairClassifier", "test accuracy",
            lambda device: FairClassifier(
                adversary_weight=1.0, max_epochs=epochs["fair"], batch_size=256, lr=1e-3,
                encoder__hidden_units=(64,), adversary__hidden_units=(32,), device=device, random_state=0,
            ),
            fair_fit, lambda model: accuracy_on_adult(model, drop=("sex",)),
        ),
        Case(
            f"Adult, batch 500, {epochs['gan']} epochs", "GANAugmenter", "train-on-synthetic AUC",
            lambda device: GANAugmenter(max_epochs=epochs["gan"], device=device, random_state=0),
            adult_fit, lambda model: gan_quality(model, *data.adult()),
        ),
        tick_case(data, epochs["tick"], images),
        Case(
            f"Adult, {epochs['neural']} epochs", "NeuralClassifier", "test ROC AUC",
            lambda device: NeuralClassifier(max_epochs=epochs["neural"], device=device, random_state=0),
            adult_fit, auc_on_adult,
        ),
    ]


def tick_case(data, epochs, images=None):
    """TICKMeans(method="deep") with its defaults but ``epochs`` on ``images`` transformed digits (None: 1,797)."""

    def fit(model):
        model.fit(data.transformed_digits(images)[0])

    def score(model):
        return clustering_accuracy(data.transformed_digits(images)[1], model.labels_)

    return Case(
        f"{f'{images:,}' if images else '1,797'} transformed digits, 12x12, {epochs} epochs", "TICKMeans deep",
        "clustering accuracy",
        lambda device: TICKMeans(n_clusters=10, method="deep", max_epochs=epochs, device=device, random_state=0),
        fit, score,
    )


def large_cases(data, epochs, images):
    """Every estimator with its defaults, ``epochs`` epochs, on the large table (TICKMeans: on ``images`` digits)."""

    def big():
        return data.large_table()

    def dann_fit(model):
        X, y, _, _ = big()
        women = (X["sex"] == "Female").to_numpy()
        model.fit(X.drop(columns="sex"), np.where(women, -1, y))

    def dann_score(model):
        _, _, X_test, y_test = big()
        women = (X_test["sex"] == "Female").to_numpy()
        return accuracy_score(y_test[women], model.predict(X_test.drop(columns="sex")[women]))

    def fair_fit(model):
        X, y, _, _ = big()
        model.fit(X.drop(columns="sex"), y, sensitive_features=X["sex"].astype(str).to_numpy())

    def fair_score(model):
        _, _, X_test, y_test = big()
        return accuracy_score(y_test, model.predict(X_test.drop(columns="sex")))

    def table_fit(model):
        X, y, _, _ = big()
        model.fit(X, y)

    def neural_score(model):
        _, _, X_test, y_test = big()
        return roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])

    rows = f"{data.rows:,} rows"
    return [
        Case(f"{rows} (women unlabelled)", "DANN", "women's test accuracy",
             lambda device: DomainAdversarialClassifier(max_epochs=epochs, device=device, random_state=0),
             dann_fit, dann_score),
        Case(f"{rows} (sex)", "FairClassifier", "test accuracy",
             lambda device: FairClassifier(max_epochs=epochs, device=device, random_state=0), fair_fit, fair_score),
        Case(rows, "GANAugmenter", "train-on-synthetic AUC",
             lambda device: GANAugmenter(max_epochs=epochs, device=device, random_state=0),
             table_fit, lambda model: gan_quality(model, *big(), n_rows=len(data.adult()[1]))),
        tick_case(data, epochs, images),
        Case(rows, "NeuralClassifier", "test ROC AUC",
             lambda device: NeuralClassifier(max_epochs=epochs, device=device, random_state=0), table_fit, neural_score),
    ]


# -- timing --------------------------------------------------------------------------------


def synchronize():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def run(case, device):
    """Fit once on ``device``: (fit seconds, median seconds per epoch, quality)."""
    model = case.make(device)
    synchronize()
    start = time.perf_counter()
    case.fit(model)
    synchronize()
    seconds = time.perf_counter() - start
    return seconds, float(np.median(model.history_[:, "dur"])), case.score(model)


def warm_up(devices):
    """One short fit per device of a table network and a conv net: CUDA context, cuBLAS and cuDNN start here."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(512, 16)).astype(np.float32), rng.integers(2, size=512)
    images = rng.normal(size=(256, 1, 12, 12)).astype(np.float32)
    for device in devices:
        NeuralClassifier(max_epochs=2, device=device, random_state=0).fit(X, y)
        NeuralClassifier(max_epochs=2, device=device, random_state=0).fit(images, y[:256])
        GANAugmenter(max_epochs=1, batch_size=64, device=device, random_state=0).fit(X, y)


def measure(cases, devices):
    """Every case on every device: {(estimator, device): (seconds, per epoch, quality)}, printed as it goes."""
    results = {}
    for case in cases:
        for device in devices:
            try:
                results[case.estimator, device] = run(case, device)
            except Exception as error:  # one failed fit must not cost the rest of a GPU session's run
                say(f"  {case.estimator} on {device} failed: {type(error).__name__}: {error}")
                results[case.estimator, device] = (np.nan, np.nan, np.nan)
            seconds, per_epoch, quality = results[case.estimator, device]
            print(f"  {case.estimator:<17} {device:<5} fit {seconds:8.2f} s, {per_epoch:7.3f} s/epoch, "
                  f"{case.metric} {quality:.3f}", file=sys.stderr, flush=True)
    return results


def table(title, cases, results, devices):
    say(title)
    gpu = "cuda" in devices
    header = f"{'estimator':<17} {'data':<44} {'CPU s':>8} {'CPU s/ep':>9}"
    if gpu:
        header += f" {'GPU s':>8} {'GPU s/ep':>9} {'CPU/GPU':>7} {'auto s':>7}"
    header += f"  {'quality (CPU' + (' / GPU)' if gpu else ')'):<16} metric"
    say(header)
    for case in cases:
        cpu = results[case.estimator, "cpu"]
        line = f"{case.estimator:<17} {case.name:<44} {cpu[0]:>8.2f} {cpu[1]:>9.3f}"
        quality = f"{cpu[2]:.3f}"
        if gpu:
            cuda, auto = results[case.estimator, "cuda"], results.get((case.estimator, "auto"))
            line += f" {cuda[0]:>8.2f} {cuda[1]:>9.3f} {cpu[1] / cuda[1]:>7.2f} "
            line += f"{auto[0]:>7.2f}" if auto else f"{'-':>7}"
            quality += f" / {cuda[2]:.3f}"
        say(f"{line}  {quality:<16} {case.metric}")
    say()


# -- CTGAN, the peer for the GAN -----------------------------------------------------------


def ctgan_run(data, epochs, gpu):
    """CTGAN as shipped (batch 500) but ``epochs`` epochs: (fit seconds, median epoch seconds, train-on-synthetic AUC)."""
    import ctgan.synthesizers.ctgan as ctgan_module

    X, y, X_test, y_test = data.adult()
    torch.manual_seed(0)
    np.random.seed(0)
    ctgan_module.tqdm = EpochClock
    EpochClock.stamps = []
    frame = X.assign(**{LABEL: np.where(y == 1, ">50K", "<=50K")})
    discrete = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    model = ctgan_module.CTGAN(epochs=epochs, batch_size=500, enable_gpu=gpu)
    synchronize()
    start = time.perf_counter()
    model.fit(frame, discrete_columns=discrete)
    synchronize()
    seconds = time.perf_counter() - start
    parts = [
        model.sample(int(n), condition_column=LABEL, condition_value=">50K" if value == 1 else "<=50K")
        for value, n in zip(*np.unique(y, return_counts=True))
    ]
    rows = pd.concat(parts, ignore_index=True)
    labels = (rows.pop(LABEL) == ">50K").astype(int).to_numpy()
    return seconds, float(np.median(np.diff(EpochClock.stamps))), train_on_synthetic_auc(rows, labels, X_test, y_test)


def ctgan_line(data, epochs, gpu):
    try:
        import ctgan  # noqa: F401
    except ImportError:
        say("CTGAN: not installed (pip install 'sklearn_adv[bench]'); skipped")
        return
    try:
        seconds, per_epoch, auc = ctgan_run(data, epochs, gpu)
    except Exception as error:
        say(f"CTGAN failed: {type(error).__name__}: {error}")
        return
    say(f"CTGAN on the {'GPU' if gpu else 'CPU'}, Adult, batch 500, {epochs} epochs: fit {seconds:.1f} s, "
        f"{per_epoch:.3f} s/epoch, train-on-synthetic AUC {auc:.3f}")
    say()


# -- goals -----------------------------------------------------------------------------------


def goals(small, large):
    say("Goals")
    cpu, cuda = small.get(("GANAugmenter", "cpu")), small.get(("GANAugmenter", "cuda"))
    if cpu and cuda:
        met = cuda[1] <= 0.3 and abs(cuda[2] - cpu[2]) <= 0.01
        say(f"  GANAugmenter on Adult, GPU: {cuda[1]:.3f} s per epoch (at most 0.3), train-on-synthetic AUC "
            f"{cuda[2]:.3f} against the CPU's {cpu[2]:.3f} (within 0.01) -> {'met' if met else 'NOT met'}")
    estimators = sorted({name for name, _ in large})
    for name in estimators:
        ratio = large[name, "cpu"][1] / large[name, "cuda"][1]
        say(f"  large data, {name}: {ratio:.1f}x faster per epoch on the GPU (at least 5) "
            f"-> {'met' if ratio >= 5 else 'NOT met'}")
    for name in sorted({name for name, _ in small}):
        if (name, "auto") in small:
            ratio = small[name, "auto"][0] / small[name, "cpu"][0]
            say(f"  small data, {name}: device='auto' fit takes {ratio:.2f}x the CPU's (at most 1.20) "
                f"-> {'met' if ratio <= 1.2 else 'NOT met'}")
    say()


# -- main ------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the large table")
    parser.add_argument("--images", type=int, default=20_000, help="images of TICKMeans's large set")
    parser.add_argument("--large-epochs", type=int, default=1, help="epochs of every fit on the large data")
    parser.add_argument("--gan-epochs", type=int, default=10, help="epochs of GANAugmenter on Adult")
    parser.add_argument("--ctgan-epochs", type=int, default=5, help="epochs of CTGAN on Adult")
    parser.add_argument("--quick", action="store_true",
                        help="a first look: a fifth of the epochs, 100,000 rows and 10,000 images")
    parser.add_argument("--cpu-only", action="store_true",
                        help="without a GPU: the CPU half on small settings, to check the script; writes nothing")
    parser.add_argument("--only", nargs="+", metavar="ESTIMATOR",
                        help="run only these estimators (DANN, FairClassifier, GANAugmenter, TICKMeans, "
                             "NeuralClassifier; CTGAN runs with GANAugmenter)")
    args = parser.parse_args(argv)
    gpu = torch.cuda.is_available()
    if not gpu and not args.cpu_only:
        print("bench_gpu: torch sees no CUDA device, so there is nothing to measure here "
              "(--cpu-only runs the CPU half to check the script).")
        return 0
    gpu = gpu and not args.cpu_only
    data_dir = Path(args.data_dir)
    if not ((data_dir / "adult.data.gz").is_file() or (data_dir / "adult.data").is_file()):
        data_dir = None
    small_data = args.quick or args.cpu_only
    if small_data:
        args.rows = min(args.rows, 100_000)
        args.images = min(args.images, 10_000)
        args.gan_epochs = max(1, args.gan_epochs // 5)
        args.ctgan_epochs = 1
    # A CPU-only check of the script: TICKMeans on a few hundred digits, a slow solver on a CPU.
    small_images = 400 if args.cpu_only else None
    if args.cpu_only:
        args.images = min(args.images, 1000)
    epochs = {"dann": 100, "fair": 10, "gan": args.gan_epochs, "tick": 30, "neural": 10}
    if small_data:
        epochs = {name: max(1, n // 5) for name, n in epochs.items()} | {"gan": args.gan_epochs}
    threads = os.cpu_count()
    torch.set_num_threads(threads)
    devices = ["cpu", "cuda", "auto"] if gpu else ["cpu"]
    data = Data(data_dir, args.rows, args.images)

    def chosen(cases):
        return [c for c in cases if not args.only or any(c.estimator.startswith(o) for o in args.only)]

    start = time.perf_counter()
    say("GPU benchmark: the network estimators on the CPU and on a GPU" + (" (QUICK RUN)" if args.quick else "")
        + (" (CPU ONLY: a check of the script)" if args.cpu_only else ""))
    device = torch.cuda.get_device_name(0) if gpu else "none"
    say(f"torch {torch.__version__}, {threads} CPU threads, GPU: {device}; seed 0; device='auto' picks "
        f"{'cuda' if torch.cuda.is_available() else 'cpu'} here")
    say(f"Adult read from: {'the copy shipped with sklearn_adv' if data_dir is None else os.path.relpath(data_dir, REPO)}")
    say("fit s: wall clock of the whole fit (GPU synchronised); s/ep: median epoch of the skorch history "
        "(training only); CPU/GPU: the ratio of the s/ep columns; one fit each, after warm-up fits")
    say()
    output = RESULTS / ("bench_gpu_quick.txt" if args.quick else "bench_gpu.txt")

    def save():
        if gpu:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text("\n".join(_lines) + "\n", encoding="utf-8")

    warm_up([d for d in devices if d != "auto"])
    cases = chosen(small_cases(data, epochs, small_images))
    small = measure(cases, devices)
    table("Small data (the other benchmarks' data and settings)", cases, small, devices)
    if not args.only or "GANAugmenter" in args.only or "CTGAN" in args.only:
        ctgan_line(data, args.ctgan_epochs, gpu)
    save()

    cases = chosen(large_cases(data, args.large_epochs, args.images))
    large = measure(cases, [d for d in devices if d != "auto"])
    table(f"Large data: {args.rows:,} rows (TICKMeans: {args.images:,} images), {args.large_epochs} epoch(s), defaults",
          cases, large, devices)
    if gpu:
        goals(small, large)
    else:
        say("Goals: not checked, no GPU in this run")
    say(f"Total time {time.perf_counter() - start:.0f} s")
    save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
