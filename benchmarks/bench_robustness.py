"""Adversarial robustness: our attack and adversarial training against ART's and torchattacks'.

Tasks, L-infinity budgets, each on a held-out split:

(a) ``load_digits`` images (pixels / 16, ``(n, 1, 8, 8)``, 1,257 training and
    540 test images, stratified), the default conv net, eps 0.1 and 0.2;
(b) the same digits as flat 64-pixel rows, the default MLP (two hidden layers of 256), eps 0.1;
(c) UCI Adult's six numeric columns, standardised on the training rows
    (3,000 training rows from ``adult.data``, 2,000 test rows from
    ``adult.test``), the default MLP, eps 0.1 (a tenth of a standard deviation).

Models, with the same networks, batch size, optimizer (Adam, lr 1e-3) and epochs:

* normal: ``AdversarialTrainingClassifier(eps=0)``, which trains the network
  ``NeuralClassifier`` trains (the reference of the fit time ratios);
* ours: ``AdversarialTrainingClassifier`` at its defaults apart from ``eps``;
* ART: ``AdversarialTrainerMadryPGD`` (PGD training, 7 steps of eps / 4, ART's
  defaults for both) on a fresh copy of the same network, wrapped in
  ``PyTorchClassifier``, with the same epochs and batch size (not at eps 0.2,
  to stay within the CPU budget).

Attacks on each model (on the first 200 test rows, a random subset), at
the model's eps and within the inputs' bounds
([0, 1] for digits, the training rows' range for Adult):

* ours: the engine's PGD (``sklearn_adv.nn.perturbations.gradient_attack``),
  50 steps of 2.5 * eps / 50 with 5 random restarts, keeping per row the
  first point that fools the model;
* ART: ``ProjectedGradientDescent`` with the same steps, step size and restarts;
* torchattacks: ``PGD`` with the same steps and step size and a random start
  (it has no restarts: compared with ours at 50 x 1). It clips every input
  to [0, 1], so it runs on digits only.

"Found" counts the test rows each attack turns into errors (clean errors
included), at the same budget on the same model: ours must find at least as
many. Times are CPU seconds of one thread per fit (``time.process_time``;
less disturbed by other processes than wall-clock time); "x normal" divides
by the normal fit of the same seed. A warm-up fit runs first.

Usage::

    python benchmarks/bench_robustness.py [--seeds 3] [--epochs 30] [--quick]

Writes benchmarks/results/bench_robustness.txt (``--quick``: bench_robustness_quick.txt).
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TQDM_DISABLE", "1")  # ART's progress bars

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from torch import nn  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torchattacks  # noqa: E402
from art.attacks.evasion import ProjectedGradientDescent  # noqa: E402
from art.defences.trainer import AdversarialTrainerMadryPGD  # noqa: E402
from art.estimators.classification import PyTorchClassifier  # noqa: E402

from sklearn_adv import AdversarialTrainingClassifier  # noqa: E402
from sklearn_adv.datasets import load_adult  # noqa: E402
from sklearn_adv.nn import EncoderHead  # noqa: E402
from sklearn_adv.nn.base import feature_size  # noqa: E402
from sklearn_adv.nn.perturbations import gradient_attack  # noqa: E402

torch.set_num_threads(1)
warnings.filterwarnings("ignore")

STEPS, RESTARTS = 50, 5
BATCH = 64
ADULT_NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


# -- data ----------------------------------------------------------------------------


def digits_images(seed):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        (X / 16.0).astype(np.float32), y, test_size=540, stratify=y, random_state=seed
    )
    return X_train.reshape(-1, 8, 8), X_test.reshape(-1, 8, 8), y_train, y_test, (0.0, 1.0)


def digits_rows(seed):
    X_train, X_test, y_train, y_test, bounds = digits_images(seed)
    return X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1), y_train, y_test, bounds


def adult(seed, n_train=3000, n_test=2000):
    X, y = load_adult(subset="train", return_X_y=True)
    X_test, y_test = load_adult(subset="test", return_X_y=True)
    rng = np.random.default_rng(seed)
    train, test = rng.choice(len(X), n_train, replace=False), rng.choice(len(X_test), n_test, replace=False)
    scaler = StandardScaler().fit(X[ADULT_NUMERIC].iloc[train])
    X_train = scaler.transform(X[ADULT_NUMERIC].iloc[train]).astype(np.float32)
    X_test = scaler.transform(X_test[ADULT_NUMERIC].iloc[test]).astype(np.float32)
    bounds = (X_train.min(axis=0), X_train.max(axis=0))
    return X_train, X_test, y.to_numpy()[train], y_test.to_numpy()[test], bounds


# Per task: the loader, eps, the seeds run and whether ART's trainer runs, within the CPU
# budget (ART's trainer, at about 9x a normal fit, and the 50 x 5 attacks on the conv net
# dominate). Attacks run on the first ATTACK_ROWS test rows (a random subset: the split
# shuffles); clean accuracy on every test row.
TASKS = {
    "digits images, eps 0.1": (digits_images, 0.1, 1, True),
    "digits images, eps 0.2": (digits_images, 0.2, 1, False),
    "digits rows (MLP), eps 0.1": (digits_rows, 0.1, 1, True),
    "Adult numeric (MLP), eps 0.1": (adult, 0.1, 1, True),
}
ATTACK_ROWS = 200


# -- models ----------------------------------------------------------------------------


class Logits(nn.Module):
    """The logits of an (logits, features) module: what ART and torchattacks call."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(x)[0]


