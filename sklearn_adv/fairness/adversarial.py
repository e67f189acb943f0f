"""Adversarially fair classification and representations.

An encoder maps the inputs to a representation, a head predicts the label
from it, and an adversary tries to recover the protected attribute. The
encoder and head are trained on the label while making the adversary fail, on
the shared engine :class:`sklearn_adv.nn.AdversarialNet`:

- demographic parity: the adversary reads the representation (Edwards &
  Storkey 2016; Madras et al. 2018) or the prediction (Zhang et al. 2018);
- equalized odds: it also reads the true label, so only the information
  about the attribute *beyond* the label is removed;
- equal opportunity: as equalized odds, on the positive rows only.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import _fit_context  # no public equivalent: validates parameters once per fit
from sklearn.utils._param_validation import Interval, StrOptions  # no public API for parameter constraints
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (  # _check_sample_weight: no public equivalent
    _check_sample_weight,
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from torch import nn

from sklearn_adv.fairness._net import _ADAM_BETAS, _balanced_weights, _FairNet
from sklearn_adv.nn.adversarial import EncoderHead
from sklearn_adv.nn.base import ROLE_CONSTRAINT, NetworkClassifierMixin, NetworkEstimator
from sklearn_adv.nn.sampling import batched_loader
from sklearn_adv.nn.utils import to_float32

__all__ = ["FairClassifier"]

_CRITERIA = ("demographic_parity", "equalized_odds", "equal_opportunity")


class FairClassifier(NetworkClassifierMixin, NetworkEstimator):
    """Classifier and transformer whose predictions and features hide a protected attribute.

    Three networks are trained together: an ``encoder`` maps the inputs to a
    representation, a ``head`` predicts the label from it, and an
    ``adversary`` tries to recover the sensitive attribute from the
    representation (or from the prediction). Encoder and head minimise the
    label's loss while maximising the adversary's, so that neither the
    predictions nor the representation (:meth:`transform`) carry the
    attribute, not even through proxy features.

    The sensitive attribute is given either as columns of ``X`` named by
    ``sensitive`` (they are removed from the model's inputs), or as
    ``sensitive_features`` passed to :meth:`fit` (fairlearn's convention; with
    scikit-learn's metadata routing it reaches the estimator through
    ``Pipeline`` and ``GridSearchCV`` after ``set_fit_request(sensitive_features=True)``).
    Several attributes, and attributes with more than two values, are
    combined into intersectional groups (e.g. race x sex) which the adversary
    predicts. The attribute is never needed at prediction time.

    Read more in the :ref:`User Guide <fairness>`.

    Parameters
    ----------
    sensitive : str, int, list of str or int, or None, default=None
        Columns of ``X`` holding the protected attribute(s): names for a
        DataFrame, positions for an array. They are removed from the inputs
        of the model and become the adversary's targets. At prediction time
        ``X`` holds the same columns as in ``fit`` (the sensitive ones are
        not read) or, for a DataFrame, only the other columns, in the same
        order: a model in production needs no protected attribute. ``None``: pass
        ``sensitive_features`` to :meth:`fit` instead.

    criterion : {"demographic_parity", "equalized_odds", "equal_opportunity"}, \
            default="demographic_parity"
        The fairness the adversary enforces. ``"demographic_parity"``: the
        prediction independent of the attribute. ``"equalized_odds"``:
        independent given the true label (the adversary reads the label as
        well). ``"equal_opportunity"``: the same on the positive class
        (``classes_[1]``) only; binary targets only.

    adversary_weight : float, default=3.0
        Weight of the adversary's loss against the label's; 0 trains a plain
        network. Larger values trade accuracy for fairness. The default
        halves a logistic regression's demographic-parity gap within 3 points
        of its accuracy on 6 of the 8 tables of ``benchmarks/bench_defaults.py``
        (UCI Adult at 500 to 30,000 rows, generated numeric, categorical,
        imbalanced and wide tables); 1.0 did on 4. Where the label itself
        depends strongly on the attribute, no model that does not read the
        attribute can halve the gap for 3 points: lower the weight there.

    adversary_reads : {"representation", "prediction"}, default="representation"
        What the adversary sees: the encoder's representation (fair
        features for any downstream model, Edwards & Storkey 2016; Madras et
        al. 2018), or the predicted class probabilities (fair predictions
        only, Zhang et al. 2018).

    training : {"alternating", "reversal"}, default="alternating"
        ``"alternating"``: ``adversary_steps`` steps of the adversary, then
        one step of encoder and head on the label's loss plus
        ``adversary_weight`` times a bounded *fooling loss*, zero when the
        adversary's output does not depend on the group (see Notes).
        ``"reversal"``: one optimizer and a gradient-reversal layer (Ganin et
        al. 2016), so that the encoder maximises the adversary's loss; a
        little faster, but it makes the adversary confidently wrong rather
        than uncertain, which hides the attribute from the predictions more
        than from the representation.

    adversary_schedule : {"constant", "ganin"} or callable, default="ganin"
        Factor in [0, 1] applied to ``adversary_weight`` as a function of the
        fraction of training done; ``"ganin"`` ramps it up as
        ``2 / (1 + exp(-10 p)) - 1``, which lets the model learn the task
        before the adversary pushes back.

    balance_groups : bool, default=True
        Weight the adversary's rows so that every group of the attribute
        counts as much as any other (within each class for the conditional
        criteria), as the fairness differences do: they compare groups, not
        rows. ``False`` weights every row alike, and a group of one percent
        of the rows then barely moves the adversary, so its disparity stays.

    adversary_steps : int, default=1
        Adversary steps per model step when ``training="alternating"``. A
        faster adversary (``adversary_lr``) is a cheaper way to keep up with
        the encoder than more steps.

    encoder, head, adversary : None, str, torch.nn.Module class or instance, default=None
        The three networks, as registered names (``"mlp"``), classes called
        as ``cls(in_shape, out_features, **params)`` or instances. ``None``:
        an :class:`~sklearn_adv.nn.MLP` for each, with ``hidden_units=(64,)``
        for the encoder (whose last hidden layer is the representation),
        ``()`` for the head (a linear layer) and ``(32,)`` for the adversary.

    label_smoothing : float in [0, 1), default=0.0
        Smoothing of the target head's targets: the class head learns
        ``(1 - label_smoothing) * one_hot + label_smoothing / n_classes``
        (Szegedy et al. 2016), which tempers overconfident probabilities.
        0 trains on the labels as they are.

    max_epochs : int or "auto", default=20
        Passes over the training data.
        ``"auto"`` aims at 2,000 optimizer steps within 10 to 2,000 epochs
        (see ``n_epochs_``).

    batch_size : int, default=128

    lr : float, default=3e-3
        Learning rate (Adam without momentum) of the encoder and the head.
        Suits a few thousand rows or a few epochs; on tens of thousands of
        rows over 10 or more epochs, 1e-3 (fairlearn's and
        ``MLPClassifier``'s default) gives a more accurate model at every
        adversary weight (see the benchmark in the User Guide).

    adversary_lr : float or None, default=1e-2
        Learning rate of the adversary; ``None`` uses ``lr``. Three times the
        encoder's by default: an adversary that keeps up with the encoder
        finds the attribute where the encoder moves it to, while a faster one
        (3e-2) oscillates against the stronger default weight.

    optimizer : {"adam", "sgd"} or torch.optim.Optimizer class, default="adam"
        The optimizer of every network. ``"adam"`` runs without momentum
        (``betas=(0, 0.999)``): with momentum, the encoder and the adversary
        overshoot each other's moves. ``"sgd"`` uses momentum 0.9. A class is
        used as given.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (stratified by class)
        and stop when their label loss has not improved for
        ``n_iter_no_change`` epochs, keeping the best epoch's weights. The
        adversary's schedule still runs over ``max_epochs``.

    validation_fraction : float, default=0.1
        Fraction of the rows held out when ``early_stopping=True``.

    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.

    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks for the skorch net, e.g. early stopping or
        :class:`~sklearn_adv.nn.AnnealLR`.

    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"``.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation and batch shuffling; an int gives
        identical results run to run on the CPU.

    verbose : int, default=0
        Above 0, prints skorch's table of losses per epoch.

    **role_params : dict
        Network hyperparameters routed by role, as in skorch:
        ``encoder__hidden_units=(32,)``, ``adversary__dropout=0.1``,
        ``head__hidden_units=(16,)``. They work with ``set_params`` and
        ``GridSearchCV``; ``sklearn_adv.nn.RoleParamsMixin`` keeps them as
        plain hyperparameters rather than nested estimators.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.

    sensitive_groups_ : ndarray of shape (n_groups,)
        The groups of the sensitive attribute(s) the adversary tells apart;
        tuples when there are several attributes.

    input_encoder_ : sklearn_adv.preprocessing.TabularEncoder or None
        Fitted preprocessing of the model's inputs when they are a DataFrame
        with categorical columns: one-hot encoding of categorical columns and
        standardisation of numeric ones. None for numeric inputs, which the
        network reads as given.

    net_ : sklearn_adv.nn.AdversarialNet
        The trained skorch net; ``net_.module_`` holds the encoder and head,
        ``net_.adversary_`` the adversary.

    n_epochs_ : int
        Epochs of the training: ``max_epochs``, or what ``"auto"`` chose for the
        number of rows; early stopping may end it sooner.
    history_ : skorch.History
        Per epoch: ``train_loss``, ``main_loss`` (the label's),
        ``adversary_loss`` and ``adversary_accuracy`` (both over the
        group-balanced weights when ``balance_groups``).

    n_features_in_ : int
        Number of columns of ``X`` seen in fit, sensitive columns included.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X``, when it is a DataFrame with string names.

    See Also
    --------
    sklearn_adv.fairness.fairness_report : Per-group rates, differences and ratios.
    fairlearn.reductions.ExponentiatedGradient : Fairness constraints by reduction.
    fairlearn.adversarial.AdversarialFairnessClassifier : fairlearn's adversarial classifier.

    Notes
    -----
    The adversary is a classifier over the groups of the sensitive
    attribute(s) (within each class, for the conditional criteria). It reads
    its input standardised over each batch, so that the encoder cannot hide
    the attribute by shrinking the direction that carries it, and learns by
    cross-entropy plus the group-balanced error of LAFTR [3]_, which makes it
    commit to decisions. With ``training="alternating"`` the encoder and head
    minimise ``label_loss + adversary_weight * fooling_loss``, where the
    fooling loss is, summed over groups, the gap between the adversary's mean
    probability of a group on that group's rows and on all rows, plus the
    divergence of the adversary's output from the group frequencies: both
    vanish when the adversary cannot tell the groups apart, and neither
    rewards making it confidently wrong (maximising its cross-entropy does,
    and then the attribute stays in the representation, flipped). Both
    networks use Adam without momentum, which keeps the two from circling
    each other.

    Inputs follow the rule of every network estimator: a DataFrame with
    categorical columns is encoded inside the estimator (categorical columns
    one-hot, numeric columns standardised); numeric input reaches the
    network as given, so standardise it (e.g. in a Pipeline) when its
    columns have different scales.

    References
    ----------
    .. [1] H. Edwards and A. Storkey, "Censoring Representations with an
       Adversary", ICLR 2016.
    .. [2] B. H. Zhang, B. Lemoine and M. Mitchell, "Mitigating Unwanted
       Biases with Adversarial Learning", AIES 2018.
    .. [3] D. Madras, E. Creager, T. Pitassi and R. Zemel, "Learning
       Adversarially Fair and Transferable Representations", ICML 2018.
    .. [4] Y. Ganin et al., "Domain-Adversarial Training of Neural
       Networks", JMLR 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_adv.fairness import FairClassifier
    >>> rng = np.random.RandomState(0)
    >>> s = rng.randint(2, size=200)
    >>> X = np.c_[s + rng.randn(200), rng.randn(200, 2)]
    >>> y = (X[:, 0] + X[:, 1] > 0.5).astype(int)
    >>> clf = FairClassifier(adversary_weight=1.0, max_epochs=5, random_state=0)
    >>> clf.fit(X, y, sensitive_features=s).predict(X[:3]).shape
    (3,)
    >>> clf.transform(X).shape
    (200, 64)
    """

    # Defaults of the networks built when a role is None; role__param
    # hyperparameters override them key by key.
    _roles = {
        "encoder": {"mlp": {"hidden_units": (64,)}},
        "head": {"mlp": {"hidden_units": ()}},
        "adversary": {"mlp": {"hidden_units": (32,)}},
    }

    _parameter_constraints = {
        **NetworkEstimator.shared_parameter_constraints,
        **NetworkEstimator.validation_parameter_constraints,
        **NetworkClassifierMixin.classifier_parameter_constraints,
        "sensitive": [None, str, Integral, list],
        "criterion": [StrOptions(set(_CRITERIA))],
        "adversary_weight": [Interval(Real, 0, None, closed="left")],
        "adversary_reads": [StrOptions({"representation", "prediction"})],
        "training": [StrOptions({"reversal", "alternating"})],
        "adversary_schedule": [StrOptions({"constant", "ganin"}), callable],
        "balance_groups": ["boolean"],
        "adversary_steps": [Interval(Integral, 1, None, closed="left")],
        "encoder": ROLE_CONSTRAINT,
        "head": ROLE_CONSTRAINT,
        "adversary": ROLE_CONSTRAINT,
        "adversary_lr": [None, Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        sensitive=None,
        *,
        criterion="demographic_parity",
        adversary_weight=3.0,
        adversary_reads="representation",
        training="alternating",
        adversary_schedule="ganin",
        balance_groups=True,
        adversary_steps=1,
        encoder=None,
        head=None,
        adversary=None,
        max_epochs=20,
        batch_size=128,
        lr=3e-3,
        adversary_lr=1e-2,
        label_smoothing=0.0,
        optimizer="adam",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
        **role_params,
    ):
        self.sensitive = sensitive
        self.criterion = criterion
        self.adversary_weight = adversary_weight
        self.adversary_reads = adversary_reads
        self.training = training
        self.adversary_schedule = adversary_schedule
        self.balance_groups = balance_groups
        self.adversary_steps = adversary_steps
        self.encoder = encoder
        self.head = head
        self.adversary = adversary
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.adversary_lr = adversary_lr
        self.label_smoothing = label_smoothing
        self.optimizer = optimizer
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self._store_role_params(role_params)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sensitive_features=None, sample_weight=None):
        """Train the encoder and head against the adversary.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Inputs; categorical DataFrame columns are one-hot encoded. With
            ``sensitive`` set, includes the sensitive column(s).
        y : array-like of shape (n_samples,)
            Class labels.
        sensitive_features : array-like, Series or DataFrame of shape \
                (n_samples,) or (n_samples, n_attributes), default=None
            The protected attribute(s), when ``sensitive`` is None.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, for the label's loss and the
            adversary's alike (a row of weight 0 is left out of both). With
            ``balance_groups=True`` the groups are balanced on their total
            weight. ``None``: every row weighs 1.

        Returns
        -------
        self : FairClassifier
            The fitted estimator.
        """
        X_model, y, groups = self._validate_fit_data(X, y, sensitive_features)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        self.classes_, y_encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y must hold at least 2 classes to train a classifier; got 1 class ({self.classes_[0]!r})."
            )
        if self.criterion == "equal_opportunity" and len(self.classes_) != 2:
            raise ValueError(
                f"criterion='equal_opportunity' needs a binary target; y has {len(self.classes_)} classes. "
                "Use criterion='equalized_odds' for several classes."
            )
        self.sensitive_groups_, group_codes = _encode_groups(groups, len(y))

        device = self._fit_device()  # an unavailable device is refused before any work
        X_net = self._model_input(X_model, reset=True)
        targets = {"target": y_encoded.astype(np.int64), "adversary": group_codes}
        if sample_weight is not None:
            targets["target_weight"] = sample_weight.astype(np.float32)
        # Only the positive rows teach the adversary under equal opportunity
        # (equal true positive rates); all rows otherwise.
        adversary_rows = np.ones(len(y_encoded)) if sample_weight is None else sample_weight
        if self.criterion == "equal_opportunity":
            adversary_rows = adversary_rows * (y_encoded == 1)
        strata = y_encoded if self.criterion != "demographic_parity" else np.zeros(len(y_encoded), dtype=np.int64)
        if self.balance_groups:
            targets["adversary_weight"] = _balanced_weights(group_codes, strata, adversary_rows)
        elif self.criterion == "equal_opportunity" or sample_weight is not None:
            targets["adversary_weight"] = adversary_rows.astype(np.float32)

        rng = self._fit_random_state()
        train_rows, valid_rows = self._validation_rows(np.arange(len(y_encoded)), y_encoded, rng)
        train, valid = self._row_datasets(X_net, targets, train_rows, valid_rows)
        self._fit_net(lambda: self._build_net(X_net.shape[1], device, valid), train, None, rng)
        self._n_features_out = self.net_.module_.encoder.out_features
        return self

    def _build_net(self, n_inputs, device, valid_dataset):
        """The skorch net: encoder + head as the main module, against the adversary."""
        n_classes, n_groups = len(self.classes_), len(self.sensitive_groups_)
        encoder = self._build_role("encoder", (n_inputs,), None)
        n_representation = getattr(encoder, "out_features", None)
        if n_representation is None:
            raise TypeError(
                f"The encoder {type(encoder).__name__} must expose the size of its output as `out_features`."
            )
        head = self._build_role("head", (n_representation,), n_classes)
        conditional = self.criterion != "demographic_parity"
        n_adversary_in = (n_representation if self.adversary_reads == "representation" else n_classes) + (
            n_classes if conditional else 0
        )
        adversary = self._build_role("adversary", (n_adversary_in,), n_groups)
        split_params, stopping = self._early_stopping_params(valid_dataset)
        return _FairNet(
            EncoderHead(encoder, head),
            adversary,
            reads=self.adversary_reads,
            conditional=conditional,
            criterion=self._classification_loss(),
            adversary_criterion=nn.CrossEntropyLoss,
            adversary_criterion__reduction="none",
            training=self.training,
            adversary_weight=self.adversary_weight,
            adversary_schedule=self.adversary_schedule,
            adversary_steps=self.adversary_steps,
            iterator_train=batched_loader,
            iterator_train__shuffle=True,
            iterator_valid=batched_loader,
            **split_params,
            **{**self._net_params(device, callbacks=stopping), **self._learning_rates(device)},
        )

    def _learning_rates(self, device):
        """``lr`` for encoder and head, ``adversary_lr`` for the adversary, in either training mode.

        Adam (the default optimizer) runs without momentum (``betas=(0, 0.999)``):
        with momentum, the encoder and the adversary overshoot each other's moves.
        """
        adversary_lr = self.lr if self.adversary_lr is None else self.adversary_lr
        main = self._optimizer_params(device, "optimizer")
        if self.optimizer == "adam":
            main["optimizer__betas"] = _ADAM_BETAS
        if self.training == "alternating":
            adversary = {
                key.replace("optimizer", "adversary_optimizer", 1): value for key, value in main.items()
            }
            return {"lr": self.lr, **main, **adversary, "adversary_optimizer__lr": adversary_lr}
        # One optimizer over both networks: the main module's parameters are
        # named encoder.* and head.*, every other one is the adversary's.
        main_group = {"lr": self.lr}
        return {"lr": adversary_lr, **main, "optimizer__param_groups": [("encoder.*", main_group), ("head.*", main_group)]}

    # -- input handling ----------------------------------------------------

    def _validate_fit_data(self, X, y, sensitive_features):
        """Validate X and y, split off the sensitive columns; returns (model inputs, y, groups)."""
        if y is None:
            raise ValueError(f"This {type(self).__name__} estimator requires y to be passed, but the target y is None.")
        if self.sensitive is not None and sensitive_features is not None:
            raise ValueError(
                "Give the sensitive attribute once: either as columns of X with sensitive="
                f"{self.sensitive!r}, or as sensitive_features= in fit, not both."
            )
        if self.sensitive is None and sensitive_features is None:
            raise ValueError(
                f"{type(self).__name__} needs the sensitive attribute: name its column(s) of X with "
                "sensitive=..., or pass sensitive_features= to fit."
            )
        if self._needs_encoding(X):
            validate_data(self, X, skip_check_array=True, reset=True)
            _check_frame(X)
            y = column_or_1d(y, warn=True)
            if len(y) != len(X):
                raise ValueError(f"X and y have different lengths: {len(X)} and {len(y)} rows.")
        else:
            X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=False)
        check_classification_targets(y)
        X_model, groups = self._split_sensitive(X, fit=True)
        return X_model, y, (groups if sensitive_features is None else sensitive_features)

    def _split_sensitive(self, X, fit=False):
        """Remove the sensitive columns from validated ``X``; returns (rest, sensitive columns or None)."""
        if self.sensitive is None:
            return X, None
        positions = self._sensitive_positions()
        if len(positions) == self.n_features_in_:
            raise ValueError(
                f"X has {self.n_features_in_} feature(s), all of them sensitive (sensitive={self.sensitive!r}); "
                "no feature is left for the model."
            )
        if hasattr(X, "iloc"):
            return X.drop(columns=X.columns[positions]), (X.iloc[:, positions] if fit else None)
        keep = np.setdiff1d(np.arange(X.shape[1]), positions)
        return X[:, keep], (X[:, positions] if fit else None)

    def _sensitive_positions(self):
        names = self.sensitive if isinstance(self.sensitive, list) else [self.sensitive]
        if not names:
            raise ValueError("sensitive must name at least one column; got an empty list.")
        known = list(getattr(self, "feature_names_in_", []))
        positions = []
        for name in names:
            if isinstance(name, (Integral, np.integer)) and not isinstance(name, bool):
                if not -self.n_features_in_ <= name < self.n_features_in_:
                    raise ValueError(
                        f"sensitive column position {name} is out of range for X with {self.n_features_in_} columns."
                    )
                positions.append(int(name) % self.n_features_in_)
            elif isinstance(name, str):
                if not known:
                    raise TypeError(
                        f"sensitive={self.sensitive!r} names columns, but X has no column names; pass a pandas "
                        "DataFrame, integer column positions, or sensitive_features= to fit."
                    )
                if name not in known:
                    raise ValueError(f"sensitive column {name!r} is not a column of X; its columns are {known}.")
                positions.append(known.index(name))
            else:
                raise TypeError(f"sensitive must hold column names (str) or positions (int), got {name!r}.")
        return sorted(set(positions))

    def _model_input(self, X_model, *, reset):
        """The network's input: a mixed DataFrame encoded by the engine's rule, numeric input as given."""
        if self._needs_encoding(X_model):
            return self._encode_rows(X_model, reset=reset)
        if reset:
            self.input_encoder_ = None
        return to_float32(check_array(X_model, dtype=[np.float64, np.float32]))

    def _network_input(self, X):
        check_is_fitted(self)
        if self._lacks_sensitive_columns(X):
            # Only the model's own columns: nothing to split off.
            if self._needs_encoding(X):
                _check_frame(X)
                return self._model_input(X, reset=False)
            return self._model_input(check_array(X, dtype=[np.float64, np.float32]), reset=False)
        if self._needs_encoding(X):
            validate_data(self, X, skip_check_array=True, reset=False)
            _check_frame(X)
        else:
            X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return self._model_input(self._split_sensitive(X)[0], reset=False)

    def _lacks_sensitive_columns(self, X):
        """Whether DataFrame ``X`` holds the model's columns only: those of fit without the sensitive ones, in order.

        Raises when it has neither those columns nor all the columns of fit.
        Only named columns tell which are missing: an array must have every
        column of fit.
        """
        if self.sensitive is None or not (hasattr(self, "feature_names_in_") and hasattr(X, "columns")):
            return False
        columns = [str(column) for column in X.columns]
        model_columns = np.delete(self.feature_names_in_, self._sensitive_positions()).tolist()
        if columns not in (model_columns, self.feature_names_in_.tolist()):
            raise ValueError(
                f"X must have the columns seen in fit, {self.feature_names_in_.tolist()}, or the same without "
                f"the sensitive column(s), {model_columns}, in that order; got {columns}."
            )
        return columns == model_columns

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        tags.transformer_tags.preserves_dtype = ["float32"]  # the representation is the network's float32 output
        return tags


# -- data -----------------------------------------------------------------------


def _check_frame(X):
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-d DataFrame, got shape {X.shape}.")


def _encode_groups(sensitive_features, n_samples):
    """Validate the sensitive features and number their (intersectional) groups.

    Returns ``(groups, codes)``: the distinct groups, tuples when there are
    several attributes, and each row's group index.
    """
    if isinstance(sensitive_features, pd.Series):
        frame = sensitive_features.to_frame()
    elif isinstance(sensitive_features, pd.DataFrame):
        frame = sensitive_features
    else:
        values = np.asarray(sensitive_features, dtype=object)
        if values.ndim == 0 or values.ndim > 2:
            raise ValueError(
                f"sensitive_features must be 1-d or 2-d (one column per attribute), got an array of shape {values.shape}."
            )
        frame = pd.DataFrame(values.reshape(len(values), -1))
    if frame.shape[1] == 0:
        raise ValueError("sensitive_features has no column.")
    if len(frame) != n_samples:
        raise ValueError(f"sensitive_features has {len(frame)} rows but X and y have {n_samples}.")
    missing = frame.isna().to_numpy().any(axis=1)
    if missing.any():
        raise ValueError(
            f"sensitive_features contains missing values (NaN) in {int(missing.sum())} row(s); "
            "encode 'unknown' as a group of its own or drop those rows."
        )
    frame = frame.reset_index(drop=True)
    frame.columns = range(frame.shape[1])
    grouped = frame.groupby(list(frame.columns), sort=True, observed=True)
    codes = grouped.ngroup().to_numpy(dtype=np.int64)
    keys = list(grouped.size().index)  # in the order of the codes
    groups = np.empty(len(keys), dtype=object)
    groups[:] = keys
    if len(groups) < 2:
        raise ValueError(
            f"sensitive_features is constant (one group: {groups[0]!r}); the adversary needs at least two groups."
        )
    return groups, codes
