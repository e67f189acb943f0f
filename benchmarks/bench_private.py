"""GANAugmenter with differential privacy on UCI Adult: the utility at epsilon 1 and 5, against not private.

One process, one thread. Train on the training file (32,561 rows), score on
the test file (16,281 rows): HistGradientBoosting trained on synthetic rows
only (as many as real rows, classes drawn from the GAN's own, noisy, class
frequencies), ROC AUC on the real test rows. Every private fit uses the
estimator's defaults plus ``epsilon`` and the public bounds of the six
numeric columns (from the dataset's documentation); delta is the default
``1 / (10 n)``. Fit time is CPU time of the fit (one thread). The private
fits run for every seed, the not-private one (100 epochs) for the first.

The peers are smartnoise-synth's AIM and MST (marginal-based) and DPCTGAN and
PATECTGAN (DP GANs), at the same epsilon and delta, with the same public
bounds, scored the same way, for the first seed. They need opacus 0.14,
which cannot share an environment with the opacus 1.x of our test extra, so
they run in ``.venv-dp-peers`` (built by ``make bench``) through
``_dp_peers.py``, one child process per fit; without it they are skipped.
AIM and MST draw rows by randomized rounding by default; the same models'
i.i.d. draws are reported too. Settings that differ from their defaults are
explained in ``_dp_peers.py``.

Usage::

    python benchmarks/bench_private.py [--seeds 0 1 2] [--quick] [--no-peers]

Writes benchmarks/results/bench_private.txt.
"""

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OrdinalEncoder  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sklearn_adv import GANAugmenter  # noqa: E402
from sklearn_adv.datasets import load_adult  # noqa: E402

torch.set_num_threads(1)
warnings.filterwarnings("ignore")

RESULTS = REPO / "benchmarks" / "results" / "bench_private.txt"
PEERS_PYTHON = REPO / ".venv-dp-peers" / "bin" / "python"
PEERS = ["aim", "mst", "dpctgan", "patectgan"]
BOUNDS = {"age": (17, 90), "fnlwgt": (0, 1_500_000), "education-num": (1, 16), "capital-gain": (0, 99_999),
          "capital-loss": (0, 4_356), "hours-per-week": (1, 99)}


def test_auc(X_fit, y_fit, X_test, y_test):
    encode = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), X_test.select_dtypes("category").columns),
        remainder="passthrough",
    )
    model = make_pipeline(encode, HistGradientBoostingClassifier(random_state=0)).fit(X_fit, y_fit)
    return roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])


