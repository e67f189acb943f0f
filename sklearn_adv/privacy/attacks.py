"""Membership-inference attacks, each a small plugin of kind ``"attack"``.

An attack is a class with two methods, both called by
:class:`~sklearn_adv.privacy.MembershipAuditor`:

``fit(context)``
    learns whatever the attack needs from an :class:`AuditContext`: the
    fitted target, the population data it was not trained on, and reference
    models the auditor trained on halves of that population.
``score(X, y)``
    returns one membership score per record, higher meaning "more likely a
    training record of the target".

Three class attributes tell the auditor what to prepare and check before any
training: ``target_type`` (``"classifier"`` or ``"generator"``),
``needs_proba`` (the target must have ``predict_proba``) and
``needs_reference_models``. A third-party attack is one subclass of
:class:`MembershipAttack` and a registration::

    import numpy as np

    from sklearn_adv import plugins
    from sklearn_adv.privacy.attacks import MembershipAttack, class_proba

    @plugins.register("attack", "entropy")
    class EntropyAttack(MembershipAttack):
        needs_proba = True

        def fit(self, context):
            self.target_, self.classes_ = context.target, context.classes
            return self

        def score(self, X, y):
            proba = class_proba(self.target_, X, self.classes_)
            return (proba * np.log(np.clip(proba, 1e-12, 1))).sum(axis=1)

The attacks on classifiers live here; the attacks on generators, which read
a fitted GAN-like object by duck typing, live in
:mod:`sklearn_adv.privacy.generator_attacks` and are imported here too
(:class:`DiscriminatorAttack`, :class:`DetectorAttack`, :class:`DistanceAttack`
and :class:`DensityAttack`, each saying what it needs the object to expose).
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit
from scipy.stats import norm
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils import check_random_state

from sklearn_adv import plugins
from sklearn_adv.privacy._reference import fit_reference_models, paired_half_masks
from sklearn_adv.utils import concat_rows

__all__ = [
    "AuditContext",
    "MembershipAttack",
    "ConfidenceAttack",
    "LossAttack",
    "ShadowModelAttack",
    "LiRAAttack",
    "OnlineLiRAAttack",
    "RMIAAttack",
    "DiscriminatorAttack",
    "DetectorAttack",
    "DistanceAttack",
    "DensityAttack",
    "class_proba",
    "true_class_proba",
    "true_class_logit",
]

# Probabilities are clipped away from 0 and 1 before logs and logits: a random
# forest often outputs exactly 1.0 on its training rows.
_EPS = 1e-6


# --------------------------------------------------------------------------
# The attack interface
# --------------------------------------------------------------------------


@dataclass
class AuditContext:
    """What the auditor hands an attack's ``fit``.

    Attributes
    ----------
    target : object
        The fitted target (a classifier, or a GAN-like object).
    X, y : array-like or DataFrame, and array or None
        Population records the target was not trained on (the part of the
        auditor's ``fit`` data not held out for calibration).
    classes : ndarray or None
        The target's ``classes_``.
    reference_models : list
        Models fitted on halves of the population (empty unless the attack
        sets ``needs_reference_models``).
    in_masks : ndarray of shape (n_reference_models, n_population) or None
        ``in_masks[k, i]`` is True when record ``i`` trained reference model ``k``.
    reference_estimator : estimator or None
        The unfitted template of the reference models, for attacks that train
        more of them (online LiRA).
    n_reference_models : int
    n_jobs, verbose, random_state
        The auditor's settings; ``random_state`` is a RandomState.
    """

    target: object
    X: object
    y: object
    classes: object = None
    reference_models: list = field(default_factory=list)
    in_masks: object = None
    reference_estimator: object = None
    n_reference_models: int = 0
    n_jobs: object = None
    verbose: int = 0
    random_state: object = None


class MembershipAttack(BaseEstimator):
    """Base class of membership-inference attacks.

    Subclasses set the class attributes below, store their hyperparameters in
    ``__init__`` (so ``get_params`` and ``clone`` work, and the auditor's
    ``attack__param`` reaches them), and implement ``fit(context)`` and
    ``score(X, y)``.

    Attributes
    ----------
    target_type : {"classifier", "generator"}
        What the audited object is.
    required_attributes : tuple of str
        For generator attacks: what the GAN-like object must expose.
    needs_proba : bool
        The target must expose ``predict_proba``.
    needs_reference_models : bool
        The auditor trains ``n_reference_models`` models on halves of the
        population before calling ``fit``.
    """

    target_type = "classifier"
    needs_proba = False
    needs_reference_models = False

    def fit(self, context):
        return self

    def score(self, X, y):
        raise NotImplementedError


# --------------------------------------------------------------------------
# Signals read from a classifier
# --------------------------------------------------------------------------


def _class_index(classes, y):
    """Positions of the labels ``y`` in the sorted array ``classes``."""
    y = np.asarray(y)
    try:
        index = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
        matched = np.array_equal(classes[index], y)
    except TypeError:  # labels that do not compare with the classes (strings against numbers, None)
        matched = False
    if not matched:
        known = set(classes.tolist())
        unseen = [label for label in dict.fromkeys(y.tolist()) if label not in known]
        raise ValueError(
            f"y contains labels {unseen[:5]} that the target does not know; its classes are {classes[:10].tolist()}."
        )
    return index


def class_proba(model, X, classes):
    """``model.predict_proba(X)`` with columns aligned to ``classes``.

    A reference model trained on a subset that lacks a class gets probability
    0 for it, so every model's output lines up with the target's classes.
    """
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    model_classes = getattr(model, "classes_", classes)
    if len(model_classes) == len(classes) and np.array_equal(model_classes, classes):
        return proba
    out = np.zeros((proba.shape[0], len(classes)))
    out[:, _class_index(classes, model_classes)] = proba
    return out


def true_class_proba(model, X, y, classes):
    """The probability ``model`` gives each record's own label."""
    proba = class_proba(model, X, classes)
    return proba[np.arange(len(proba)), _class_index(classes, y)]


def true_class_logit(model, X, y, classes):
    """A logit-scaled confidence in the true label (the LiRA statistic).

    ``log p_y - log(1 - p_y)`` from ``predict_proba``; for a model with only
    ``decision_function``, the margin of the true class over the best other.
    """
    if hasattr(model, "predict_proba"):
        p = np.clip(true_class_proba(model, X, y, classes), _EPS, 1 - _EPS)
        return np.log(p) - np.log1p(-p)
    scores = np.asarray(model.decision_function(X), dtype=np.float64)
    index = _class_index(classes, y)
    if scores.ndim == 1:  # binary: positive means classes[1]
        return np.where(index == 1, scores, -scores)
    rows = np.arange(len(scores))
    own = scores[rows, index]
    scores = scores.copy()
    scores[rows, index] = -np.inf
    return own - scores.max(axis=1)


# --------------------------------------------------------------------------
# Attacks on classifiers
# --------------------------------------------------------------------------


@plugins.register("attack", "confidence")
class ConfidenceAttack(MembershipAttack):
    """A near one-hot output means member: the target's top probability.

    Label-free (Salem et al. 2019). For a target with only
    ``decision_function``, the margin between its two best classes.
    """

    def fit(self, context):
        self.target_ = context.target
        return self

    def score(self, X, y):
        if hasattr(self.target_, "predict_proba"):
            return np.asarray(self.target_.predict_proba(X), dtype=np.float64).max(axis=1)
        scores = np.asarray(self.target_.decision_function(X), dtype=np.float64)
        if scores.ndim == 1:
            return np.abs(scores)
        top2 = np.sort(scores, axis=1)[:, -2:]
        return top2[:, 1] - top2[:, 0]


@plugins.register("attack", "loss")
class LossAttack(MembershipAttack):
    """A low loss on the true label means member (Yeom et al. 2018).

    The score is minus the cross-entropy ``log p_y``; the auditor sets its
    threshold on population data rather than at Yeom's average training loss.
    """

    needs_proba = True

    def fit(self, context):
        self.target_, self.classes_ = context.target, context.classes
        return self

    def score(self, X, y):
        return np.log(np.clip(true_class_proba(self.target_, X, y, self.classes_), _EPS, 1))


def _shadow_features(proba, index):
    """Attack-classifier features of a probability vector and its label."""
    rows = np.arange(len(proba))
    p_true = np.clip(proba[rows, index], _EPS, 1)
    ranked = -np.sort(-proba, axis=1)[:, :3]
    entropy = -(proba * np.log(np.clip(proba, _EPS, 1))).sum(axis=1)
    one_hot = np.eye(proba.shape[1])[index]
    return np.column_stack([np.log(p_true), ranked, entropy, one_hot])


@plugins.register("attack", "shadow")
class ShadowModelAttack(MembershipAttack):
    """Shadow models and an attack classifier (Shokri et al. 2017).

    Each reference model plays the target on its own half of the population:
    its outputs on the records it trained on (label 1) and on the other half
    (label 0) train one attack classifier on features of the probability
    vector (true-label log-probability, top probabilities, entropy) and the
    one-hot label.

    Parameters
    ----------
    attack_estimator : classifier, default=None
        The attack classifier; None means a small ``HistGradientBoostingClassifier``.
    """

    needs_proba = True
    needs_reference_models = True

    def __init__(self, attack_estimator=None):
        self.attack_estimator = attack_estimator

    def fit(self, context):
        self.target_, self.classes_ = context.target, context.classes
        index = _class_index(self.classes_, context.y)
        features, labels = [], []
        for model, mask in zip(context.reference_models, context.in_masks):
            features.append(_shadow_features(class_proba(model, context.X, self.classes_), index))
            labels.append(mask.astype(int))
        estimator = self.attack_estimator
        if estimator is None:
            estimator = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, random_state=0)
        self.attack_estimator_ = clone(estimator).fit(np.vstack(features), np.concatenate(labels))
        return self

    def score(self, X, y):
        features = _shadow_features(class_proba(self.target_, X, self.classes_), _class_index(self.classes_, y))
        return self.attack_estimator_.predict_proba(features)[:, 1]