def fit_timed(make, *args):
    start = time.process_time()
    model = make(*args)
    return model, time.process_time() - start


def fit_ours(X, y, eps, epochs, seed, bounds):
    clf = AdversarialTrainingClassifier(eps=eps, max_epochs=epochs, batch_size=BATCH, bounds=bounds, random_state=seed)
    clf.fit(X, y)
    return Logits(clf.net_.module_).eval()


def art_classifier(model, X, n_classes, bounds):
    lower, upper = (np.broadcast_to(np.asarray(b, dtype=np.float32), X.shape[1:]).copy() for b in bounds)
    return PyTorchClassifier(
        model, loss=nn.CrossEntropyLoss(), input_shape=X.shape[1:], nb_classes=n_classes, clip_values=(lower, upper),
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-3), device_type="cpu",
    )


def fit_art(X, y, eps, epochs, seed, bounds):
    X = as_batch(X).numpy()
    model = Logits(default_network(X, len(np.unique(y)), seed))
    classifier = art_classifier(model, X, len(np.unique(y)), bounds)
    trainer = AdversarialTrainerMadryPGD(classifier, nb_epochs=epochs, batch_size=BATCH, eps=eps, eps_step=eps / 4, max_iter=7)
    trainer.fit(X, np.eye(len(np.unique(y)), dtype=np.float32)[y])
    return model.eval()


def default_network(X, n_classes, seed):
    """Our estimator's default network for inputs like ``X``, newly initialised from ``seed``."""
    builder = AdversarialTrainingClassifier(random_state=seed)
    in_shape = X.shape[1:]
    torch.manual_seed(seed)
    encoder = builder._build_role("encoder", in_shape, None)
    head = builder._build_role("head", (feature_size(encoder, in_shape),), n_classes)
    return EncoderHead(encoder, head)


# -- attacks ----------------------------------------------------------------------------


def as_batch(X):
    x = torch.as_tensor(X)
    return x[:, None] if x.dim() == 3 else x


def attack_ours(model, X, y, eps, bounds, restarts):
    x, target = as_batch(X), torch.as_tensor(y)
    lower, upper = (torch.as_tensor(np.asarray(b, dtype=np.float32)) for b in bounds)
    return gradient_attack(model, x, target, eps=eps, steps=STEPS, restarts=restarts, lower=lower, upper=upper,
                           generator=torch.Generator().manual_seed(0))


def attack_art(model, X, y, eps, bounds):
    x = as_batch(X).numpy()
    classifier = art_classifier(model, x, int(y.max()) + 1, bounds)
    attack = ProjectedGradientDescent(classifier, eps=eps, eps_step=2.5 * eps / STEPS, max_iter=STEPS,
                                      num_random_init=RESTARTS, batch_size=256, verbose=False)
    return torch.as_tensor(attack.generate(x, y=np.eye(int(y.max()) + 1, dtype=np.float32)[y]))


def attack_torchattacks(model, X, y, eps):
    attack = torchattacks.PGD(model, eps=eps, alpha=2.5 * eps / STEPS, steps=STEPS, random_start=True)
    torch.manual_seed(0)
    return attack(as_batch(X), torch.as_tensor(y))


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == torch.as_tensor(y)).float().mean().item()


# -- the benchmark ----------------------------------------------------------------------------


def run_task(name, load, eps, seeds, epochs, with_art=True):
    rows = []
    for seed in range(seeds):
        X_train, X_test, y_train, y_test, bounds = load(seed)
        fits = {}
        normal, t_normal = fit_timed(fit_ours, X_train, y_train, 0.0, epochs, seed, bounds)
        fits["normal"] = (normal, t_normal)
        fits["ours"] = fit_timed(fit_ours, X_train, y_train, eps, epochs, seed, bounds)
        if with_art:
            fits["ART Madry PGD"] = fit_timed(fit_art, X_train, y_train, eps, epochs, seed, bounds)
        for model_name, (model, seconds) in fits.items():
            row = {"task": name, "model": model_name, "seed": seed, "clean": accuracy(model, as_batch(X_test), y_test),
                   "fit s": seconds, "x normal": seconds / t_normal}
            X_test, y_test = X_test[:ATTACK_ROWS], y_test[:ATTACK_ROWS]
            ours5 = attack_ours(model, X_test, y_test, eps, bounds, RESTARTS)
            row["ours 50x5"] = accuracy(model, ours5, y_test)
            row["ART 50x5"] = accuracy(model, attack_art(model, X_test, y_test, eps, bounds), y_test)
            if isinstance(bounds[0], float) and bounds == (0.0, 1.0):  # torchattacks clips to [0, 1]
                row["ours 50x1"] = accuracy(model, attack_ours(model, X_test, y_test, eps, bounds, 1), y_test)
                row["torchattacks 50x1"] = accuracy(model, attack_torchattacks(model, X_test, y_test, eps), y_test)
            rows.append(row)
            print(_format_row(row), flush=True)
    return rows