def run_peer(synth, X, y, epsilon, delta, seed):
    """One smartnoise-synth fit in the peers' environment: its fit CPU seconds and ``{draw: (X, y)}``."""
    with tempfile.TemporaryDirectory() as folder:
        job, out = Path(folder) / "job.pkl", Path(folder) / "out.pkl"
        with open(job, "wb") as handle:
            pickle.dump({"X": X, "y": y, "synth": synth, "epsilon": epsilon, "delta": delta, "bounds": BOUNDS,
                         "seed": seed}, handle)
        subprocess.run([str(PEERS_PYTHON), str(REPO / "benchmarks" / "_dp_peers.py"), str(job), str(out)],
                       check=True, stdout=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"})
        with open(out, "rb") as handle:
            result = pickle.load(handle)
    return result["fit_cpu_s"], result["draws"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--quick", action="store_true", help="one seed, no not-private fit, no peers")
    parser.add_argument("--no-peers", action="store_true", help="skip smartnoise-synth's synthesizers")
    args = parser.parse_args()
    seeds = args.seeds[:1] if args.quick else args.seeds
    X, y = load_adult(subset="train", return_X_y=True)
    X_test, y_test = load_adult(subset="test", return_X_y=True)
    y, y_test = np.asarray(y).astype(int), np.asarray(y_test).astype(int)

    lines = []

    def say(line=""):
        print(line, flush=True)
        lines.append(line)

    say("Private GANAugmenter on UCI Adult: train on synthetic rows only (HistGradientBoosting), ROC AUC on adult.test")
    say(f"{len(X):,} training rows, {len(X_test):,} test rows; one thread; defaults plus epsilon and public numeric bounds")
    say()
    say(f"real rows: ROC AUC {test_auc(X, y, X_test, y_test):.3f}")
    say()
    configs = [("epsilon 1", {"epsilon": 1.0, "bounds": BOUNDS}), ("epsilon 5", {"epsilon": 5.0, "bounds": BOUNDS})]
    if not args.quick:
        configs.append(("not private", {}))
    say(f"{'GANAugmenter':<14} {'seed':>4} {'ROC AUC':>8} {'fit CPU s':>9} {'epsilon_':>9} {'delta_':>8} {'steps':>6} "
        f"{'noise mult':>10}")
    summary = {}
    for name, params in configs:
        for seed in seeds if params else seeds[:1]:  # the not-private fit, ten times longer, once
            gan = GANAugmenter(random_state=seed, **params)
            start = time.process_time()
            gan.fit(X, y)
            cpu = time.process_time() - start
            synthetic, labels = gan.sample(len(X), random_state=seed)
            auc = test_auc(synthetic, labels, X_test, y_test)
            summary.setdefault(name, []).append((auc, cpu))
            private = hasattr(gan, "epsilon_")
            say(f"{name:<14} {seed:>4} {auc:>8.3f} {cpu:>9.1f} "
                + (f"{gan.epsilon_:>9.4f} {gan.delta_:>8.1e} {gan.steps_:>6} {gan.noise_multiplier_:>10.2f}"
                   if private else f"{'-':>9} {'-':>8} {'-':>6} {'-':>10}"))
    peers = {}
    if args.quick or args.no_peers:
        pass
    elif not PEERS_PYTHON.exists():
        say()
        say(f"peers not run: their environment {PEERS_PYTHON.parent.parent.name} is missing (make bench builds it)")
    else:
        say()
        say("smartnoise-synth 1.0.8, same epsilon, delta and public bounds, seed " f"{seeds[0]}")
        say(f"{'peer':<14} {'draw':>8} {'ROC AUC':>8} {'fit CPU s':>9}")
        delta = 1.0 / (10 * len(X))  # our default, for every peer
        categories = {column: X[column].dtype for column in X.select_dtypes("category").columns}
        for epsilon in (1.0, 5.0):
            for synth in PEERS:
                cpu, draws = run_peer(synth, X, y, epsilon, delta, seeds[0])
                for draw, (X_synth, y_synth) in draws.items():
                    auc = test_auc(X_synth.astype(categories), y_synth, X_test, y_test)
                    peers[epsilon, synth, draw] = auc
                    say(f"{synth + f' eps {epsilon:g}':<14} {draw:>8} {auc:>8.3f} {cpu:>9.1f}")
    say()
    say(f"{'summary':<14} {'mean AUC':>8} {'min AUC':>8} {'max fit CPU s':>13}")
    for name, runs in summary.items():
        aucs, cpus = np.array(runs).T
        say(f"{name:<14} {aucs.mean():>8.3f} {aucs.min():>8.3f} {cpus.max():>13.1f}")
    say()
    say("Goals (issue #20): epsilon 1 at least 0.83, epsilon 5 at least 0.86, each fit within 300 CPU s")
    for name, goal in [("epsilon 1", 0.83), ("epsilon 5", 0.86)]:
        aucs, cpus = np.array(summary[name]).T
        met = aucs.mean() >= goal and cpus.max() <= 300
        say(f"  {name}: mean ROC AUC {aucs.mean():.3f} (min {aucs.min():.3f}) vs {goal}, fit at most {cpus.max():.0f} "
            f"CPU s -> {'met' if met else 'NOT met'}")
    if peers:
        ours = np.array(summary["epsilon 1"])[:, 0].mean()
        best_gan = max(peers[1.0, synth, "default"] for synth in ("dpctgan", "patectgan"))
        aim = peers[1.0, "aim", "default"]
        say(f"  epsilon 1, DP GAN peers: ours {ours:.3f} vs the best {best_gan:.3f} + 0.2 -> "
            f"{'met' if ours >= best_gan + 0.2 else 'NOT met'}")
        say(f"  epsilon 1, AIM (its default draw): ours {ours:.3f} vs {aim:.3f} -> {'met' if ours >= aim else 'NOT met'}"
            f"; AIM's i.i.d. draw {peers[1.0, 'aim', 'iid']:.3f}")
    if not args.quick:
        RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
