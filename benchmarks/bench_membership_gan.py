"""Membership inference against a GAN: GANAugmenter audited by the four generator attacks, over training epochs.

``GANAugmenter`` is trained on a few Adult rows (the members) for few and for
many epochs, and each fitted GAN is audited by the discriminator (LOGAN,
white-box), detector (LOGAN, black-box), distance-to-closest-record
(GAN-Leaks) and density (DOMIAS) attacks on the same members and
non-members, so the curve shows how the leak grows as the GAN overfits.

Two settings: the original one (250 members, batch 50) and a smaller
training set (100 members, batch 50), whose rows a GAN memorises sooner.
Every attack learns from a population sample disjoint from members and
non-members; each GAN is audited twice, with a population as large as its
training set and with 2000 population rows, since the density attack models
the population's density and needs records by the thousand. A stand-in
generator that hands out copies of its training rows gives the ceiling.

Then the private GAN: ``GANAugmenter(epsilon=1)`` at its defaults (plus the
public bounds of the numeric columns) on 100 members (the first setting's)
and on 2,000, audited by the same attacks with 2,000 population rows. With
100 members an AUC's standard error is about 0.03, so the 2,000-member
audit (standard error about 0.01) is the one the goal reads: every attack
at most 0.53.

Usage::

    python benchmarks/bench_membership_gan.py [--settings 100:10,1000,3000,6000 250:10,4000] [--private 100 2000]

Writes benchmarks/results/bench_membership_gan.txt.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sklearn_adv.datasets import load_adult  # noqa: E402
from sklearn_adv.privacy import MembershipAuditor  # noqa: E402

ATTACKS = ["discriminator", "detector", "distance", "density"]
GOAL = 0.65  # the density attack's AUC against a GAN trained long enough to overfit
PRIVATE_GOAL = 0.53  # every attack's AUC against the epsilon-1 GAN
# The public bounds of Adult's numeric columns (from its documentation), as bench_private gives them.
BOUNDS = {"age": (17, 90), "fnlwgt": (0, 1_500_000), "education-num": (1, 16), "capital-gain": (0, 99_999),
          "capital-loss": (0, 4_356), "hours-per-week": (1, 99)}


def adult_split(n_members, n_nonmembers, n_population, seed):
    """Members, non-members and population: disjoint random Adult training rows, and the members' labels."""
    X, y = load_adult(subset="train", return_X_y=True)
    rows = np.random.RandomState(seed).permutation(len(y))
    X, y = X.iloc[rows].reset_index(drop=True), y.iloc[rows].reset_index(drop=True)
    stops = np.cumsum([n_members, n_nonmembers, n_population])
    members, nonmembers, population = X[: stops[0]], X[stops[0] : stops[1]], X[stops[1] : stops[2]]
    return members, y[: stops[0]], nonmembers.reset_index(drop=True), population.reset_index(drop=True)


def audit(generator, attack, members, nonmembers, population, seed):
    """The attack's metrics on members against non-members, learnt from ``population``, and its seconds."""
    start = time.perf_counter()
    auditor = MembershipAuditor(generator, attack=attack, random_state=seed).fit(population)
    metrics = auditor.evaluate(members, None, nonmembers, None).iloc[0]
    return metrics, time.perf_counter() - start


def setting_part(n_members, epochs_list, args):
    """One training-set size: the GAN fitted for each number of epochs, audited by every attack."""
    from sklearn_adv.augmentation import GANAugmenter

    members, y_members, nonmembers, population = adult_split(n_members, args.n_nonmembers, args.n_population, args.seed)
    small_population = population[:n_members]
    lines = [
        f"== {n_members} members (training rows), {len(nonmembers)} non-members; "
        f"GANAugmenter(batch_size={args.batch_size}, random_state={args.seed}), defaults otherwise, conditioned on income",
        f"AUC with a population of {n_members} rows (as many as the members) and of {len(population)} rows; "
        f"TPR at low FPR with {len(population)}.",
        f"{'epochs':>6s} {'attack':14s} {f'AUC@{n_members}':>8s} {f'AUC@{len(population)}':>9s} "
        f"{'TPR@1%':>7s} {'TPR@0.1%':>8s} {'fit cpu s':>9s} {'audit s':>7s}",
    ]
    aucs = {}
    for epochs in epochs_list:
        start = time.process_time()
        gan = GANAugmenter(max_epochs=epochs, batch_size=args.batch_size, random_state=args.seed).fit(members, y_members)
        fit_cpu = time.process_time() - start
        for attack in ATTACKS:
            small, _ = audit(gan, attack, members, nonmembers, small_population, args.seed)
            large, seconds = audit(gan, attack, members, nonmembers, population, args.seed)
            aucs[epochs, attack] = (small["roc_auc"], large["roc_auc"])
            lines.append(
                f"{epochs:6d} {attack:14s} {small['roc_auc']:8.3f} {large['roc_auc']:9.3f} {large['tpr_at_1%_fpr']:7.3f} "
                f"{large['tpr_at_0.1%_fpr']:8.3f} {fit_cpu:9.1f} {seconds:7.1f}"
            )
        print("\n".join(lines[-len(ATTACKS) :]), flush=True)
    copier = _RowCopier(members)
    for attack in ATTACKS[1:]:
        small, _ = audit(copier, attack, members, nonmembers, small_population, args.seed)
        large, seconds = audit(copier, attack, members, nonmembers, population, args.seed)
        lines.append(
            f"{'copies':>6s} {attack:14s} {small['roc_auc']:8.3f} {large['roc_auc']:9.3f} {large['tpr_at_1%_fpr']:7.3f} "
            f"{large['tpr_at_0.1%_fpr']:8.3f} {0.0:9.1f} {seconds:7.1f}"
        )
    few, many = min(epochs_list), max(epochs_list)
    summary = []
    for attack in ATTACKS:
        (few_small, few_large), (many_small, many_large) = aucs[few, attack], aucs[many, attack]
        summary.append(
            f"{n_members} members, {attack}: AUC {few_large:.3f} after {few} epochs, {many_large:.3f} after {many} "
            f"(population {len(population)}); {few_small:.3f} and {many_small:.3f} with a population of {n_members}"
        )
    best_other = max(aucs[many, attack][1] for attack in ATTACKS if attack != "density")
    density = aucs[many, "density"][1]
    first = next((e for e in epochs_list if aucs[e, "density"][1] >= GOAL), None)
    summary.append(
        f"{n_members} members: density attack AUC {density:.3f} after {many} epochs (goal >= {GOAL}): "
        f"{'PASS' if density >= GOAL else 'FAIL'}"
        + (f", first reached after {first} epochs" if first is not None else "")
        + f"; the best other attack {best_other:.3f}"
    )
    return lines, summary


