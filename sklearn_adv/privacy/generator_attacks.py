"""Membership-inference attacks on generators: GAN-like objects, read by duck typing.

Each attack is a plugin of kind ``"attack"`` with ``target_type =
"generator"``, built on :class:`~sklearn_adv.privacy.attacks.MembershipAttack`
and reachable from :mod:`sklearn_adv.privacy.attacks` as well. What the
audited object must expose differs by attack: ``discriminator_`` for
:class:`DiscriminatorAttack`, ``sample(n)`` for :class:`DetectorAttack` and
:class:`DistanceAttack`, which encode real and synthetic records alike with
the :class:`~sklearn_adv.preprocessing.TabularEncoder`.
"""

import inspect
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.neighbors import KernelDensity
from sklearn.utils import check_random_state

# The constraint types of _parameter_constraints have no public import path.
from sklearn.utils._param_validation import HasMethods, Interval

from sklearn_adv import plugins
from sklearn_adv.metrics import distance_to_closest_record, real_vs_synthetic, synthetic_detector
from sklearn_adv.preprocessing import TabularEncoder
from sklearn_adv.privacy.attacks import MembershipAttack

__all__ = ["DiscriminatorAttack", "DetectorAttack", "DistanceAttack", "DensityAttack"]


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


class _GeneratorAttack(MembershipAttack):
    """Base of the attacks that read a generator's samples: ``n_synthetic`` of them, drawn in ``fit``."""

    target_type = "generator"
    required_attributes = ("sample",)

    def _draw(self, context):
        """The generator's ``n_synthetic`` samples (as many as the population when None), in the population's columns."""
        n = self.n_synthetic if self.n_synthetic is not None else max(context.X.shape[0], 1)
        return _with_columns_of(_draw_synthetic(context.target, n, context.random_state), context.X)


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
        synthetic = self._draw(context)
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
        synthetic = self._draw(context)
        self.encoder_ = _fit_record_encoder(context.X, synthetic)
        self.synthetic_ = self.encoder_.transform(_as_records(synthetic))
        return self

    def score(self, X, y):
        return -distance_to_closest_record(self.synthetic_, self.encoder_.transform(_as_records(X)))