def _gaussian_stats(values, fix_variance):
    """Per-record means and standard deviations of reference-model statistics.

    ``values`` is (n_models, n_records), NaN where a model does not count.
    With few reference models a per-record variance is noise, so by default
    one global variance serves every record (Carlini et al. 2022).
    """
    mean = np.nanmean(values, axis=0)
    if fix_variance:
        std = np.full_like(mean, np.nanstd(values - mean))
    else:
        std = np.nanstd(values, axis=0)
    return mean, np.maximum(std, 1e-3)


@plugins.register("attack", "lira")
class LiRAAttack(MembershipAttack):
    """Likelihood-ratio attack, LiRA (Carlini et al. 2022).

    The statistic is the target's logit-scaled confidence in the true label.
    Offline, reference models never saw the audited records: a record is
    scored by how far its statistic lies above the Gaussian of the reference
    models' statistics (one-sided test). Online, the auditor trains
    ``n_reference_models`` more models at scoring time on halves of the
    population plus halves of the audited records, so each record has "in"
    and "out" Gaussians and the score is their log-likelihood ratio: the
    strongest and costliest variant. Those models are seeded from one seed
    drawn in ``fit``, so scoring the same records twice gives the same scores.

    Parameters
    ----------
    online : bool, default=False
        Train "in" reference models on the audited records at scoring time.
    fix_variance : bool, default=True
        One variance for every record, as recommended with few reference models.
    """

    needs_reference_models = True

    def __init__(self, online=False, fix_variance=True):
        self.online = online
        self.fix_variance = fix_variance

    def fit(self, context):
        self.target_, self.classes_ = context.target, context.classes
        if self.online:
            # Reference models are trained in score(), with the audited records,
            # from one seed drawn here: the same records always get the same scores.
            self.context_ = context
            self.reference_models_ = []
            self.seed_ = int(check_random_state(context.random_state).randint(np.iinfo(np.int32).max))
        else:
            self.reference_models_ = context.reference_models
        return self

    def score(self, X, y):
        target = true_class_logit(self.target_, X, y, self.classes_)
        if not self.online:
            stats = np.stack([true_class_logit(m, X, y, self.classes_) for m in self.reference_models_])
            mean, std = _gaussian_stats(stats, self.fix_variance)
            return -norm.logsf(target, mean, std)
        context = self.context_
        X_all = concat_rows(context.X, X, sparse_format="csr")
        y_all = np.concatenate([np.asarray(context.y), np.asarray(y)])
        n_models = max(2, context.n_reference_models + context.n_reference_models % 2)
        rng = check_random_state(self.seed_)
        masks = paired_half_masks(y_all, n_models, rng)
        models = fit_reference_models(
            context.reference_estimator, X_all, y_all, masks, n_jobs=context.n_jobs, verbose=context.verbose, random_state=rng
        )
        stats = np.stack([true_class_logit(m, X, y, self.classes_) for m in models])
        in_masks = masks[:, -len(stats[0]) :]
        mean_in, std_in = _gaussian_stats(np.where(in_masks, stats, np.nan), self.fix_variance)
        mean_out, std_out = _gaussian_stats(np.where(in_masks, np.nan, stats), self.fix_variance)
        return norm.logpdf(target, mean_in, std_in) - norm.logpdf(target, mean_out, std_out)