def auc_standard_error(auc, n_positive, n_negative):
    """Hanley and McNeil's (1982) standard error of a ROC AUC."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = auc * (1 - auc) + (n_positive - 1) * (q1 - auc**2) + (n_negative - 1) * (q2 - auc**2)
    return np.sqrt(variance / (n_positive * n_negative))


def private_part(member_sizes, args):
    """GANAugmenter(epsilon=1) at its defaults on each member count, audited by every attack."""
    from sklearn_adv.augmentation import GANAugmenter

    lines = [
        f"== GANAugmenter(epsilon=1, bounds=public, random_state={args.seed}), defaults otherwise, conditioned on "
        f"income; {args.n_nonmembers} non-members, {args.n_population} population rows",
        f"{'members':>7s} {'attack':14s} {'AUC':>6s} {'+-SE':>6s} {'TPR@1%':>7s} {'epsilon_':>8s} {'steps':>5s} "
        f"{'fit cpu s':>9s} {'audit s':>7s}",
    ]
    worst = {}
    for n_members in member_sizes:
        members, y_members, nonmembers, population = adult_split(n_members, args.n_nonmembers, args.n_population,
                                                                 args.seed)
        start = time.process_time()
        gan = GANAugmenter(epsilon=1.0, bounds=BOUNDS, random_state=args.seed).fit(members, y_members)
        fit_cpu = time.process_time() - start
        for attack in ATTACKS:
            metrics, seconds = audit(gan, attack, members, nonmembers, population, args.seed)
            auc = metrics["roc_auc"]
            worst[n_members] = max(worst.get(n_members, 0.0), auc)
            lines.append(
                f"{n_members:7d} {attack:14s} {auc:6.3f} {auc_standard_error(auc, n_members, len(nonmembers)):6.3f} "
                f"{metrics['tpr_at_1%_fpr']:7.3f} {gan.epsilon_:8.3f} {gan.steps_:5d} {fit_cpu:9.1f} {seconds:7.1f}"
            )
        print("\n".join(lines[-len(ATTACKS):]), flush=True)
    summary = [
        f"epsilon 1, {n} members: the strongest attack's AUC {auc:.3f} (goal <= {PRIVATE_GOAL}): "
        f"{'PASS' if auc <= PRIVATE_GOAL else 'FAIL'}"
        for n, auc in worst.items()
    ]
    return lines, summary


class _RowCopier:
    """A stand-in generator that samples its training rows with replacement."""

    def __init__(self, rows):
        self.rows = rows

    def sample(self, n, random_state=None):
        return self.rows.sample(n=n, replace=True, random_state=random_state).reset_index(drop=True)


def parse_setting(text):
    n_members, epochs = text.split(":")
    return int(n_members), [int(e) for e in epochs.split(",")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--settings",
        nargs="+",
        default=["100:10,1000,3000,6000", "250:10,4000"],
        help="MEMBERS:EPOCHS,EPOCHS,... for each training-set size",
    )
    parser.add_argument("--private", type=int, nargs="*", default=[100, 2000],
                        help="member counts of the epsilon-1 GAN's audits (none: skip)")
    parser.add_argument("--n-nonmembers", type=int, default=1000)
    parser.add_argument("--n-population", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "bench_membership_gan.txt"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(1)
    start = time.process_time()
    lines = [
        "Membership inference against a GAN: sklearn_adv.GANAugmenter audited by the four generator attacks",
        "Adult rows, all 14 columns (numbers and categories); members, non-members and population disjoint.",
        "'copies': a generator that samples its training rows themselves (complete memorisation).",
        "",
    ]
    summary = []
    for text in args.settings:
        part, part_summary = setting_part(*parse_setting(text), args)
        lines += part + [""]
        summary += part_summary
    if args.private:
        part, part_summary = private_part(args.private, args)
        lines += part + [""]
        summary += part_summary
    lines += ["Summary"] + summary
    lines.append(
        f"With {args.n_nonmembers} non-members, TPR at 1% FPR allows {args.n_nonmembers // 100} false positives and "
        f"TPR at 0.1% allows {args.n_nonmembers // 1000}: read the AUC first."
    )
    lines.append(f"Total CPU time {time.process_time() - start:.0f} s on one thread (torch.set_num_threads(1)).")
    text = "\n".join(lines)
    print(text, flush=True)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
