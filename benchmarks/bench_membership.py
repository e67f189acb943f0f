"""Membership-inference audits: our attacks against IBM ART's on the same splits.

Targets that overfit to different degrees are trained on known members and
audited on held-out members and non-members:

* a random forest and an MLP on UCI Adult rows (one-hot encoded, scaled),
* a regularised logistic regression on the same rows (a control that should
  not leak: AUC near 0.5),
* a random forest on ``load_digits``.

Every attack is evaluated on the same evaluation halves of the members and
non-members. Our attacks learn only from a disjoint population sample (the
auditor's ``fit``); ART's black-box attacks are trained on the other halves of
the members and non-members, a stronger threat model (the attacker knows
some training records); ART's shadow-model attack learns from the same
population as ours. ART's rule-based attack returns a hard 0/1 guess (its
``probabilities=True`` output is constant on binary tasks), so its ROC is a
single point.

The generator attacks, against ``GANAugmenter``, are measured by
``bench_membership_gan.py``.

Usage::

    python benchmarks/bench_membership.py [--n-members 3000] [--n-jobs 2]

Writes benchmarks/results/bench_membership.txt and bench_membership_roc.png.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.compose import ColumnTransformer, make_column_selector  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sklearn_adv.datasets import load_adult  # noqa: E402
from sklearn_adv.privacy import MembershipAuditor, membership_metrics, plot_membership_roc  # noqa: E402

OUR_ATTACKS = ["confidence", "loss", "shadow", "lira", "lira_online", "rmia"]


def load_adult_arrays(n_rows, seed):
    """``n_rows`` random complete Adult rows, one-hot encoded and scaled, and 0/1 labels."""
    X, y = load_adult(subset="train", return_X_y=True)
    complete = X.notna().all(axis=1).to_numpy()
    rows = np.random.RandomState(seed).choice(np.flatnonzero(complete), n_rows, replace=False)
    encoder = ColumnTransformer(
        [
            ("num", StandardScaler(), make_column_selector(dtype_include="number")),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), make_column_selector(dtype_exclude="number")),
        ]
    )
    return encoder.fit_transform(X.iloc[rows]).astype(np.float32), y.to_numpy()[rows]


def split(X, y, n_members, seed):
    """Members, non-members and population: three disjoint, equally sized parts."""
    rows = np.random.RandomState(seed).permutation(len(y))
    parts = np.split(rows[: 3 * n_members], 3)
    return [(X[p], y[p]) for p in parts]


def art_attacks(target, members, nonmembers, population, seed):
    """ART's black-box (rf, gb, nn), rule-based and shadow-model attacks: name -> (scores, seconds)."""
    from art.attacks.inference.membership_inference import (
        MembershipInferenceBlackBox,
        MembershipInferenceBlackBoxRuleBased,
        ShadowModels,
    )
    from art.estimators.classification import SklearnClassifier

    (Xm, ym), (Xn, yn) = members, nonmembers
    half_m, half_n = len(ym) // 2, len(yn) // 2
    X_eval = np.vstack([Xm[half_m:], Xn[half_n:]])
    y_eval = np.r_[ym[half_m:], yn[half_n:]]
    n_classes = len(target.classes_)
    one_hot = np.eye(n_classes)
    wrapped = SklearnClassifier(model=target)
    results = {}
    for model_type in ["rf", "gb", "nn"]:
        start = time.perf_counter()
        attack = MembershipInferenceBlackBox(wrapped, attack_model_type=model_type)
        attack.fit(Xm[:half_m], one_hot[ym[:half_m]], Xn[:half_n], one_hot[yn[:half_n]])
        scores = attack.infer(X_eval, one_hot[y_eval], probabilities=True)
        scores = np.asarray(scores).reshape(len(y_eval), -1)[:, -1]
        results[f"ART black-box ({model_type})"] = (scores, time.perf_counter() - start)
    start = time.perf_counter()
    rule = MembershipInferenceBlackBoxRuleBased(wrapped)
    results["ART rule-based (0/1)"] = (
        np.asarray(rule.infer(X_eval, one_hot[y_eval])).ravel().astype(float),
        time.perf_counter() - start,
    )
    start = time.perf_counter()
    Xp, yp = population
    template = SklearnClassifier(model=clone(target).fit(Xp, yp))
    shadow = ShadowModels(template, num_shadow_models=3, random_state=seed)
    (sm_x, sm_y, sm_p), (sn_x, sn_y, sn_p) = shadow.generate_shadow_dataset(Xp, one_hot[yp])
    attack = MembershipInferenceBlackBox(wrapped, attack_model_type="rf")
    attack.fit(sm_x, sm_y, sn_x, sn_y, sm_p, sn_p)
    scores = np.asarray(attack.infer(X_eval, one_hot[y_eval], probabilities=True)).reshape(len(y_eval), -1)[:, -1]
    results["ART shadow models (rf)"] = (scores, time.perf_counter() - start)
    return results


