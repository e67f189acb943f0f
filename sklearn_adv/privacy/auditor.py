"""MembershipAuditor: does a fitted model, or its synthetic data, leak its training records?"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp

# _fit_context (parameter validation once per fit, as scikit-learn's estimators do) has no public equivalent.
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split

# _safe_indexing is private by name but listed in scikit-learn's API reference as a public utility.
from sklearn.utils import _safe_indexing, check_random_state

# The constraint types of _parameter_constraints have no public import path.
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.multiclass import check_classification_targets

# _num_samples (rows of a list, array, frame or sparse matrix alike) has no public equivalent.
from sklearn.utils.validation import _num_samples, check_array, check_consistent_length, check_is_fitted, validate_data

from sklearn_adv import plugins
from sklearn_adv.privacy._checks import (
    attack_name,
    check_calibration_rows,
    check_population_labels,
    check_reference_template,
    check_target_output,
    target_allows_nan,
    target_input_tags,
    target_name,
)
from sklearn_adv.privacy._metrics import membership_metrics, plot_membership_roc
from sklearn_adv.privacy._reference import fit_reference_models, paired_half_masks
from sklearn_adv.privacy.attacks import AuditContext, _class_index
from sklearn_adv.utils import concat_rows

__all__ = ["MembershipAuditor"]


class MembershipAuditor(BaseEstimator):
    """Audit a fitted classifier, or a GAN, for membership-inference leakage.

    A membership-inference attack guesses, from a model's behaviour on a
    record, whether that record was in the model's training set. The auditor
    runs one attack against a *fitted* target: ``fit`` takes population data
    drawn like the training data but not used to train the target, trains
    reference models on halves of it where the attack needs them, and sets
    the threshold that holds the false-positive rate ``fpr`` on a held-out part
    of it. ``evaluate`` then measures the attack on known members and
    non-members, the way the literature reports it: ROC AUC and, above all,
    the true-positive rate at a low false-positive rate (Carlini et al. 2022).

    Parameters
    ----------
    estimator : object
        The fitted target, passed the way ``CalibratedClassifierCV`` takes a
        prefit model; it is never refitted. For classifier attacks: a
        classifier with ``classes_`` and ``predict_proba`` (or, for
        ``"confidence"`` and ``"lira"``, ``decision_function``): a
        scikit-learn estimator or pipeline, a skorch net. For generator
        attacks: a fitted GAN-like object exposing ``sample(n)`` (returning
        records, or a pair of records and labels; used by ``"detector"``,
        ``"distance"`` and ``"density"``) and ``discriminator_`` (a callable from records to
        realness scores; used by ``"discriminator"``),
        such as :class:`~sklearn_adv.GANAugmenter`. Wrap a classifier in
        :class:`sklearn.frozen.FrozenEstimator` to keep it fitted when the
        auditor is cloned.
    attack : str or MembershipAttack, default="rmia"
        A registered attack name (``"confidence"``, ``"loss"``, ``"shadow"``,
        ``"lira"``, ``"lira_online"``, ``"rmia"``, ``"discriminator"``,
        ``"detector"``, ``"distance"``, ``"density"``, or a plugin's) or an attack object,
        which is cloned. An attack object's hyperparameters are reachable as
        ``attack__name``, e.g. in a grid search over ``attack__offline_a``
        with ``attack=sklearn_adv.privacy.attacks.RMIAAttack()`` (see
        :meth:`score`); a name gives the attack at its defaults.
    n_reference_models : int, default=4
        Reference (shadow) models trained on halves of the population, for
        the attacks that use them (``"shadow"``, ``"lira"``, ``"rmia"``).
    reference_estimator : estimator, default=None
        Unfitted template of the reference models; None clones ``estimator``.
        Give one when the target cannot be cloned and refitted (a pipeline
        with a fitted preprocessing step you want kept is cloned whole).
    fpr : float in (0, 1), default=0.01
        False-positive rate that ``predict``'s threshold holds.
    calibration_size : float in (0, 1), default=0.2
        Fraction of the population held out of reference-model training to
        set that threshold. It must hold at least ``1 / fpr - 1`` records
        (99 for ``fpr=0.01``) for the threshold to hold ``fpr``, and a few
        times that to hold it reliably; with fewer, ``fit`` warns.
    n_jobs : int, default=None
        Number of reference models trained at once, in joblib worker
        processes (None: one, unless in a ``joblib.parallel_config`` context;
        -1: all cores).
    random_state : int, RandomState instance or None, default=None
        Controls the calibration split, the reference models' subsets and seeds.
    verbose : int, default=0
        Progress of reference-model training (joblib's messages).

    Attributes
    ----------
    attack_ : MembershipAttack
        The fitted attack.
    reference_models_ : list
        Reference models trained on halves of the population (empty for
        attacks that use none).
    reference_in_masks_ : ndarray of shape (n_reference_models, n_reference_rows) or None
        Which population records trained which reference model.
    threshold_ : float
        Score above which ``predict`` says "member".
    classes_ : ndarray or None
        The target's classes (None for generator attacks).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of str
        Names of features seen during ``fit``, when ``X`` has string column names.

    See Also
    --------
    membership_metrics : The metrics of ``evaluate`` from any scores.
    plot_membership_roc : A log-log ROC curve from any scores.

    Notes
    -----
    The population must come from the same distribution as the target's
    training data and must not overlap it. Reference models are trained on
    half of the non-held-out population each, in complementary pairs, so they
    should resemble the target; they are trained smaller than the target when
    the population is smaller than its training set, which weakens the
    reference-model attacks somewhat but not their validity.

    ``score_samples`` and ``predict`` take the records' true labels ``y``;
    without them the target's own predictions stand in, which weakens the
    label-aware attacks. Online LiRA trains new reference models, with the
    audited records, at every ``score_samples`` call.

    :func:`sklearn.base.clone` clones parameters, so a cloned auditor holds
    an unfitted copy of its target. Wrap the target in
    :class:`sklearn.frozen.FrozenEstimator` to keep it fitted through
    ``clone`` (cross-validation, grid search); its reference models are then
    clones of the model inside. A grid search over the attack's
    hyperparameters fits on population records and scores on members (see
    :meth:`score`): give it ``cv=[(population_rows, member_rows)]`` and
    ``refit=False``, since refitting on every row would put the members in
    the population.

    Reference models are independent fits, dispatched through joblib: on one
    machine with ``n_jobs``, on a cluster with joblib's Dask or Ray backend
    (``with joblib.parallel_config(backend="dask"): auditor.fit(X, y)``).

    References
    ----------
    .. [1] Shokri, Stronati, Song, Shmatikov. "Membership Inference Attacks
       Against Machine Learning Models", IEEE S&P 2017.
    .. [2] Yeom, Giacomelli, Fredrikson, Jha. "Privacy Risk in Machine
       Learning: Analyzing the Connection to Overfitting", CSF 2018.
    .. [3] Carlini, Chien, Nasr, Song, Terzis, Tramer. "Membership Inference
       Attacks From First Principles", IEEE S&P 2022.
    .. [4] Zarifzadeh, Liu, Shokri. "Low-Cost High-Power Membership Inference
       Attacks", ICML 2024.
    .. [5] Hayes, Melis, Danezis, De Cristofaro. "LOGAN: Membership Inference
       Attacks Against Generative Models", PoPETs 2019.
    .. [6] Chen, Yu, Zhang, Fritz. "GAN-Leaks: A Taxonomy of Membership
       Inference Attacks against Generative Models", CCS 2020.
    .. [7] van Breugel, Sun, Qian, van der Schaar. "Membership Inference
       Attacks against Synthetic Data through Overfitting Detection",
       AISTATS 2023.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn_adv.privacy import MembershipAuditor
    >>> X, y = make_classification(n_samples=1400, n_features=10, flip_y=0.2, random_state=0)
    >>> target = RandomForestClassifier(n_estimators=30, random_state=0).fit(X[:400], y[:400])
    >>> auditor = MembershipAuditor(target, attack="rmia", n_reference_models=4, random_state=0)
    >>> auditor = auditor.fit(X[800:], y[800:])
    >>> report = auditor.evaluate(X[:400], y[:400], X[400:800], y[400:800])
    >>> bool(report.loc["rmia", "roc_auc"] > 0.6)
    True
    """

    _parameter_constraints: dict = {
        "estimator": "no_validation",
        "attack": [str, HasMethods(["fit", "score"])],
        "n_reference_models": [Interval(Integral, 1, None, closed="left")],
        "reference_estimator": [None, HasMethods(["fit"])],
        "fpr": [Interval(Real, 0, 1, closed="neither")],
        "calibration_size": [Interval(Real, 0, 1, closed="neither")],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        attack="rmia",
        n_reference_models=4,
        reference_estimator=None,
        fpr=0.01,
        calibration_size=0.2,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.attack = attack
        self.n_reference_models = n_reference_models
        self.reference_estimator = reference_estimator
        self.fpr = fpr
        self.calibration_size = calibration_size
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------
    # Checks that run before any training
    # ------------------------------------------------------------------

    def _make_attack(self):
        attack = plugins.resolve("attack", self.attack)
        if isinstance(attack, type):
            return attack()
        return clone(attack) if hasattr(attack, "get_params") else attack

    def _check_target(self, attack):
        target = self.estimator
        if attack.target_type == "generator":
            missing = [name for name in getattr(attack, "required_attributes", ()) if not hasattr(target, name)]
            if missing:
                raise TypeError(
                    f"The {attack_name(attack)!r} attack needs a fitted generator exposing {missing}; "
                    f"estimator={type(target).__name__} does not."
                )
            return None
        if not hasattr(target, "fit"):
            raise TypeError(f"estimator must be a fitted classifier, got {type(target).__name__}.")
        check_is_fitted(target)
        if attack.needs_proba and not hasattr(target, "predict_proba"):
            raise TypeError(
                f"The {attack_name(attack)!r} attack needs probabilities, but estimator="
                f"{type(target).__name__} has no predict_proba; use attack='confidence' or 'lira', "
                "or calibrate it with CalibratedClassifierCV."
            )
        if not (hasattr(target, "predict_proba") or hasattr(target, "decision_function")):
            raise TypeError(f"estimator={type(target).__name__} has neither predict_proba nor decision_function.")
        if getattr(target, "classes_", None) is None:
            raise TypeError(f"estimator={type(target).__name__} has no classes_; a fitted classifier was expected.")
        return np.asarray(target.classes_)

    def _check_records(self, X, y, *, reset, labels_required):
        """Validate the shape of X (and y) without converting them: the target gets them as given.

        Values (NaN, strings, columns) are the target's business: ``fit`` asks
        the target for its outputs on the population before any training, so
        a target that cannot read X fails there, with its own message.
        """
        if hasattr(X, "iloc"):
            # A DataFrame goes to the target as it is: check_array would cast a
            # frame of mixed dtypes (nullable integers next to categories) to
            # one dtype, and fail where the target would not.
            if X.ndim != 2 or 0 in X.shape:
                raise ValueError(f"X must be a non-empty 2-d DataFrame, got one of shape {X.shape}.")
        else:
            # Images (n, H, W) or (n, C, H, W) are records too: allow_nd.
            check_array(X, accept_sparse=True, dtype=None, ensure_all_finite=False, allow_nd=True, input_name="X")
        validate_data(self, X, reset=reset, skip_check_array=True)
        if y is None:
            if labels_required:
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the target y is None: the "
                    "classifier attacks need the labels of the population records in X."
                )
            return None
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        if y.ndim != 1:
            raise ValueError(f"y must be one-dimensional, got an array of shape {y.shape}.")
        check_consistent_length(X, y)
        if self.classes_ is not None:
            check_classification_targets(y)
            _class_index(self.classes_, y)
        return y

    # ------------------------------------------------------------------
    # Fit, score, predict
    # ------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Train the attack on population data the target was not trained on.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Population records, in the format the target takes (for images,
            arrays of shape ``(n_samples, H, W)`` or ``(n_samples, C, H, W)``
            are accepted).
        y : array-like of shape (n_samples,)
            Their labels; required for classifier attacks.

        Returns
        -------
        self : MembershipAuditor
        """
        attack = self._make_attack()
        self.classes_ = self._check_target(attack)
        is_classifier_attack = attack.target_type == "classifier"
        y = self._check_records(X, y, reset=True, labels_required=is_classifier_attack)
        if sp.issparse(X) and X.format not in ("csr", "csc"):
            X = X.tocsr()  # rows of COO, DIA, ... matrices cannot be indexed
        rng = check_random_state(self.random_state)
        n_samples = _num_samples(X)
        n_models = self.n_reference_models if attack.needs_reference_models else 0
        n_calibration = int(round(n_samples * self.calibration_size))
        check_calibration_rows(n_samples, n_calibration, fpr=self.fpr, calibration_size=self.calibration_size)
        rows = np.arange(n_samples)
        stratify = y if is_classifier_attack else None
        try:
            reference_rows, calibration_rows = train_test_split(
                rows, test_size=n_calibration, stratify=stratify, random_state=rng
            )
        except ValueError:  # a class too rare to stratify: split at random
            reference_rows, calibration_rows = train_test_split(rows, test_size=n_calibration, random_state=rng)
        if is_classifier_attack:
            check_population_labels(y, y[reference_rows], n_models)
            # The target must take the population as given (columns, dtypes,
            # values): find out now rather than after training reference models.
            check_target_output(self.estimator, X, records="population records")
        X_ref = _safe_indexing(X, reference_rows)
        y_ref = None if y is None else y[reference_rows]

        template = self.reference_estimator if self.reference_estimator is not None else self.estimator
        if isinstance(template, FrozenEstimator):  # clone the model inside, not the frozen wrapper
            template = template.estimator
        if is_classifier_attack and (n_models or getattr(attack, "online", False)):
            check_reference_template(template, attack, from_target=self.reference_estimator is None)
        self.reference_models_, self.reference_in_masks_ = [], None
        if n_models:
            self.reference_in_masks_ = paired_half_masks(y_ref, n_models, rng)
            self.reference_models_ = fit_reference_models(
                template, X_ref, y_ref, self.reference_in_masks_, n_jobs=self.n_jobs, verbose=self.verbose, random_state=rng
            )
        context = AuditContext(
            target=self.estimator,
            X=X_ref,
            y=y_ref,
            classes=self.classes_,
            reference_models=self.reference_models_,
            in_masks=self.reference_in_masks_,
            reference_estimator=template,
            n_reference_models=self.n_reference_models,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            random_state=rng,
        )
        self.attack_ = attack.fit(context)
        X_calibration = _safe_indexing(X, calibration_rows)
        calibration_scores = self._score(X_calibration, None if y is None else y[calibration_rows], "held-out population records")
        self.threshold_ = float(np.quantile(calibration_scores, 1 - self.fpr, method="higher"))
        return self

    def _score(self, X, y, records="records"):
        scores = np.asarray(self.attack_.score(X, y), dtype=np.float64).ravel()
        if np.isnan(scores).any():
            # Name the culprit: NaN would otherwise surface in a metric as "Input contains NaN.".
            if self.attack_.target_type == "classifier":
                check_target_output(self.estimator, X, records=records)
                source = "the target's own outputs on them are numbers: a reference model or the attack produced them"
            else:
                source = "from what the generator exposes to it (its discriminator_ or its samples)"
            raise ValueError(
                f"The {attack_name(self.attack_)!r} attack on {target_name(self.estimator)} gave NaN membership "
                f"scores for {int(np.isnan(scores).sum())} of the {len(scores)} {records}; {source}."
            )
        return scores

    def score_samples(self, X, y=None):
        """Membership score per record; higher means more likely a training record.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Records to audit.
        y : array-like of shape (n_samples,), default=None
            Their true labels; None uses the target's predictions instead.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        y = self._check_records(X, y, reset=False, labels_required=False)
        if y is None and self.attack_.target_type == "classifier":
            y = np.asarray(self.estimator.predict(X))
        return self._score(X, y)

    def predict(self, X, y=None):
        """1 for records the attack calls members at the false-positive rate ``fpr``.

        Parameters
        ----------
        X, y : array-like
            As for :meth:`score_samples`.

        Returns
        -------
        is_member : ndarray of shape (n_samples,) of 0/1
        """
        return (self.score_samples(X, y) > self.threshold_).astype(int)

    def score(self, X, y=None):
        """True-positive rate at ``fpr``: the fraction of ``X`` that ``predict`` calls members.

        Give ``X`` records the target was trained on. The threshold of
        ``predict`` holds the false-positive rate ``fpr`` on population
        records, so this is the attack's true-positive rate at that rate:
        the figure the field reports, at a low false-positive rate, because
        an attack is worth fearing where it names members with near
        certainty (Carlini et al. 2022), not where its ROC AUC is high.
        Higher means a stronger attack (a leakier target), so a grid search
        over attack hyperparameters picks the strongest attack; see the
        user guide. Scored on non-members, it is the false-positive rate.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training records of the target.
        y : array-like of shape (n_samples,), default=None
            Their true labels (not membership labels); None uses the
            target's predictions instead, as in :meth:`score_samples`.

        Returns
        -------
        score : float
            Fraction of ``X`` flagged as members.
        """
        return float(self.predict(X, y).mean())

    def _members_and_nonmembers(self, X_members, y_members, X_nonmembers, y_nonmembers):
        if _num_samples(X_members) == 0 or _num_samples(X_nonmembers) == 0:
            raise ValueError("X_members and X_nonmembers must each hold at least one record.")
        if (y_members is None) != (y_nonmembers is None):
            raise ValueError("Give labels for both y_members and y_nonmembers, or for neither.")
        X = concat_rows(X_members, X_nonmembers, sparse_format="csr")
        y = None if y_members is None else np.concatenate([np.asarray(y_members), np.asarray(y_nonmembers)])
        if y is not None:
            check_consistent_length(X, y)
        is_member = np.r_[np.ones(_num_samples(X_members), dtype=int), np.zeros(_num_samples(X_nonmembers), dtype=int)]
        return X, y, is_member

    def evaluate(self, X_members, y_members, X_nonmembers, y_nonmembers):
        """Measure the attack on known training records and known non-members.

        Parameters
        ----------
        X_members, y_members : array-like
            Records the target was trained on, and their labels.
        X_nonmembers, y_nonmembers : array-like
            Records it was not trained on (not the ``fit`` population), and labels.

        Returns
        -------
        report : DataFrame
            One row, indexed by the attack's name, with the columns of
            :func:`membership_metrics`.
        """
        check_is_fitted(self)
        X, y, is_member = self._members_and_nonmembers(X_members, y_members, X_nonmembers, y_nonmembers)
        scores = self.score_samples(X, y)
        metrics = membership_metrics(is_member, scores, threshold=self.threshold_)
        return pd.DataFrame([metrics], index=pd.Index([attack_name(self.attack_)], name="attack"))

    def plot_roc(self, X_members, y_members, X_nonmembers, y_nonmembers, *, ax=None, label=None):
        """Draw the attack's ROC curve on log-scaled axes, as the LiRA paper does.

        Parameters
        ----------
        X_members, y_members, X_nonmembers, y_nonmembers : array-like
            As for :meth:`evaluate`.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a figure.
        label : str, default=None
            Legend label; None uses the attack's name and AUC.

        Returns
        -------
        ax : matplotlib Axes
        """
        check_is_fitted(self)
        X, y, is_member = self._members_and_nonmembers(X_members, y_members, X_nonmembers, y_nonmembers)
        scores = self.score_samples(X, y)
        return plot_membership_roc(is_member, scores, ax=ax, label=label or attack_name(self.attack_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            attack = plugins.resolve("attack", self.attack)
        except ValueError:  # an unknown name: fit says so
            attack = None
        tags.target_tags.required = getattr(attack, "target_type", "classifier") == "classifier"
        target_tags = target_input_tags(self.estimator)
        tags.input_tags.allow_nan = target_allows_nan(self.estimator)
        tags.input_tags.sparse = True if target_tags is None else target_tags.sparse
        tags.non_deterministic = False
        return tags
