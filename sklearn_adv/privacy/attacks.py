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

Generator attacks read a fitted GAN-like object by duck typing; see
:class:`DiscriminatorAttack`, :class:`DetectorAttack` and
:class:`DistanceAttack` for what each needs the object to expose.
"""

import inspect
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.special import expit
from scipy.stats import norm
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier

# _safe_indexing is private by name but listed in scikit-learn's API reference as a public utility.
from sklearn.utils import _safe_indexing, check_random_state

from sklearn_adv import plugins
from sklearn_adv.metrics import distance_to_closest_record, real_vs_synthetic, synthetic_detector
from sklearn_adv.preprocessing import TabularEncoder
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
    "class_proba",
    "true_class_proba",
    "true_class_logit",
]

# Probabilities are clipped away from 0 and 1 before logs and logits: a random
# forest often outputs exactly 1.0 on its training rows.
_EPS = 1e-6


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


def _fit_one(estimator, X, y, rows):
    return estimator.fit(_safe_indexing(X, rows), _safe_indexing(y, rows))


def _fit_reference_models(template, X, y, masks, *, n_jobs=None, verbose=0, random_state=None):
    """Fit one clone of ``template`` per row of the boolean ``masks``, in parallel.

    Each clone trains on the records of ``(X, y)`` selected by its mask. Every
    ``random_state`` parameter of a clone (nested ones included) gets its own
    seed drawn from ``random_state``, so the models differ in their data and
    their randomness. Training fans out through joblib with ``n_jobs``.
    """
    rng = check_random_state(random_state)
    estimators = []
    for _ in masks:
        estimator = clone(template)
        seeds = {
            name: int(rng.randint(np.iinfo(np.int32).max))
            for name in estimator.get_params(deep=True)
            if name == "random_state" or name.endswith("__random_state")
        }
        estimators.append(estimator.set_params(**seeds))
    return Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_fit_one)(estimator, X, y, np.flatnonzero(mask)) for estimator, mask in zip(estimators, masks)
    )


def _paired_half_masks(y, n_models, random_state):
    """``n_models`` boolean masks, each selecting half of every class.

    Masks come in complementary pairs, so every record is a training record of
    exactly half of the models (when ``n_models`` is even): the setting of the
    offline LiRA and RMIA papers.
    """
    rng = check_random_state(random_state)
    y = np.asarray(y)
    masks = np.zeros((n_models, len(y)), dtype=bool)
    for k in range(0, n_models, 2):
        for label in np.unique(y):
            rows = rng.permutation(np.flatnonzero(y == label))
            half = (len(rows) + rng.randint(2)) // 2
            masks[k, rows[:half]] = True
        if k + 1 < n_models:
            masks[k + 1] = ~masks[k]
    return masks


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
        masks = _paired_half_masks(y_all, n_models, rng)
        models = _fit_reference_models(
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


# --------------------------------------------------------------------------
# Attacks on generators (GAN-like objects, read by duck typing)
# --------------------------------------------------------------------------


def _draw_synthetic(generator, n, random_state):
    """``generator.sample(n)``'s records; a returned ``(X, y)`` pair gives its X.

    A ``sample`` that takes a ``random_state`` gets a seed drawn from the
    auditor's, so that the audit is reproducible.
    """
    try:
        takes_seed = "random_state" in inspect.signature(generator.sample).parameters
    except (TypeError, ValueError):  # no signature to read
        takes_seed = False
    if takes_seed:
        sample = generator.sample(n, random_state=int(check_random_state(random_state).randint(np.iinfo(np.int32).max)))
    else:
        sample = generator.sample(n)
    return sample[0] if isinstance(sample, tuple) else sample


def _with_columns_of(synthetic, population):
    """Synthetic records with the population's columns in the population's order (DataFrames only).

    A generator may return its columns in another order; the encoder reads
    columns by position, so they are put back in order, and a column missing
    on either side is an error.
    """
    if not (hasattr(synthetic, "columns") and hasattr(population, "columns")):
        return synthetic
    expected, given = list(population.columns), list(synthetic.columns)
    if given == expected:
        return synthetic
    if set(given) != set(expected) or len(given) != len(expected):
        raise ValueError(
            f"The generator's samples have the columns {given}, the audited records {expected}: "
            "both must hold the same columns."
        )
    return synthetic[expected]


def _as_records(X):
    """Records as the encoder reads them: DataFrames as given, sparse rows dense, images flattened."""
    if hasattr(X, "iloc"):
        return X
    if hasattr(X, "toarray"):
        X = X.toarray()
    X = np.asarray(X)
    return X.reshape(len(X), -1) if X.ndim > 2 else X


def _fit_record_encoder(*tables):
    """The :class:`~sklearn_adv.preprocessing.TabularEncoder`, fitted on ``tables`` together.

    Numbers are scaled and categories one-hot encoded; a category not seen
    in fit encodes as zeros. Every column encodes a missing value (numbers
    with an indicator, categories as a level of their own), so that a
    missing value anywhere, in synthetic or audited records, can be encoded.
    """
    tables = [_as_records(table) for table in tables]
    first = tables[0]
    if hasattr(first, "iloc"):
        tables = [t if hasattr(t, "iloc") else pd.DataFrame(t, columns=first.columns) for t in tables]
        data = pd.concat(tables, ignore_index=True)
    else:
        data = np.concatenate(tables)
    return TabularEncoder(handle_unknown="ignore", missing_indicators="all", dtype=np.float64).fit(data)


class _GeneratorAttack(MembershipAttack):
    target_type = "generator"
    required_attributes = ("sample",)

    def _n_synthetic(self, context):
        return self.n_synthetic if self.n_synthetic is not None else max(_num_rows(context.X), 1)


def _num_rows(X):
    return X.shape[0]


@plugins.register("attack", "discriminator")
class DiscriminatorAttack(MembershipAttack):
    """The GAN's own discriminator scores its training records highest (LOGAN).

    White-box LOGAN (Hayes et al. 2019). The GAN-like object must expose
    ``discriminator_``: a callable mapping records (in the format the auditor
    is given) to one realness score per record, higher meaning "more like
    the training data", as :class:`~sklearn_adv.GANAugmenter`'s does (it
    packs and conditions the records the way its discriminator was trained).
    A score array with several columns gives its realness first; a torch
    tensor is accepted. A bare ``torch.nn.Module`` is not such a callable:
    it knows nothing of the GAN's encoding, packing or conditioning, so it
    is rejected; wrap it in a function from records to scores.
    """

    target_type = "generator"
    required_attributes = ("discriminator_",)

    def fit(self, context):
        discriminator = getattr(context.target, "discriminator_", None)
        if _is_torch_module(discriminator) or not callable(discriminator):
            raise TypeError(
                "The 'discriminator' attack needs discriminator_ to be a function from records to "
                f"realness scores; {type(context.target).__name__}.discriminator_ is "
                f"{type(discriminator).__name__}. Wrap a torch module in a function that encodes, "
                "packs and conditions the records as the GAN does in training."
            )
        self.target_ = context.target
        return self

    def score(self, X, y):
        scores = self.target_.discriminator_(X)
        if hasattr(scores, "detach"):
            scores = scores.detach().cpu().numpy()
        scores = np.asarray(scores, dtype=np.float64)
        return scores.reshape(len(scores), -1)[:, 0]


def _is_torch_module(obj):
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency of the package
        return False
    return isinstance(obj, torch.nn.Module)


@plugins.register("attack", "detector")
class DetectorAttack(_GeneratorAttack):
    """A record that looks synthetic was a training record.

    A detector is trained to tell ``n_synthetic`` records drawn from the
    generator (``sample(n)``) from fresh population records; a memorising
    generator's samples sit on its training records, so those score high
    (black-box LOGAN, Hayes et al. 2019).

    Parameters
    ----------
    n_synthetic : int, default=None
        Synthetic records to draw; None draws as many as the population has.
    detector : classifier, default=None
        None means a ``HistGradientBoostingClassifier``.

    Notes
    -----
    Records are encoded with the
    :class:`~sklearn_adv.preprocessing.TabularEncoder`, fitted on the population
    and the synthetic records: numbers scaled, categories one-hot encoded
    (unseen ones as zeros), a missing value as an indicator column (or a
    level of its own), images flattened to rows of pixels.
    """

    def __init__(self, n_synthetic=None, detector=None):
        self.n_synthetic = n_synthetic
        self.detector = detector

    def fit(self, context):
        synthetic = _with_columns_of(_draw_synthetic(context.target, self._n_synthetic(context), context.random_state), context.X)
        self.encoder_ = _fit_record_encoder(context.X, synthetic)
        features, labels = real_vs_synthetic(*(self.encoder_.transform(_as_records(table)) for table in (context.X, synthetic)))
        self.detector_ = synthetic_detector(self.detector, random_state=0).fit(features, labels)
        return self

    def score(self, X, y):
        return self.detector_.predict_proba(self.encoder_.transform(_as_records(X)))[:, 1]


@plugins.register("attack", "distance")
class DistanceAttack(_GeneratorAttack):
    """The closer a record is to a synthetic record, the likelier a member (GAN-Leaks).

    Full black-box GAN-Leaks (Chen et al. 2020): the score is minus the
    Euclidean distance from a record to its nearest neighbour among
    ``n_synthetic`` records drawn with the generator's ``sample(n)``, after
    encoding them as :class:`DetectorAttack` does (numbers scaled,
    categories one-hot, missing values as indicators, images flattened).

    Parameters
    ----------
    n_synthetic : int, default=10000
        Synthetic records to draw: the more, the likelier a memorised record
        is among them.
    """

    def __init__(self, n_synthetic=10_000):
        self.n_synthetic = n_synthetic

    def fit(self, context):
        synthetic = _with_columns_of(_draw_synthetic(context.target, self._n_synthetic(context), context.random_state), context.X)
        self.encoder_ = _fit_record_encoder(context.X, synthetic)
        self.synthetic_ = self.encoder_.transform(_as_records(synthetic))
        return self

    def score(self, X, y):
        return -distance_to_closest_record(self.synthetic_, self.encoder_.transform(_as_records(X)))