@plugins.register("attack", "lira_online")
class OnlineLiRAAttack(LiRAAttack):
    """Online LiRA: :class:`LiRAAttack` with ``online=True`` by default."""

    def __init__(self, online=True, fix_variance=True):
        super().__init__(online=online, fix_variance=fix_variance)


@plugins.register("attack", "rmia")
class RMIAAttack(MembershipAttack):
    """Robust membership inference, RMIA (Zarifzadeh et al. 2024), offline.

    The likelihood ratio of a record ``x`` against a population record ``z``
    is ``(p(x|target) / p(x)) / (p(z|target) / p(z))``, where ``p(.|target)``
    is the target's probability of the true label and ``p(.)`` its average
    over reference models that did not train on the record, corrected for
    their missing "in" half as ``((1 + a) p_out + 1 - a) / 2``. The score is
    the fraction of population records ``z`` the record dominates by a factor
    ``gamma``; ties are broken by the ratio itself, so the score ranks records
    finely even where many of them dominate every ``z``.

    Parameters
    ----------
    offline_a : float in [0, 1] or "auto", default="auto"
        The offline correction. ``"auto"`` picks it, as the paper does, by
        attacking one reference model with the others on the population.
    gamma : float, default=1.0
        The factor by which ``x`` must dominate ``z``.
    """

    needs_proba = True
    needs_reference_models = True

    def __init__(self, offline_a="auto", gamma=1.0):
        self.offline_a = offline_a
        self.gamma = gamma

    def fit(self, context):
        self.target_, self.classes_ = context.target, context.classes
        self.reference_models_ = context.reference_models
        ref = np.stack([true_class_proba(m, context.X, context.y, self.classes_) for m in self.reference_models_])
        out = ~np.asarray(context.in_masks)
        if self.offline_a == "auto":
            self.offline_a_ = _choose_offline_a(ref, out)
        else:
            self.offline_a_ = float(self.offline_a)
        # With an odd number of reference models (one, say) some population
        # records trained all of them and have no "out" estimate: leave them out.
        usable = out.any(axis=0)
        p_z = self._marginal(np.where(out, ref, np.nan)[:, usable])
        p_z_target = true_class_proba(self.target_, context.X, context.y, self.classes_)[usable]
        self.log_ratio_population_ = np.sort(_log_ratio(p_z_target, p_z))
        return self

    def _marginal(self, p_out):
        a = self.offline_a_
        return ((1 + a) * np.nanmean(p_out, axis=0) + 1 - a) / 2

    def score(self, X, y):
        p_x = self._marginal(np.stack([true_class_proba(m, X, y, self.classes_) for m in self.reference_models_]))
        log_ratio = _log_ratio(true_class_proba(self.target_, X, y, self.classes_), p_x)
        return _rmia_score(log_ratio, self.log_ratio_population_, self.gamma)


