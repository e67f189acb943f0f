"""How fast GANAugmenter.sample makes rows: Adult, one CPU thread, 100,000 and 1,000,000 rows.

A GANAugmenter with its defaults is fitted on the Adult training file for a
couple of epochs (the speed of sampling does not depend on how well the GAN
was trained), then ``sample(n)`` is timed, best of a few runs, interleaved
with the previous way of sampling, rebuilt here from the same parts:
the generator's softmax on every one-hot block (Gumbel noise from torch's
``exponential_``), and one decoding of the whole encoded matrix at the end.
The two draw their Gumbel noise differently, so the script checks that they
give rows of the same distribution: the largest distance between the
marginals of the two ways (total variation for categorical columns,
Kolmogorov-Smirnov for numeric ones), beside that between two samples of the
previous way. It also times the generator's share of a sample (noise,
conditions, network, Gumbel draws).

Usage::

    python benchmarks/bench_sampling.py [--epochs 2] [--repeats 3] [--quick]

Writes benchmarks/results/bench_sampling.txt.
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
from scipy.stats import ks_2samp  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sklearn_adv import GANAugmenter  # noqa: E402
from sklearn_adv.datasets import load_adult  # noqa: E402
from sklearn_adv.nn.utils import seed_from  # noqa: E402

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)

RESULTS = REPO / "benchmarks" / "results" / "bench_sampling.txt"
GOAL = 100_000

_lines = []


def say(line=""):
    print(line, flush=True)
    _lines.append(line)


def previous_sample(gan, n, random_state, batch=8192):
    """``gan.sample(n, random_state=...)`` as it was: softmax outputs, concatenated, decoded at once."""
    rng = np.random.RandomState(seed_from(random_state))
    labels = gan.classes_[rng.choice(len(gan.classes_), n, p=gan.class_counts_ / gan.class_counts_.sum())]
    seed = rng.randint(np.iinfo(np.int32).max)
    codes = np.searchsorted(gan.classes_, labels)
    draws = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    outputs = []
    with torch.no_grad():
        for start in range(0, n, batch):
            stop = min(n, start + batch)
            cond = gan._sampling_conditions(codes[start:stop], stop - start, draws)
            label = torch.as_tensor(codes[start:stop])
            outputs.append(gan.net_.generate(stop - start, label, cond, generator=generator, soft=True).numpy())
    return gan.encoder_.inverse_transform(np.concatenate(outputs)), labels


def marginal_distance(a, b):
    """The largest distance between the columns' marginals: total variation (categorical) or KS (numeric)."""
    distances = []
    for column in a.columns:
        if pd.api.types.is_numeric_dtype(a[column]) and not pd.api.types.is_bool_dtype(a[column]):
            distances.append(ks_2samp(a[column].dropna(), b[column].dropna()).statistic)
        else:
            p, q = (frame[column].astype(str).value_counts(normalize=True) for frame in (a, b))
            distances.append(0.5 * p.subtract(q, fill_value=0).abs().sum())
    return max(distances)


def generator_only(gan, n, batch=8192):
    """The generator's share: noise, conditions, network and Gumbel draws, without decoding."""
    draws = np.random.default_rng(0)
    generator = torch.Generator().manual_seed(0)
    codes = np.zeros(n, dtype=int)
    with torch.no_grad():
        for start in range(0, n, batch):
            stop = min(n, start + batch)
            cond = gan._sampling_conditions(codes[start:stop], stop - start, draws)
            gan.net_.generate(stop - start, torch.as_tensor(codes[start:stop]), cond, generator=generator, soft=False)


def seconds(function, *args, **kwargs):
    """Wall-clock and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    function(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="4,000 Adult rows, 1 epoch, 20,000 and 100,000 rows")
    args = parser.parse_args(argv)
    sizes = (20_000, 100_000) if args.quick else (100_000, 1_000_000)
    start = time.perf_counter()
    say("GANAugmenter.sample speed" + (" (QUICK RUN)" if args.quick else ""))
    say(f"One torch thread (torch {torch.__version__}); best of {args.repeats} runs per size, the two ways interleaved")
    say(f"Load average of the machine at the start: {os.getloadavg()[0]:.1f} "
        f"({os.cpu_count()} CPUs; other processes share them, so compare the ratios)")
    X, y = load_adult(return_X_y=True)
    if args.quick:
        X, y = X.iloc[:4000], y.iloc[:4000]
    gan = GANAugmenter(max_epochs=1 if args.quick else args.epochs, random_state=0).fit(X, y)
    say(f"Adult: {len(X):,} rows, {X.shape[1]} columns -> {gan.encoder_.n_features_out_} encoded columns; "
        f"GANAugmenter defaults, {gan.net_.history[-1]['epoch']} epochs")
    now, before = gan.sample(sizes[0], random_state=0)[0], previous_sample(gan, sizes[0], random_state=0)[0]
    again = previous_sample(gan, sizes[0], random_state=1)[0]
    say(f"Same distribution as the previous way ({sizes[0]:,} rows each): largest marginal distance "
        f"{marginal_distance(now, before):.4f}, between two samples of the previous way {marginal_distance(again, before):.4f}")
    say()

    say(f"{'rows':>10} {'sample rows/s':>14} {'(per CPU s)':>12} {'previous rows/s':>16} {'speed-up':>9} {'generator':>10}")
    rates, cpu_rates = {}, {}
    for n in sizes:
        ours, previous = [], []
        for repeat in range(args.repeats):
            ours.append(seconds(gan.sample, n, random_state=repeat))
            previous.append(seconds(previous_sample, gan, n, random_state=repeat))
        (ours, ours_cpu), previous = np.min(ours, axis=0), min(wall for wall, _ in previous)
        generator = min(seconds(generator_only, gan, n)[1] for _ in range(args.repeats))
        rates[n], cpu_rates[n] = n / ours, n / ours_cpu
        say(f"{n:>10,} {n / ours:>14,.0f} {n / ours_cpu:>12,.0f} {n / previous:>16,.0f} {previous / ours:>8.2f}x "
            f"{generator / ours_cpu:>9.0%}")
    say("  rows/s: best wall-clock time of the runs; per CPU s: rows per second of CPU time of this process")
    say("  (what one thread makes when it has a core to itself); generator: share of sample's CPU time spent")
    say("  in the generator (noise, conditions, network, Gumbel draws), the rest decoding")
    say()
    say("Goal")
    met = min(rates.values()) >= GOAL
    say(f"  sample at least {GOAL:,} rows/s on one CPU thread: {rates[sizes[0]]:,.0f} rows/s at {sizes[0]:,} rows, "
        f"{rates[sizes[-1]]:,.0f} at {sizes[-1]:,} (per CPU second: {cpu_rates[sizes[0]]:,.0f} and "
        f"{cpu_rates[sizes[-1]]:,.0f}) -> {'met' if met else 'NOT met in wall-clock time on this loaded machine'}")
    say()
    say(f"Total time {time.perf_counter() - start:.0f} s")
    name = RESULTS.with_name("bench_sampling_quick.txt") if args.quick else RESULTS
    name.parent.mkdir(parents=True, exist_ok=True)
    name.write_text("\n".join(_lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
