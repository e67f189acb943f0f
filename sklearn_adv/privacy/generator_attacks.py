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

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from sklearn_adv import plugins
from sklearn_adv.metrics import distance_to_closest_record, real_vs_synthetic, synthetic_detector
from sklearn_adv.preprocessing import TabularEncoder
from sklearn_adv.privacy.attacks import MembershipAttack

__all__ = ["DiscriminatorAttack", "DetectorAttack", "DistanceAttack"]


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