def _log_ratio(p_target, p_marginal):
    return np.log(np.clip(p_target, _EPS, 1)) - np.log(np.clip(p_marginal, _EPS, 1))


def _rmia_score(log_ratio, sorted_population, gamma):
    """Fraction of population ratios dominated by ``gamma``, tie-broken below 1e-9."""
    threshold = log_ratio - np.log(gamma)
    dominated = np.searchsorted(sorted_population, threshold, side="left") / len(sorted_population)
    return dominated + 1e-9 * expit(threshold)


_OFFLINE_A_GRID = np.linspace(0.0, 1.0, 11)


def _choose_offline_a(ref, out, grid=_OFFLINE_A_GRID):
    """Offline ``a`` that best attacks one reference model with the others.

    Each reference model in turn plays the target; the remaining models give
    ``p_out``; its own "in" and "out" records give an AUC. The ``a`` with the
    best mean AUC wins.
    """
    from sklearn.metrics import roc_auc_score

    n_models = len(ref)
    if n_models < 3:
        return 0.5
    aucs = np.zeros(len(grid))
    for k in range(n_models):
        others = np.delete(np.arange(n_models), k)
        p_out = np.nanmean(np.where(out[others], ref[others], np.nan), axis=0)
        usable = ~np.isnan(p_out)
        if np.all(out[k, usable]) or not np.any(out[k, usable]):
            continue
        for j, a in enumerate(grid):
            ratio = _log_ratio(ref[k, usable], ((1 + a) * p_out[usable] + 1 - a) / 2)
            aucs[j] += roc_auc_score(~out[k, usable], ratio)
    return float(grid[np.argmax(aucs)])


# The generator attacks build on MembershipAttack above, so they are imported after it. Importing them
# here keeps them reachable from this module and registers them along with the classifier attacks.
from sklearn_adv.privacy.generator_attacks import (  # noqa: E402
    DensityAttack,
    DetectorAttack,
    DiscriminatorAttack,
    DistanceAttack,
)