COLUMNS = ["clean", "ours 50x5", "ART 50x5", "ours 50x1", "torchattacks 50x1", "fit s", "x normal"]


def _width(column):
    return max(8, len(column))


def _format_row(row, prefix=""):
    cells = [f"{row[c]:{_width(c)}.3f}" if c in row and not np.isnan(row[c]) else f"{'n/a':>{_width(c)}}" for c in COLUMNS]
    return f"{prefix}{row['task']:<30} {row['model']:<15} " + " ".join(cells)


def summary(rows, n_test):
    import pandas as pd

    table = pd.DataFrame(rows)
    means = table.groupby(["task", "model"], sort=False)[[c for c in COLUMNS if c in table]].mean()
    lines = [f"{'task':<30} {'model':<15} " + " ".join(f"{c:>{_width(c)}}" for c in COLUMNS)]
    for (task, model), values in means.iterrows():
        lines.append(_format_row({"task": task, "model": model, **values.to_dict()}))
    lines += ["", "Attack strength: test rows turned into errors at the same budget, per model (summed over seeds)"]
    for attack in ("ours 50x5", "ART 50x5", "ours 50x1", "torchattacks 50x1"):
        table[f"found {attack}"] = np.round((1 - table[attack]) * table["task"].map(n_test)) if attack in table else np.nan
    found = table.groupby(["task", "model"], sort=False)[[c for c in table if c.startswith("found")]].sum(min_count=1)
    for (task, model), values in found.iterrows():
        text = f"  {task:<30} {model:<15} ours 50x5 {values['found ours 50x5']:5.0f} vs ART 50x5 {values['found ART 50x5']:5.0f}"
        if not np.isnan(values["found torchattacks 50x1"]):
            text += f"; ours 50x1 {values['found ours 50x1']:5.0f} vs torchattacks 50x1 {values['found torchattacks 50x1']:5.0f}"
        lines.append(text)
    lines += ["", "Adversarial training: ours against ART's Madry PGD trainer (robust accuracy under ours 50x5, CPU time)"]
    for task, block in table.groupby("task", sort=False):
        ours, art = block[block.model == "ours"], block[block.model == "ART Madry PGD"]
        if art.empty:
            continue
        lines.append(
            f"  {task:<30} robust ours {ours['ours 50x5'].mean():.3f} vs ART {art['ours 50x5'].mean():.3f};"
            f" time ours/ART {ours['fit s'].sum() / art['fit s'].sum():.2f}"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=None, help="seeds of every task (default: per task, 1 or 2)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of every fit (the estimator's default)")
    parser.add_argument("--quick", action="store_true", help="1 seed, 5 epochs: checks that the script runs")
    args = parser.parse_args()
    seeds, epochs = (1, 5) if args.quick else (args.seeds, args.epochs)
    seeds_of = lambda default: default if seeds is None else seeds  # noqa: E731
    start = time.perf_counter()
    header = [
        f"bench_robustness: {epochs} epochs, batch {BATCH}, one thread, torch {torch.__version__}; seeds per task:"
        + ",".join(f" {name} {seeds_of(n)}" for name, (_, _, n, _) in TASKS.items()),
        f"attacks: PGD {STEPS} steps of 2.5 eps / {STEPS}, {RESTARTS} restarts (ours, ART) or 1 (ours, torchattacks)",
        "columns: accuracy on the clean test rows (all) and under each attack (the first "
        f"{ATTACK_ROWS} test rows); fit CPU seconds; fit time / normal fit's",
        "",
    ]
    print("\n".join(header), flush=True)
    # A warm-up fit, so that one-off costs (kernels, lazy imports) weigh on no timed fit.
    X_warm, _, y_warm, _, warm_bounds = digits_images(0)
    fit_ours(X_warm[:256], y_warm[:256], 0.1, 2, 0, warm_bounds)
    fit_art(X_warm[:256], y_warm[:256], 0.1, 1, 0, warm_bounds)
    rows, n_test = [], {}
    out = REPO / "benchmarks" / "results" / ("bench_robustness_quick.txt" if args.quick else "bench_robustness.txt")
    for name, (load, eps, n_seeds, with_art) in TASKS.items():
        n_test[name] = min(len(load(0)[3]), ATTACK_ROWS)
        rows += run_task(name, load, eps, seeds_of(n_seeds), epochs, with_art)
        # Written after every task, so that an interrupted run leaves what it measured.
        text = "\n".join(header) + summary(rows, n_test) + f"\n\nWall-clock time so far: {time.perf_counter() - start:.0f} s\n"
        out.write_text(text, encoding="utf-8")
    print("\n" + text)


if __name__ == "__main__":
    main()
