"""What :class:`~sklearn_adv.privacy.MembershipAuditor` checks: before any training, and in the target's outputs."""

import math
import warnings

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.utils import get_tags

from sklearn_adv import plugins


def check_calibration_rows(n_samples, n_calibration, *, fpr, calibration_size):
    """Refuse a population that leaves no calibration record; warn when it is too small to hold ``fpr``.

    The threshold of ``predict`` is the empirical ``1 - fpr`` quantile of the
    ``n_calibration`` held-out scores. A fresh non-member exceeds the
    largest of ``n`` such scores with probability ``1 / (n + 1)``, the
    smallest false-positive rate ``n`` scores can hold: below ``1 / fpr - 1``
    held-out records the threshold is their maximum and flags about
    ``1 / (n + 1)`` of fresh non-members, not ``fpr`` (a third of them for
    10 records at ``calibration_size=0.2``).
    """
    needed = math.ceil(round(1 / fpr, 9)) - 1
    population = _population_holding(needed, calibration_size)
    if n_samples < 4 or n_calibration < 1 or n_calibration >= n_samples - 1:
        raise ValueError(
            f"X has {n_samples} sample(s); the auditor holds out calibration_size={calibration_size} of the "
            f"population to set the threshold of predict and trains on the rest, so it needs at least 4 records, "
            f"with at least 1 held out and 2 left. Holding fpr={fpr} takes {needed} held-out records: "
            f"a population of at least {population} at calibration_size={calibration_size}."
        )
    if n_calibration < needed:
        warnings.warn(
            f"calibration_size={calibration_size} holds out {n_calibration} of the {n_samples} population records "
            f"to set the threshold of predict: too few to hold fpr={fpr}. The threshold is their highest score, "
            f"which about {1 / (n_calibration + 1):.1%} of fresh non-members exceed. "
            f"Holding fpr={fpr} takes at least {needed} held-out records (a population of {population} at "
            f"calibration_size={calibration_size}), and a few times that to hold it reliably; or raise fpr. "
            "score_samples, and evaluate's ROC AUC and true-positive rates, do not depend on this threshold.",
            UserWarning,
            stacklevel=4,  # the caller of fit, through fit and its validation wrapper
        )


def _population_holding(n_calibration, calibration_size):
    """The smallest population from which ``calibration_size`` holds out ``n_calibration`` records."""
    n_samples = max(4, math.ceil(n_calibration / calibration_size - 1e-9))
    while int(round(n_samples * calibration_size)) < n_calibration:
        n_samples += 1
    return n_samples


def check_population_labels(y, y_reference, n_models):
    """Enough population records of every class for the requested reference models."""
    labels = np.unique(y)
    if len(labels) < 2:
        raise ValueError(f"y has 1 class ({labels[0]!r}); the population needs at least two classes.")
    if n_models:
        reference_labels, counts = np.unique(y_reference, return_counts=True)
        rarest = 0 if len(reference_labels) < len(labels) else counts.min()
        if rarest < 2:
            raise ValueError(
                f"X has {len(y)} sample(s), too few to train n_reference_models={n_models} reference models "
                "on halves of the population: after holding out calibration_size for the threshold, every "
                f"class needs at least 2 records (the rarest has {rarest}). Give more population data, or use "
                "attack='loss' or 'confidence', which train no reference models."
            )


def check_reference_template(template, attack, *, from_target):
    """Reference models must give the outputs the attack reads; find out before training them."""
    source = "estimator" if from_target else "reference_estimator"
    if not hasattr(template, "fit") or not hasattr(template, "get_params"):
        raise TypeError(
            f"{source}={type(template).__name__} cannot be cloned and refitted as a reference model; "
            "pass an unfitted scikit-learn style estimator as reference_estimator."
        )
    if attack.needs_proba and not hasattr(template, "predict_proba"):
        raise TypeError(
            f"The {attack_name(attack)!r} attack reads the reference models' probabilities, but "
            f"{source}={type(template).__name__} has no predict_proba."
        )
    if not (hasattr(template, "predict_proba") or hasattr(template, "decision_function")):
        raise TypeError(f"{source}={type(template).__name__} has neither predict_proba nor decision_function.")


def check_target_output(estimator, X, *, records):
    """The target's outputs on ``X`` (probabilities, else margins); a NaN among them is an error naming it.

    NaN would otherwise pass through every attack into the membership
    scores, and fail much later in a metric as "Input contains NaN.",
    naming neither the target nor its method.
    """
    method = "predict_proba" if hasattr(estimator, "predict_proba") else "decision_function"
    output = getattr(estimator, method)(X)
    try:
        values = np.asarray(output, dtype=np.float64)
    except (TypeError, ValueError):  # not numbers: the attack reading them says what is wrong
        return output
    rows = np.isnan(values.reshape(len(values), -1)).any(axis=1)
    if rows.any():
        raise ValueError(
            f"The target model {target_name(estimator)} returned NaN in {method} for {int(rows.sum())} of the "
            f"{len(rows)} {records} (the first at row {int(np.flatnonzero(rows)[0])}); membership scores "
            "cannot be computed from them."
        )
    return output


def target_name(estimator):
    """The target's class name; a frozen model is named by the model inside."""
    if isinstance(estimator, FrozenEstimator):
        return f"{type(estimator.estimator).__name__} (frozen)"
    return type(estimator).__name__


def target_input_tags(estimator):
    try:
        return get_tags(estimator).input_tags
    except Exception:  # not a scikit-learn estimator: let it decide
        return None


def target_allows_nan(estimator):
    tags = target_input_tags(estimator)
    return True if tags is None else tags.allow_nan


def attack_name(attack):
    for name in plugins.available("attack"):
        component = plugins.get("attack", name)
        if component is type(attack) or component is attack:
            if name == "lira" and getattr(attack, "online", False):
                return "lira_online"
            return name
    return type(attack).__name__
