"""GANAugmenter against CTGAN, SMOTENC and no augmentation, on UCI Adult and on digits.

One process, one thread, the same data for every method.

(a) Tables: UCI Adult, training file (32,561 rows) to fit, test file (16,281
    rows) to score. The label is the class GANAugmenter is conditioned on, and
    a discrete column of CTGAN's table (CTGAN's documented way to condition).
    - Speed: fit seconds per epoch at batch size 500 (both with pac 10), the
      preprocessing time, and sampling rows/s.
    - CTGAN as shipped (its defaults) but with ``--ctgan-epochs`` epochs;
      GANAugmenter at its defaults (``max_epochs="auto"``: about 2,000 steps
      of 500 rows); each fit's CPU seconds are reported.
    - Utility on adult.test of HistGradientBoosting and LogisticRegression
      (ROC AUC, macro F1): trained on synthetic rows only (as many as real
      rows, in the real class proportions), and on real rows plus synthetic
      rows of the minority class up to balance, against real rows only.
      SMOTENC's synthetic-only rows are its new rows when asked to double each
      class.
    - Memorization and fidelity (``sklearn_adv.augmentation.quality``; 5,000
      synthetic and 5,000 test rows, compared with every training row): the
      ratio of the median distance to the closest training record of
      synthetic rows to that of test rows, the exact-copy fraction,
      and the ROC AUC of a detector of synthetic rows; coverage: alpha-precision
      and beta-recall (Alaa et al. 2022) and k-NN precision and recall
      (Kynkäänniemi et al. 2019), with test rows as the reference.
(b) Images: ``load_digits`` (1,257 training and 540 test images), a
    conditional DCGAN with AC-GAN loss: a samples grid (PNG), the accuracy of
    LogisticRegression trained on synthetic digits only, and a small-sample
    case: 200 labelled digits, with and without 1,000 GAN digits (GAN trained
    on the same 200), over seeds.

Usage::

    python benchmarks/bench_gan.py [--data-dir DIR] [--ctgan-epochs 20] [--quick]

Writes benchmarks/results/bench_gan.txt and bench_gan_digits.png.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from sklearn.compose import ColumnTransformer, make_column_selector  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _shared import EpochClock  # noqa: E402

from sklearn_adv import GANAugmenter  # noqa: E402
from sklearn_adv.augmentation.quality import quality_report  # noqa: E402
from sklearn_adv.datasets import load_adult  # noqa: E402

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning)

RESULTS = REPO / "benchmarks" / "results" / "bench_gan.txt"
FIGURE = REPO / "benchmarks" / "results" / "bench_gan_digits.png"
LABEL = "income"

_lines = []


def say(line=""):
    print(line, flush=True)
    _lines.append(line)


# --------------------------------------------------------------------------
# the generators, behind one interface: fit, then rows for given labels
# --------------------------------------------------------------------------


def fit_ctgan(X, y, epochs, seed):
    import ctgan.synthesizers.ctgan as ctgan_module

    torch.manual_seed(seed)
    np.random.seed(seed)
    ctgan_module.tqdm = EpochClock
    EpochClock.stamps = []
    frame = X.assign(**{LABEL: np.where(np.asarray(y) == 1, ">50K", "<=50K")})
    discrete = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    model = ctgan_module.CTGAN(epochs=epochs, batch_size=500, cuda=False)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(frame, discrete_columns=discrete)
    total = time.perf_counter() - start
    stamps = np.array(EpochClock.stamps)
    return model, {
        "fit_s": total,
        "fit_cpu_s": time.process_time() - cpu,
        "epochs": epochs,
        "per_epoch_s": float(np.median(np.diff(stamps))),
        "preprocess_s": float(stamps[0] - start),
    }


def ctgan_rows(model, labels, seed):
    """CTGAN rows with the wanted labels: conditional sampling on the label column for each class."""
    torch.manual_seed(seed)
    parts = []
    for value, n in zip(*np.unique(labels, return_counts=True)):
        rows = model.sample(int(n), condition_column=LABEL, condition_value=">50K" if value == 1 else "<=50K")
        parts.append(rows)
    rows = pd.concat(parts, ignore_index=True)
    y = (rows.pop(LABEL) == ">50K").astype(int).to_numpy()
    return rows, y


def fit_ours(X, y, seed):
    gan = GANAugmenter(random_state=seed)
    start, cpu = time.perf_counter(), time.process_time()
    gan.fit(X, y)
    total = time.perf_counter() - start
    durations = np.asarray(gan.history_[:, "dur"])
    return gan, {
        "fit_s": total,
        "fit_cpu_s": time.process_time() - cpu,
        "epochs": len(durations),
        "per_epoch_s": float(np.median(durations)),
        "preprocess_s": total - float(durations.sum()),
    }


def ours_rows(gan, labels, seed):
    rows, y = gan.sample(len(labels), y=labels, random_state=seed)
    return rows, np.asarray(y)


def smotenc_rows(X, y, strategy, seed):
    from imblearn.over_sampling import SMOTENC

    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    X_obj = X.copy()
    for c in categorical:
        X_obj[c] = X_obj[c].astype(str)
    sampler = SMOTENC(categorical_features=categorical, sampling_strategy=strategy, random_state=seed)
    start = time.perf_counter()
    X_res, y_res = sampler.fit_resample(X_obj, np.asarray(y))
    seconds = time.perf_counter() - start
    new = X_res.iloc[len(X) :].reset_index(drop=True)
    for c in categorical:
        new[c] = pd.Categorical(new[c], categories=X[c].cat.categories) if hasattr(X[c], "cat") else new[c]
    for c in X.columns:
        if c not in categorical:
            new[c] = new[c].astype(X[c].dtype)
    return new, np.asarray(y_res[len(X) :]), seconds


# --------------------------------------------------------------------------
# utility and quality
# --------------------------------------------------------------------------


def _models():
    def encoder(scale):
        numeric = StandardScaler() if scale else "passthrough"
        return ColumnTransformer(
            [
                ("num", numeric, make_column_selector(dtype_include="number")),
                (
                    "cat",
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                    make_column_selector(dtype_exclude="number"),
                ),
            ]
        )

    return {
        "HGB": lambda: make_pipeline(encoder(False), HistGradientBoostingClassifier(random_state=0)),
        "LR": lambda: make_pipeline(encoder(True), LogisticRegression(max_iter=1000)),
    }


def _utility(X_fit, y_fit, X_test, y_test):
    out = {}
    for name, make in _models().items():
        model = make().fit(X_fit, y_fit)
        proba = model.predict_proba(X_test)[:, 1]
        out[name] = (roc_auc_score(y_test, proba), f1_score(y_test, (proba > 0.5).astype(int), average="macro"))
    return out


def _strip(frame):
    """Synthetic rows with a fresh RangeIndex, ready to stack under the real rows."""
    return frame.reset_index(drop=True)


def run_tables(data_dir, ctgan_epochs, quick, seed=0):
    X, y = load_adult(path=data_dir, subset="train", return_X_y=True)
    X_test, y_test = load_adult(path=data_dir, subset="test", return_X_y=True)
    y, y_test = np.asarray(y).astype(int), np.asarray(y_test).astype(int)
    if quick:
        X, y = X.iloc[:4000].reset_index(drop=True), y[:4000]
    n = len(X)
    n_minority_needed = int((y == 0).sum() - (y == 1).sum())
    say(f"(a) UCI Adult: {n:,} training rows ({(y == 1).mean():.1%} positive), {len(X_test):,} test rows; batch size 500")
    say()

    results = {}
    model, timing = fit_ctgan(X, y, ctgan_epochs, seed)
    start = time.perf_counter()
    syn_X, syn_y = ctgan_rows(model, y, seed)
    timing["sample_rows_s"] = n / (time.perf_counter() - start)
    extra_X, extra_y = ctgan_rows(model, np.ones(n_minority_needed, int), seed + 1)
    results["CTGAN"] = (timing, syn_X, syn_y, extra_X, extra_y)

    gan, timing = fit_ours(X, y, seed=seed)
    start = time.perf_counter()
    syn_X, syn_y = ours_rows(gan, y, seed)
    timing["sample_rows_s"] = n / (time.perf_counter() - start)
    extra_X, extra_y = ours_rows(gan, np.ones(n_minority_needed, int), seed + 1)
    results["GANAugmenter"] = (timing, syn_X, syn_y, extra_X, extra_y)

    counts = np.bincount(y)
    syn_X, syn_y, seconds = smotenc_rows(X, y, {0: 2 * counts[0], 1: 2 * counts[1]}, seed)
    extra_X, extra_y, _ = smotenc_rows(X, y, "auto", seed)
    results["SMOTENC"] = ({"fit_s": seconds, "fit_cpu_s": seconds, "sample_rows_s": len(syn_y) / seconds}, syn_X, syn_y,
                          extra_X, extra_y)

    say("Speed (fit includes preprocessing; per epoch = median epoch at batch 500; sampling: wall clock)")
    say(f"{'method':<14} {'epochs':>6} {'fit s':>8} {'fit CPU s':>9} {'preproc s':>9} {'s/epoch':>8} {'ratio':>6} "
        f"{'sample rows/s':>14}")
    ct = results["CTGAN"][0]
    for name in ("CTGAN", "GANAugmenter", "SMOTENC"):
        t = results[name][0]
        if "per_epoch_s" in t:
            say(f"{name:<14} {t['epochs']:>6} {t['fit_s']:>8.1f} {t['fit_cpu_s']:>9.1f} {t['preprocess_s']:>9.1f} "
                f"{t['per_epoch_s']:>8.2f} {t['per_epoch_s'] / ct['per_epoch_s']:>6.2f} {t['sample_rows_s']:>14,.0f}")
        else:
            say(
                f"{name:<14} {'-':>6} {t['fit_s']:>8.1f} {t['fit_cpu_s']:>9.1f} {'-':>9} {'-':>8} {'-':>6} "
                f"{t['sample_rows_s']:>14,.0f}  (fit_resample, rows/s)"
            )
    say()

    say("Utility on adult.test: ROC AUC / macro F1")
    say(f"{'training data':<34} {'HGB AUC':>8} {'HGB F1':>7} {'LR AUC':>7} {'LR F1':>6}")
    base = _utility(X, y, X_test, y_test)
    utility = {"no augmentation (real only)": base}
    for name in ("GANAugmenter", "CTGAN", "SMOTENC"):
        _, syn_X, syn_y, extra_X, extra_y = results[name]
        utility[f"{name}: synthetic only"] = _utility(_strip(syn_X), syn_y, X_test, y_test)
        utility[f"{name}: real + synthetic"] = _utility(
            pd.concat([X, _strip(extra_X)], ignore_index=True), np.r_[y, extra_y], X_test, y_test
        )
    for label, scores in utility.items():
        say(f"{label:<34} {scores['HGB'][0]:>8.3f} {scores['HGB'][1]:>7.3f} {scores['LR'][0]:>7.3f} {scores['LR'][1]:>6.3f}")
    say()

    say("Memorization and fidelity (5,000 synthetic and 5,000 test rows against all training rows; reference = adult.test rows)")
    say(
        f"{'method':<14} {'DCR ratio':>9} {'DCR 5% ratio':>12} {'exact copies':>12} {'detector AUC':>12} "
        f"{'marginal d':>10} {'corr diff':>9}"
    )
    quality = {}
    holdout = X_test.reset_index(drop=True)
    for name in ("GANAugmenter", "CTGAN", "SMOTENC"):
        _, syn_X, _, _, _ = results[name]
        report = quality_report(X, _strip(syn_X), holdout, sections=["memorization", "diversity", "fidelity"],
                                random_state=seed)
        q = report.set_index("metric")["value"]
        quality[name] = q
        say(f"{name:<14} {q['DCR ratio (median)']:>9.2f} {q['DCR ratio (5th percentile)']:>12.2f} "
            f"{q['exact copy fraction']:>12.4f} {q['detector ROC AUC']:>12.3f} {q['marginal distance (mean)']:>10.3f} "
            f"{q['correlation difference']:>9.3f}")
    ref = report.set_index("metric")["reference"]
    say(f"{'(test rows)':<14} {1.0:>9.2f} {1.0:>12.2f} {ref['exact copy fraction']:>12.4f} {'0.5':>12} {'':>10} {'':>9}")
    say()
    coverage = ["alpha-precision", "beta-recall", "k-NN precision", "k-NN recall"]
    say("Coverage (the same rows; test rows measured the same way as reference)")
    say(f"{'method':<14} " + " ".join(f"{name:>15}" for name in coverage))
    for name in ("GANAugmenter", "CTGAN", "SMOTENC"):
        say(f"{name:<14} " + " ".join(f"{quality[name][metric]:>15.3f}" for metric in coverage))
    say(f"{'(test rows)':<14} " + " ".join(f"{ref[metric]:>15.3f}" for metric in coverage))
    say()
    return results, utility, quality


def run_images(quick, seeds):
    X, y = load_digits(return_X_y=True)
    images = X.reshape(-1, 8, 8)
    X_train, X_test, y_train, y_test = train_test_split(images, y, test_size=540, stratify=y, random_state=0)
    epochs = 5 if quick else 30
    say(f"(b) digits: {len(X_train)} training, {len(X_test)} test images (8x8, values 0-16); conditional DCGAN, AC-GAN loss")
    start = time.perf_counter()
    gan = GANAugmenter(max_epochs=epochs, batch_size=64, random_state=0).fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    syn, syn_y = gan.sample(len(X_train), y=y_train, random_state=0)

    def accuracy(train_images, labels):
        model = LogisticRegression(max_iter=3000).fit(train_images.reshape(len(train_images), -1) / 16.0, labels)
        return model.score(X_test.reshape(len(X_test), -1) / 16.0, y_test)

    real_acc, syn_acc = accuracy(X_train, y_train), accuracy(syn, syn_y)
    report = quality_report(
        X_train, syn, X_test, y_train=y_train, y_synthetic=syn_y, sections=["memorization", "diversity", "fidelity"]
    )
    q = report.set_index("metric")
    say(f"  fit {epochs} epochs: {fit_s:.1f} s; LogisticRegression accuracy on the test images: "
        f"trained on real {real_acc:.3f}, on synthetic only {syn_acc:.3f}")
    say(f"  DCR ratio {q.loc['DCR ratio (median)', 'value']:.2f}, exact copies {q.loc['exact copy fraction', 'value']:.4f}, "
        f"detector AUC {q.loc['detector ROC AUC', 'value']:.3f}, "
        f"birthday support ratio {q.loc['birthday support ratio', 'value']:.2f}")
    _plot_digits(gan, X_train)

    n_small = 200
    with_gan, without = [], []
    for seed in seeds:
        X_small, _, y_small, _ = train_test_split(X_train, y_train, train_size=n_small, stratify=y_train, random_state=seed)
        small_gan = GANAugmenter(max_epochs=8 if quick else 120, batch_size=64, random_state=seed).fit(X_small, y_small)
        extra, extra_y = small_gan.sample(1000, y=np.arange(1000) % 10, random_state=seed)
        without.append(accuracy(X_small, y_small))
        with_gan.append(accuracy(np.concatenate([X_small, extra]), np.r_[y_small, extra_y]))
    diff = np.array(with_gan) - np.array(without)
    say(f"  {n_small} labelled digits, {len(seeds)} seeds: LogisticRegression accuracy {np.mean(without):.3f} "
        f"± {np.std(without):.3f} without, {np.mean(with_gan):.3f} ± {np.std(with_gan):.3f} with 1,000 GAN digits "
        f"(paired difference {diff.mean():+.3f} ± {diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else 0:.3f} s.e.)")
    say()
    return {
        "real": real_acc,
        "synthetic": syn_acc,
        "small_without": np.mean(without),
        "small_with": np.mean(with_gan),
        "diff": diff,
    }


def _plot_digits(gan, X_train):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_adv.augmentation.quality import plot_image_neighbours

    fig, axes = plt.subplots(10, 10, figsize=(6, 6.4))
    for digit in range(10):
        rows, _ = gan.sample(10, y=digit, random_state=digit)
        for k in range(10):
            axes[digit, k].imshow(rows[k], cmap="gray_r", vmin=0, vmax=16)
            axes[digit, k].set_xticks([])
            axes[digit, k].set_yticks([])
        axes[digit, 0].set_ylabel(str(digit), rotation=0, labelpad=10)
    fig.suptitle("GANAugmenter digits, one row per class asked for")
    fig.tight_layout()
    fig.savefig(FIGURE, dpi=90)
    plt.close(fig)
    samples, _ = gan.sample(10, y=np.arange(10), random_state=0)
    fig = plot_image_neighbours(X_train, samples, n_images=10)
    fig.suptitle("Synthetic digits (top) and their nearest training digits", fontsize=9)
    fig.tight_layout()
    fig.savefig(FIGURE.with_name("bench_gan_neighbours.png"), dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--ctgan-epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="4,000 Adult rows and few epochs, to try the script")
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir)
    if not ((data_dir / "adult.data.gz").is_file() or (data_dir / "adult.data").is_file()):
        data_dir = None
    if args.quick:
        args.ctgan_epochs = min(args.ctgan_epochs, 2)
    start = time.perf_counter()
    say("GAN augmentation benchmark: GANAugmenter vs CTGAN, SMOTENC and no augmentation" + (" (QUICK RUN)" if args.quick else ""))
    say("One thread; seed 0 for the tables; CTGAN as shipped except epochs; the same rows for every method")
    source = "the copy shipped with sklearn_adv" if data_dir is None else os.path.relpath(data_dir, REPO)
    say(f"Adult read from: {source}")
    say()
    results, utility, quality = run_tables(data_dir, args.ctgan_epochs, args.quick)
    images = run_images(args.quick, list(range(args.seeds)))

    ours, ctgan = results["GANAugmenter"][0], results["CTGAN"][0]
    tstr_ours = utility["GANAugmenter: synthetic only"]["HGB"][0]
    tstr_ct = utility["CTGAN: synthetic only"]["HGB"][0]
    q = quality["GANAugmenter"]
    say("Goals")
    say(f"  fit time per epoch at most 0.5x CTGAN's: {ours['per_epoch_s'] / ctgan['per_epoch_s']:.2f}x "
        f"-> {'met' if ours['per_epoch_s'] <= 0.5 * ctgan['per_epoch_s'] else 'NOT met'}")
    say(f"  train-on-synthetic ROC AUC (HGB) at least CTGAN's: {tstr_ours:.3f} vs {tstr_ct:.3f} "
        f"-> {'met' if tstr_ours >= tstr_ct else 'NOT met'}")
    say(f"  no exact copies: {q['exact copy fraction']:.4f} -> {'met' if q['exact copy fraction'] == 0 else 'NOT met'}")
    say(f"  synthetic rows no closer to training rows than holdout rows (DCR ratio >= 1): {q['DCR ratio (median)']:.2f} "
        f"(5th percentile {q['DCR ratio (5th percentile)']:.2f}) -> "
        f"{'met' if q['DCR ratio (median)'] >= 1 and q['DCR ratio (5th percentile)'] >= 1 else 'NOT met'}")
    tstr_smote = utility["SMOTENC: synthetic only"]["HGB"][0]
    fidelity_goals = [
        (f"train-on-synthetic ROC AUC (HGB) at least 0.90 and at least SMOTENC's: {tstr_ours:.3f} vs 0.90 and "
         f"{tstr_smote:.3f}", tstr_ours >= max(0.90, tstr_smote)),
        (f"detector ROC AUC at most 0.80: {q['detector ROC AUC']:.3f}", q["detector ROC AUC"] <= 0.80),
        (f"alpha-precision at least 0.90: {q['alpha-precision']:.3f} (CTGAN {quality['CTGAN']['alpha-precision']:.3f}, "
         f"SMOTENC {quality['SMOTENC']['alpha-precision']:.3f})", q["alpha-precision"] >= 0.90),
        (f"beta-recall at least 0.40: {q['beta-recall']:.3f} (CTGAN {quality['CTGAN']['beta-recall']:.3f}, "
         f"SMOTENC {quality['SMOTENC']['beta-recall']:.3f})", q["beta-recall"] >= 0.40),
        (f"fit within 5 CPU-minutes at the defaults: {ours['fit_cpu_s']:.0f} CPU s", ours["fit_cpu_s"] <= 300),
        (f"sample at least 100,000 rows per second: {ours['sample_rows_s']:,.0f} (wall clock; "
         "benchmarks/bench_sampling.py measures CPU time)", ours["sample_rows_s"] >= 100_000),
    ]
    say("Goals of the fidelity issue (#21), Adult")
    for text, met in fidelity_goals:
        say(f"  {text} -> {'met' if met else 'NOT met'}")
    base = utility["no augmentation (real only)"]
    plus = utility["GANAugmenter: real + synthetic"]
    say("Where GAN rows do not help")
    for model in ("HGB", "LR"):
        say(f"  Adult, {model}: real + GAN rows ROC AUC {plus[model][0]:.3f} vs real only {base[model][0]:.3f}; "
            f"macro F1 {plus[model][1]:.3f} vs {base[model][1]:.3f}")
    say(f"  Digits, 200 labelled: paired accuracy difference with GAN digits {images['diff'].mean():+.3f}")
    say()
    say(f"Total time {time.perf_counter() - start:.0f} s")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    name = RESULTS.with_name("bench_gan_quick.txt") if args.quick else RESULTS
    name.write_text("\n".join(_lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