@plugins.register("attack", "density")
class DensityAttack(_GeneratorAttack):
    """A record where the synthetic data are denser than the population was a training record (DOMIAS).

    DOMIAS (van Breugel et al. 2023) scores a record ``x`` by the ratio of
    the density of the generator's samples at ``x`` to the density of the
    population there, ``p_synthetic(x) / p_population(x)``, returned as its
    logarithm. A generator that overfits puts more mass on its training
    records than the population has there. Dividing by the population's
    density discounts the records that lie near synthetic ones only because
    such records are common, which the distance attack (:class:`DistanceAttack`)
    cannot tell from memorisation: the ratio singles out the local excess of
    synthetic data, where a model of the population says there should be none.

    Both densities live in one space. Records are encoded as
    :class:`DetectorAttack` encodes them (numbers scaled, categories one-hot,
    missing values as indicators, images flattened), projected on the
    ``n_components`` principal directions of the population and synthetic
    records together and whitened (each direction scaled to unit
    variance); there ``density`` is fitted twice, on ``n_synthetic``
    records drawn with the generator's ``sample(n)`` and on the population
    records of the auditor's ``fit``.

    Parameters
    ----------
    n_synthetic : int or None, default=10000
        Synthetic records to draw; None draws as many as the population has.
    n_components : int or None, default=20
        Principal directions kept (at most the number of encoded columns);
        None keeps every direction in which the records vary.
    density : estimator with ``fit`` and ``score_samples``, default=None
        The density model, cloned and fitted on each of the two sets of
        projected records; ``score_samples`` must return log-densities, as
        scikit-learn's density models do (:class:`~sklearn.neighbors.KernelDensity`,
        :class:`~sklearn.mixture.GaussianMixture`, a ``GridSearchCV`` over
        them, a pipeline ending in one). None is a Gaussian
        ``KernelDensity(bandwidth="scott")``.
    random_state : int, RandomState instance or None, default=None
        Seeds the projection (a randomized SVD on large records) and the
        density model, when it has a ``random_state`` of its own left at
        None. None draws the seed from the auditor's ``random_state``.

    Attributes
    ----------
    encoder_ : TabularEncoder
        The encoding of the records, fitted on the population and the
        synthetic records.
    projection_ : PCA
        The whitening projection of the encoded records.
    synthetic_density_, population_density_ : estimator
        ``density`` fitted on the projected synthetic and population records.

    Notes
    -----
    Why this default density. On whitened records, scikit-learn's isotropic
    ``KernelDensity`` with Scott's bandwidth ``n ** (-1 / (d + 4))`` is the
    estimator of :class:`scipy.stats.gaussian_kde` at its defaults (a
    Gaussian kernel shaped by the data's covariance), the kernel density of
    the authors' own implementation. A table's one-hot encoding has a
    singular covariance, which that estimator cannot take, and a kernel
    density in its hundred-odd dimensions reduces to nearest-neighbour
    distances; the projection keeps the directions that carry the
    records' variation. A rule rather than a bandwidth chosen by
    cross-validated likelihood: against a GAN trained on 100 Adult rows for
    3000 epochs (2000 population rows), the likelihood on held-out records
    picked bandwidths of 0.29 (synthetic) and 0.43 (population), which fit
    each set's fine structure and gave a noisier ratio, AUC 0.647 against
    0.689 with the rule (0.613 against 0.618 after 1000 epochs), at eight
    times the cost. The likelihood wins against exact copies of records
    with few columns, where it shrinks the synthetic bandwidth onto the
    copies and Scott's rule blurs neighbouring copies together: give
    ``density=GridSearchCV(KernelDensity(), {"bandwidth": np.geomspace(0.02, 2, 13)})``
    there (or use :class:`DistanceAttack`, which exposes exact copies).

    The population's density is only as good as its sample: the attack needs
    population records by the thousand. Against GANs trained on 100 and 250
    Adult rows until they overfit, it scored ROC AUC 0.72 and 0.65 with 2000
    population records, the distance attack 0.69 and 0.58; with a population
    as small as the training set, 0.70 and 0.60, no more than the distance
    attack. Its cost is the
    densities' evaluation: each scored record costs a kernel sum over the
    synthetic and the population records (a tree search prunes most of
    them), a few seconds for thousands of records.

    References
    ----------
    .. [1] van Breugel, Sun, Qian, van der Schaar. "Membership Inference
       Attacks against Synthetic Data through Overfitting Detection",
       AISTATS 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_adv.privacy import MembershipAuditor
    >>> X = np.random.RandomState(0).standard_normal((2200, 3))
    >>> members, nonmembers, population = X[:100], X[100:200], X[200:]
    >>> class BlurredCopies:  # a generator that samples its training records, slightly blurred
    ...     def sample(self, n, random_state=None):
    ...         rng = np.random.RandomState(random_state)
    ...         return members[rng.randint(100, size=n)] + 0.05 * rng.standard_normal((n, 3))
    >>> auditor = MembershipAuditor(BlurredCopies(), attack="density", random_state=0).fit(population)
    >>> report = auditor.evaluate(members, None, nonmembers, None)
    >>> bool(report.loc["density", "roc_auc"] > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "n_synthetic": [Interval(Integral, 1, None, closed="left"), None],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "density": [HasMethods(["fit", "score_samples"]), None],
        "random_state": ["random_state"],
    }

    def __init__(self, n_synthetic=10_000, n_components=20, density=None, random_state=None):
        self.n_synthetic = n_synthetic
        self.n_components = n_components
        self.density = density
        self.random_state = random_state

    def fit(self, context):
        self._validate_params()
        rng = check_random_state(context.random_state if self.random_state is None else self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        synthetic = self._draw(context)
        self.encoder_ = _fit_record_encoder(context.X, synthetic)
        population, synthetic = (self.encoder_.transform(_as_records(table)) for table in (context.X, synthetic))
        self.projection_ = _fit_whitening(np.concatenate([population, synthetic]), self.n_components, seed)
        self.synthetic_density_, self.population_density_ = (
            _fit_density(self.density, self.projection_.transform(table), seed) for table in (synthetic, population)
        )
        return self

    def score(self, X, y):
        records = self.projection_.transform(self.encoder_.transform(_as_records(X)))
        return self.synthetic_density_.score_samples(records) - self.population_density_.score_samples(records)


def _fit_whitening(E, n_components, seed):
    """PCA whitening onto at most ``n_components`` directions, only those in which ``E`` varies.

    A direction of zero variance (a constant column, or one-hot blocks that
    add up to one) cannot be scaled to unit variance, so it is left out.
    """
    if not np.ptp(E, axis=0).any():
        raise ValueError(
            "The 'density' attack found no variation among the population and synthetic records: "
            "every encoded record is the same, so there is no density to compare."
        )
    limit = min(E.shape) if n_components is None else min(n_components, *E.shape)
    variances = PCA(n_components=limit, random_state=seed).fit(E).explained_variance_
    varying = int(np.sum(variances > 1e-9 * variances.max()))
    return PCA(n_components=varying, whiten=True, random_state=seed).fit(E)


def _fit_density(density, Z, seed):
    """``density`` (a Gaussian kernel density with Scott's bandwidth when None), cloned and fitted on ``Z``."""
    model = KernelDensity(bandwidth="scott") if density is None else clone(density, safe=False)
    if hasattr(model, "get_params") and "random_state" in model.get_params() and model.get_params()["random_state"] is None:
        model.set_params(random_state=seed)
    return model.fit(Z)


# --------------------------------------------------------------------------
# Synthetic records: drawn from the generator, encoded with the audited ones
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
