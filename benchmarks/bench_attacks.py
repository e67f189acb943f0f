"""Attack strength: our PGD against ART's and torchattacks' at the same budget, and the Square Attack on a forest.

Data: ``load_digits``, pixels scaled to [0, 1], 1,257 training / 540 test
images (stratified split, seed 0); every attack keeps pixels in [0, 1].

Part 1, gradient attacks. Four models, fitted once: a logistic regression,
scikit-learn's ``MLPClassifier`` (two hidden layers of 256), our
``NeuralClassifier`` at its defaults on rows (MLP 64-64, 30 epochs) and on
8x8 images (its small ConvNet, 15 epochs). Each attack sees the same torch
function of the model (the one ``PGDAttack`` rebuilds), wrapped as a module
for the peers. Budgets (steps x restarts) and ``eps``:
L-infinity 0.1 and 0.2, L2 1.0; ``step_size = 2.5 * eps / steps`` for the
peers and for "ours, fixed step"; "ours" is ``PGDAttack`` at its defaults
(Auto-PGD's step sizes; restarts alternate the cross-entropy and the margin
loss, which "ours, fixed step" keeps). The figure is the number of test images
misclassified after the attack (clean errors included; higher is stronger),
the mean over seeds. torchattacks has no restarts: an image counts when any
of its independent runs fools the model, which is what restarts do.

Part 2, the black-box Square Attack on a ``RandomForestClassifier`` (100
trees) at ``eps=0.2`` (L-infinity) for a few query budgets per image.

Usage::

    python benchmarks/bench_attacks.py [--seeds 3] [--quick]

Writes benchmarks/results/bench_attacks.txt (``--quick``: bench_attacks_quick.txt).
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
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torchattacks  # noqa: E402
from art.attacks.evasion import ProjectedGradientDescent  # noqa: E402
from art.estimators.classification import PyTorchClassifier  # noqa: E402

from sklearn_adv import NeuralClassifier, PGDAttack, SquareAttack  # noqa: E402
from sklearn_adv.robustness import torch_forward  # noqa: E402

torch.set_num_threads(1)
warnings.filterwarnings("ignore")

SETTINGS = [("inf", 0.1, 10, 1), ("inf", 0.1, 50, 5), ("inf", 0.2, 10, 1), ("2", 1.0, 10, 1)]
QUICK_SETTINGS = [("inf", 0.1, 10, 1), ("2", 1.0, 10, 1)]
QUERY_BUDGETS = (100, 300, 1000)


class AsModule(torch.nn.Module):
    """A model's torch function as the float32 module the peers take."""

    def __init__(self, forward):
        super().__init__()
        self.forward_rows = forward
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # ART reads a module's parameters

    def forward(self, x):
        return self.forward_rows(x.double().reshape(len(x), -1)).float()


def data():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=540, random_state=0, stratify=y)


def models(X_train, y_train):
    return {
        "logistic regression": LogisticRegression(max_iter=2000).fit(X_train, y_train),
        "MLPClassifier 256-256": MLPClassifier((256, 256), max_iter=300, random_state=0).fit(X_train, y_train),
        "NeuralClassifier, MLP": NeuralClassifier(max_epochs=30, random_state=0).fit(X_train, y_train),
        "NeuralClassifier, ConvNet": NeuralClassifier(max_epochs=15, image_shape=(8, 8), random_state=0).fit(
            X_train, y_train),
    }


def fooled(model, X_adv, y):
    return int((model.predict(np.asarray(X_adv, dtype=np.float64).reshape(len(y), -1)) != y).sum())