def our_attacks(target, members, nonmembers, population, n_reference_models, n_jobs, seed):
    (Xm, ym), (Xn, yn) = members, nonmembers
    half_m, half_n = len(ym) // 2, len(yn) // 2
    results = {}
    for attack in OUR_ATTACKS:
        start = time.perf_counter()
        auditor = MembershipAuditor(
            target, attack=attack, n_reference_models=n_reference_models, n_jobs=n_jobs, random_state=seed
        ).fit(*population)
        X_eval = np.vstack([Xm[half_m:], Xn[half_n:]])
        y_eval = np.r_[ym[half_m:], yn[half_n:]]
        scores = auditor.score_samples(X_eval, y_eval)
        results[f"ours: {attack}"] = (scores, time.perf_counter() - start)
    return results


def parallel_speedup(target, population, n_jobs, seed):
    """Wall time of RMIA's fit (training 4 reference models) with 1 and ``n_jobs`` joblib workers."""
    times = []
    for jobs in (1, n_jobs):
        start = time.perf_counter()
        MembershipAuditor(target, attack="rmia", n_reference_models=4, n_jobs=jobs, random_state=seed).fit(*population)
        times.append(time.perf_counter() - start)
    return times


def classifier_part(args):
    """Our attacks and ART's on four targets; the summary checks the issue's goals."""
    X, y = load_adult_arrays(3 * args.n_members, args.seed)
    adult = split(X, y, args.n_members, args.seed)
    digits = load_digits()
    digits_parts = split(digits.data / 16.0, digits.target, len(digits.target) // 3, args.seed)
    targets = [
        ("Adult random forest", RandomForestClassifier(n_estimators=100, random_state=args.seed), adult, True),
        ("Adult MLP", MLPClassifier((256, 256), max_iter=300, random_state=args.seed), adult, True),
        ("Adult logistic regression C=0.01 (control)", LogisticRegression(C=0.01, max_iter=1000), adult, False),
        ("digits random forest", RandomForestClassifier(n_estimators=100, random_state=args.seed), digits_parts, True),
    ]
    lines = [
        "Membership inference: ours (sklearn_adv.privacy.MembershipAuditor) vs IBM ART "
        f"{_art_version()}, {args.n_reference_models} reference models, n_jobs={args.n_jobs}",
        "Evaluated on the same held-out halves of members and non-members; ART black-box attacks are trained",
        "on the other halves (they know members), ours and ART's shadow models only on a disjoint population.",
        f"Adult: {args.n_members} members, {args.n_members} non-members, {args.n_members} population rows; "
        "evaluation on half of each. With n non-members, TPR at 0.1% FPR allows floor(n / 1000) false positives.",
        "",
    ]
    summary = []
    fig_rows = []
    for name, estimator, (members, nonmembers, population), leaks in targets:
        target = clone(estimator).fit(*members)
        train_acc = target.score(*members)
        test_acc = target.score(*nonmembers)
        lines.append(f"== {name}: {len(members[1])} members, train acc {train_acc:.3f}, test acc {test_acc:.3f}")
        lines.append(f"{'attack':34s} {'AUC':>6s} {'TPR@1%':>7s} {'TPR@0.1%':>8s} {'seconds':>8s}")
        half_m, half_n = len(members[1]) // 2, len(nonmembers[1]) // 2
        is_member = np.r_[np.ones(len(members[1]) - half_m), np.zeros(len(nonmembers[1]) - half_n)]
        results = our_attacks(target, members, nonmembers, population, args.n_reference_models, args.n_jobs, args.seed)
        results.update(art_attacks(target, members, nonmembers, population, args.seed))
        metrics = {}
        for attack, (scores, seconds) in results.items():
            m = membership_metrics(is_member, scores)
            metrics[attack] = m
            lines.append(
                f"{attack:34s} {m['roc_auc']:6.3f} {m['tpr_at_1%_fpr']:7.3f} {m['tpr_at_0.1%_fpr']:8.3f} {seconds:8.1f}"
            )
        ours = {k: v for k, v in metrics.items() if k.startswith("ours")}
        art = {k: v for k, v in metrics.items() if k.startswith("ART")}
        best_ours = max(ours, key=lambda k: (ours[k]["tpr_at_0.1%_fpr"], ours[k]["roc_auc"]))
        best_art = max(art, key=lambda k: (art[k]["tpr_at_0.1%_fpr"], art[k]["roc_auc"]))
        t_ours, t_art = ours[best_ours]["tpr_at_0.1%_fpr"], art[best_art]["tpr_at_0.1%_fpr"]
        if leaks:
            ratio = t_ours / t_art if t_art > 0 else np.inf
            verdict = "PASS" if ratio >= 2 else "FAIL"
            summary.append(
                f"{name}: best TPR@0.1% ours {t_ours:.3f} ({best_ours[6:]}) vs ART {t_art:.3f} ({best_art[4:]}), "
                f"ratio {ratio:.1f}x (goal >= 2x): {verdict}"
            )
        else:
            worst = max(abs(m["roc_auc"] - 0.5) for m in ours.values())
            summary.append(
                f"{name}: largest |AUC - 0.5| over our attacks {worst:.3f} (goal <= 0.03): "
                f"{'PASS' if worst <= 0.03 else 'FAIL'}"
            )
        fig_rows.append((name, is_member, {k: results[k][0] for k in dict.fromkeys((best_ours, "ours: lira", best_art))}))
        lines.append("")

    mlp = clone(targets[1][1]).fit(*adult[0])
    t_serial, t_parallel = parallel_speedup(mlp, adult[2], args.n_jobs, args.seed)
    summary.append(
        f"RMIA fit with 4 MLP reference models: {t_serial:.1f}s with n_jobs=1, {t_parallel:.1f}s with "
        f"n_jobs={args.n_jobs} (joblib worker processes; {os.cpu_count()} CPU cores, shared with other work)"
    )
    lines += ["Summary"] + summary
    return lines, fig_rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-members", type=int, default=3000, help="Adult members (= non-members = population)")
    parser.add_argument("--n-reference-models", type=int, default=8)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default=str(REPO / "benchmarks" / "results"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines, fig_rows = classifier_part(args)
    _write(lines, out_dir / "bench_membership.txt")
    _plot(fig_rows, out_dir / "bench_membership_roc.png")


def _write(lines, path):
    text = "\n".join(lines)
    print(text, flush=True)
    path.write_text(text + "\n")


def _plot(rows, path):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(rows), figsize=(4.2 * len(rows), 4.4))
    for ax, (name, is_member, scores) in zip(axes, rows):
        for label, s in scores.items():
            plot_membership_roc(is_member, s, ax=ax, label=label)
        ax.set_title(name, fontsize="small")
    fig.suptitle("Membership inference ROC, log-log: best of ours, our LiRA, best of ART")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def _art_version():
    try:
        import art

        return art.__version__
    except ImportError:
        return "(not installed)"


if __name__ == "__main__":
    main()
