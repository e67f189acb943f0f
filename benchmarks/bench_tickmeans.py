"""TICKMeans against k-means and its cheap invariant baselines, on plain and on transformed digits.

Two data sets, in one process:

``plain``
    The 1797 digits of :func:`sklearn.datasets.load_digits`, 8x8, pixel
    values 0-16 as shipped.
``transformed``
    The same digits made deterministically by
    :func:`sklearn_adv.datasets.make_transformed_digits` (``random_state=0``):
    each digit centred on a 12x12 canvas, rotated by a random angle of up to
    20 degrees either way, then shifted by a random integer of up to 2 pixels
    along each axis.

Methods: scikit-learn ``KMeans(n_clusters=10, n_init=10)`` on the pixels;
"centre of mass + KMeans" (each image moved so that its centre of mass sits
at the image centre, bilinear, then the same KMeans); tslearn's ``KShape``
on the flattened rows (z-normalised, as its documentation asks; 1-D shift
invariance, the closest scikit-learn-style peer; on a subset, see below); ``TICKMeans`` with its
default parameters (discrete solver: translations and 3 rotations) and with
``method="deep"`` (default parameters otherwise). Every method runs with
seeds 0, 1, 2 (``--seeds``) on the same data. Scores: clustering accuracy
under the best one-to-one matching of clusters to digits (Hungarian
algorithm), NMI, ARI, fit time in seconds (the minimum over seeds); ratios
to KMeans.

The machine is a shared 2-core CPU; every method runs with one thread
(``OMP_NUM_THREADS=1``), so times are comparable with each other but noisy.

Usage::

    python benchmarks/bench_tickmeans.py [--seeds 3] [--quick]

``--quick`` runs on the first 400 digits and one seed, for development,
without KShape. tslearn's KShape is too slow for the full sets (about 90 s
for 400 digits), so it runs once on the first 400 digits of each, beside
KMeans and TICKMeans on the same subset.
Writes benchmarks/results/bench_tickmeans.txt.
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
from _shared import centre_of_mass, clustering_accuracy  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score  # noqa: E402

from sklearn_adv import TICKMeans  # noqa: E402
from sklearn_adv.datasets import make_transformed_digits  # noqa: E402

torch.set_num_threads(1)
RESULTS = Path(__file__).resolve().parent / "results" / "bench_tickmeans.txt"
LOAD_AT_START = os.getloadavg()

# Deep Transformation-Invariant Clustering, published accuracies (%), for context only:
# different data (28x28 and larger images, 10 to 70 thousand of them) and GPU training.
DTI_PUBLISHED = [
    ("MNIST (Monnier et al. 2020; mean of 10 runs, Baltaci et al. TMLR Table 7)", "97.3"),
    ("MNIST-test (Monnier et al. 2020; NMI 94.7)", "97.8"),
    ("affNIST-test (Baltaci et al. Table 7; pixel k-means about 55, IIC 57.6)", "95.5"),
    ("USPS (Baltaci et al. Table 7)", "86.4"),
    ("Fashion-MNIST (Monnier et al. 2020)", "61.2"),
]


def kmeans(X, seed):
    return KMeans(10, n_init=10, random_state=seed).fit(X.reshape(len(X), -1)).labels_


def com_kmeans(X, seed):
    return KMeans(10, n_init=10, random_state=seed).fit(centre_of_mass(X).reshape(len(X), -1)).labels_


def kshape(X, seed):
    from tslearn.clustering import KShape
    from tslearn.preprocessing import TimeSeriesScalerMeanVariance

    series = TimeSeriesScalerMeanVariance().fit_transform(X.reshape(len(X), -1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return KShape(n_clusters=10, n_init=1, random_state=seed).fit(series).labels_


def tick_discrete(X, seed):
    return TICKMeans(n_clusters=10, random_state=seed).fit(X).labels_


def tick_deep(X, seed):
    return TICKMeans(n_clusters=10, method="deep", random_state=seed).fit(X).labels_


METHODS = [
    ("KMeans(n_init=10)", kmeans),
    ("centre of mass + KMeans", com_kmeans),
    ("TICKMeans discrete (defaults)", tick_discrete),
    ("TICKMeans deep", tick_deep),
]

# KShape takes about 90 s for 400 digits here (its cost grows faster than
# linearly), so it runs on the first 400 digits with one seed, beside KMeans
# and TICKMeans on the same subset.
SUBSET_METHODS = [
    ("KMeans(n_init=10)", kmeans),
    ("tslearn KShape (flattened)", kshape),
    ("TICKMeans discrete (defaults)", tick_discrete),
]
SUBSET_SIZE = 400


def _score_table(datasets, methods, seeds):
    rows = {}
    for data_name, (X, y) in datasets.items():
        for method_name, method in methods:
            scores = []
            for seed in seeds:
                start = time.perf_counter()
                labels = np.asarray(method(X, seed))
                seconds = time.perf_counter() - start
                scores.append(
                    (
                        clustering_accuracy(y, labels),
                        normalized_mutual_info_score(y, labels),
                        adjusted_rand_score(y, labels),
                        seconds,
                    )
                )
                print(f"  {data_name:12s} {method_name:32s} seed {seed}: acc {scores[-1][0]:.3f}"
                      f"  {seconds:.2f}s", file=sys.stderr, flush=True)
            rows[data_name, method_name] = np.array(scores)
    return rows


def _summary(scores):
    """Mean scores over seeds, except the fit time: its minimum, the usual estimate on a busy machine."""
    out = scores.mean(axis=0)
    out[3] = scores[:, 3].min()
    return out


def _format(datasets, methods, seeds, rows):
    lines = []
    for data_name, (X, _) in datasets.items():
        base = _summary(rows[data_name, methods[0][0]])
        lines.append(f"{data_name}: {len(X)} images of {X.shape[1]}x{X.shape[2]}, {len(seeds)} seeds")
        lines.append(
            f"  {'method':32s} {'accuracy':>15s} {'NMI':>6s} {'ARI':>6s} {'fit s':>7s} {'acc/KM':>7s} {'time/KM':>8s}"
        )
        for method_name, _ in methods:
            scores = rows[data_name, method_name]
            mean, std = _summary(scores), scores.std(axis=0)
            lines.append(
                f"  {method_name:32s} {mean[0]:.3f} ± {std[0]:.3f}  {mean[1]:.3f}  {mean[2]:.3f}"
                f" {mean[3]:7.2f} {mean[0] / base[0]:7.2f} {mean[3] / base[3]:8.1f}"
            )
            lines.append(
                f"  {'':32s} per seed: " + ", ".join(f"{a:.3f}" for a in scores[:, 0])
            )
        lines.append("")
    return lines


def run(datasets, seeds, out, subset=True):
    rows = _score_table(datasets, METHODS, seeds)
    lines = _format(datasets, METHODS, seeds, rows)
    if subset:
        small = {name: (X[:SUBSET_SIZE], y[:SUBSET_SIZE]) for name, (X, y) in datasets.items()}
        lines.append(f"Subset with tslearn KShape: the first {SUBSET_SIZE} digits of each set, seed 0")
        small_rows = _score_table(small, SUBSET_METHODS, [0])
        lines += ["  " + line for line in _format(small, SUBSET_METHODS, [0], small_rows)]
    lines.append("Goals: transformed >= 0.80 (TICKMeans defaults), plain >= 0.85, discrete within 10x")
    lines.append("KMeans's time, deep under 120 s.")
    for data_name, goal in (("transformed", 0.80), ("plain", 0.85)):
        if data_name not in datasets:
            continue
        for method_name in ("TICKMeans discrete (defaults)", "TICKMeans deep"):
            scores = rows[data_name, method_name]
            ratio = scores[:, 3].min() / rows[data_name, METHODS[0][0]][:, 3].min()
            acc = scores[:, 0].mean()
            limit = "within 10x" if "discrete" in method_name else "under 120 s"
            met = ratio <= 10 if "discrete" in method_name else scores[:, 3].max() < 120
            lines.append(
                f"  {data_name:12s} {method_name:30s} accuracy {acc:.3f} ({'met' if acc >= goal else 'MISSED'})"
                f", time {scores[:, 3].min():.1f} s = {ratio:.0f}x KMeans ({limit}: {'met' if met else 'MISSED'})"
            )
    lines.append("")
    lines.append("DTI clustering, published accuracy (%), other data and GPU training, for context:")
    for name, value in DTI_PUBLISHED:
        lines.append(f"  {name:80s} {value}")
    lines.append("")
    lines.append(
        "Fit times are the minimum over seeds, in seconds, one thread; the machine is shared, load average"
        f" {LOAD_AT_START[0]:.1f} at the start and {os.getloadavg()[0]:.1f} at the end, so ratios are rough."
    )
    text = "\n".join(lines) + "\n"
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="first 400 digits, one seed, nothing written")
    args = parser.parse_args(argv)
    digits = load_digits()
    transformed, target = make_transformed_digits(random_state=0)
    datasets = {"plain": (digits.images, digits.target), "transformed": (transformed, target)}
    seeds = list(range(args.seeds))
    if args.quick:
        datasets = {name: (X[:400], y[:400]) for name, (X, y) in datasets.items()}
        seeds = [0]
    run(datasets, seeds, None if args.quick else RESULTS, subset=not args.quick)


if __name__ == "__main__":
    main()