def run_gradient_attacks(model, X_train, X_test, y_test, norm, eps, steps, restarts, seed):
    step = 2.5 * eps / steps
    module = AsModule(torch_forward(model, X_test)).eval()
    counts, seconds = {}, {}

    start = time.process_time()
    attack = PGDAttack(model, eps=eps, norm=norm, steps=steps, restarts=restarts, bounds=(0, 1), random_state=seed)
    counts["ours"] = fooled(model, attack.fit(X_train).generate(X_test, y_test), y_test)
    seconds["ours"] = time.process_time() - start

    attack.set_params(step_size=step)
    counts["ours, fixed step"] = fooled(model, attack.generate(X_test, y_test), y_test)

    np.random.seed(seed)  # ART draws its random starts from numpy's global generator
    classifier = PyTorchClassifier(module, loss=torch.nn.CrossEntropyLoss(), input_shape=(64,), nb_classes=10,
                                   clip_values=(0.0, 1.0))
    start = time.process_time()
    art = ProjectedGradientDescent(classifier, norm=np.inf if norm == "inf" else 2, eps=eps, eps_step=step,
                                   max_iter=steps, num_random_init=restarts, batch_size=len(X_test), verbose=False)
    counts["ART"] = fooled(model, art.generate(X_test.astype(np.float32), y=y_test), y_test)
    seconds["ART"] = time.process_time() - start

    torch.manual_seed(seed)  # torchattacks draws from torch's global generator
    images = torch.tensor(X_test, dtype=torch.float32).reshape(-1, 1, 8, 8)
    labels = torch.tensor(y_test)
    peer = (torchattacks.PGD if norm == "inf" else torchattacks.PGDL2)(module, eps=eps, alpha=step, steps=steps,
                                                                      random_start=True)
    start = time.process_time()
    any_run = np.zeros(len(y_test), dtype=bool)
    for _ in range(restarts):
        X_adv = peer(images, labels).numpy()
        any_run |= model.predict(X_adv.reshape(len(y_test), -1).astype(np.float64)) != y_test
    counts["torchattacks"] = int(any_run.sum())
    seconds["torchattacks"] = time.process_time() - start
    return counts, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="two settings, one seed, small query budgets")
    args = parser.parse_args()
    seeds = 1 if args.quick else args.seeds
    X_train, X_test, y_train, y_test = data()
    fitted = models(X_train, y_train)
    methods = ["ours", "ours, fixed step", "ART", "torchattacks"]
    lines = [
        "Attack strength on load_digits (pixels in [0, 1], 540 test images): images misclassified after the attack,",
        f"mean over {seeds} seed(s) (the 50x5 budget: one seed); CPU seconds per attack in brackets.",
        "",
        f"{'model':<27}{'setting':<22}" + "".join(f"{m:>20}" for m in methods) + f"{'ours >= peers':>15}",
    ]
    print(lines[-1], flush=True)
    for name, model in fitted.items():
        clean = fooled(model, X_test, y_test)
        for norm, eps, steps, restarts in QUICK_SETTINGS if args.quick else SETTINGS:
            runs = [run_gradient_attacks(model, X_train, X_test, y_test, norm, eps, steps, restarts, seed)
                    for seed in range(1 if restarts > 1 else seeds)]
            mean = {m: np.mean([c[m] for c, _ in runs]) for m in methods}
            cpu = {m: np.mean([s[m] for _, s in runs]) for m in ("ours", "ART", "torchattacks")}
            cells = "".join(f"{mean[m]:>12.1f}" + (f" ({cpu[m]:4.1f}s)" if m in cpu else " " * 8) for m in methods)
            ok = "yes" if mean["ours"] >= max(mean["ART"], mean["torchattacks"]) else "NO"
            setting = f"L{norm} eps {eps:g}, {steps}x{restarts}"
            lines.append(f"{name:<27}{setting:<22}{cells}{ok:>15}")
            print(lines[-1], flush=True)
        lines.append(f"{'':<27}(clean errors: {clean})")

    lines += ["", "Square Attack (black box), RandomForestClassifier(100 trees), Linf eps 0.2: accuracy on the 540 test images"]
    forest = RandomForestClassifier(random_state=0).fit(X_train, y_train)
    lines.append(f"  clean: {forest.score(X_test, y_test):.3f}")
    for queries in (100,) if args.quick else QUERY_BUDGETS:
        start = time.process_time()
        attack = SquareAttack(forest, eps=0.2, max_queries=queries, bounds=(0, 1), random_state=0).fit(X_train)
        accuracy = forest.score(attack.generate(X_test, y_test), y_test)
        lines.append(f"  {queries:>5} queries per image: {accuracy:.3f} ({time.process_time() - start:.1f} CPU s)")
        print(lines[-1], flush=True)

    out = REPO / "benchmarks" / "results" / ("bench_attacks_quick.txt" if args.quick else "bench_attacks.txt")
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
