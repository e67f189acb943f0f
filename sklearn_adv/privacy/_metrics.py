"""Membership metrics and ROC curves from any scores: what :meth:`~sklearn_adv.privacy.MembershipAuditor.evaluate` reports."""

import numpy as np
from sklearn.metrics import balanced_accuracy_score, precision_score, recall_score, roc_auc_score, roc_curve
from sklearn.utils.validation import check_consistent_length

__all__ = ["membership_metrics", "plot_membership_roc"]


def membership_metrics(is_member, scores, *, threshold=None):
    """Membership-inference metrics of a score, as the literature reports them.

    Parameters
    ----------
    is_member : array-like of shape (n_samples,)
        1 for training records of the target, 0 for others.
    scores : array-like of shape (n_samples,)
        Membership scores, higher meaning member.
    threshold : float, default=None
        Decision threshold (``score > threshold`` means member) for balanced
        accuracy, precision and recall; None uses the one of maximum advantage.

    Returns
    -------
    metrics : dict
        ``roc_auc``; ``tpr_at_1%_fpr`` and ``tpr_at_0.1%_fpr`` (the highest
        true-positive rate whose false-positive rate stays at or below 1% and
        0.1%); ``advantage`` (the largest TPR - FPR over thresholds, Yeom et
        al.); ``balanced_accuracy``, ``precision`` and ``recall`` at the threshold.

    Examples
    --------
    >>> from sklearn_adv.privacy import membership_metrics
    >>> m = membership_metrics([1, 1, 0, 0], [0.9, 0.8, 0.3, 0.1])
    >>> m["roc_auc"], m["advantage"]
    (1.0, 1.0)
    """
    is_member = np.asarray(is_member).astype(int)
    scores = np.asarray(scores, dtype=np.float64)
    check_consistent_length(is_member, scores)
    if set(np.unique(is_member)) != {0, 1}:
        raise ValueError("is_member must hold both members (1) and non-members (0).")
    fpr, tpr, thresholds = roc_curve(is_member, scores)
    best = int(np.argmax(tpr - fpr))
    if threshold is None:
        threshold = thresholds[best] - np.spacing(thresholds[best]) if np.isfinite(thresholds[best]) else np.inf
    predicted = (scores > threshold).astype(int)
    return {
        "roc_auc": float(roc_auc_score(is_member, scores)),
        "tpr_at_1%_fpr": float(tpr[fpr <= 0.01].max()),
        "tpr_at_0.1%_fpr": float(tpr[fpr <= 0.001].max()),
        "advantage": float(tpr[best] - fpr[best]),
        "balanced_accuracy": float(balanced_accuracy_score(is_member, predicted)),
        "precision": float(precision_score(is_member, predicted, zero_division=0.0)),
        "recall": float(recall_score(is_member, predicted)),
    }


def plot_membership_roc(is_member, scores, *, ax=None, label=None):
    """Draw a membership ROC curve on log-log axes, with the chance diagonal.

    Low false-positive rates are where an attack is worth fearing (Carlini et
    al. 2022), so both axes are logarithmic from 1e-4 (or one over the number
    of non-members) to 1.

    Parameters
    ----------
    is_member : array-like of shape (n_samples,)
        1 for training records, 0 for others.
    scores : array-like of shape (n_samples,)
        Membership scores.
    ax : matplotlib Axes, default=None
        None creates a figure.
    label : str, default=None
        Legend label; the AUC is appended.

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    is_member = np.asarray(is_member).astype(int)
    fpr, tpr, _ = roc_curve(is_member, scores)
    auc = roc_auc_score(is_member, scores)
    low = min(1e-3, 1.0 / max(1, (is_member == 0).sum()))
    text = f"AUC {auc:.3f}" if label is None else f"{label} (AUC {auc:.3f})"
    # Not RocCurveDisplay: it draws on linear axes with fixed limits and an equal aspect, and a log axis
    # cannot show its first point (FPR 0) nor its chance line from (0, 0); here zero rates are drawn
    # at half the lowest shown rate, so the curve starts at the axis' edge.
    ax.plot(np.maximum(fpr, low / 2), np.maximum(tpr, low / 2), label=text)
    ax.plot([low, 1], [low, 1], color="gray", linestyle="--", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, 1)
    ax.set_ylim(low, 1)
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.legend(loc="lower right", fontsize="small")
    return ax
