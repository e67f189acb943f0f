"""The base of the network estimators: what every estimator that trains torch networks shares.

An estimator on this base declares three things:

- its **roles**: ``_roles`` maps each network role (``"encoder"``,
  ``"head"``, ``"adversary"``, ...) to the default parameters of the network
  built for it when the user gives ``None`` (or the default's name), per kind
  of input: ``"mlp"`` for rows, ``"convnet"`` for images;
- its **loss**: the skorch net it builds in ``fit`` (an
  :class:`~sklearn_adv.nn.AdversarialNet` subclass, a ``NeuralNet`` with its
  own criterion, ...), given :meth:`NetworkEstimator._net_params`;
- its **data contract**: how ``fit`` validates ``X`` and ``y`` and turns
  them into the net's inputs and targets.

The base owns the rest, the same way for every estimator: the shared
hyperparameters and their constraints (skorch's names: ``max_epochs``,
``lr``, ``batch_size``, ``optimizer``, ``callbacks``, ``device``,
``random_state``, ``verbose``; and ``early_stopping``,
``validation_fraction``, ``n_iter_no_change`` where a validation split makes
sense), building a role from ``None``, a name, a class or an instance,
``role__param`` hyperparameters, seeding, device resolution, optimizer
set-up, ``net_`` and ``history_``, and, for classifiers
(:class:`NetworkClassifierMixin`), ``decision_function``, ``predict_proba``,
``predict``, ``transform`` and ``score``.

Inputs follow one rule (:meth:`NetworkEstimator._network_rows`, which
encodes through :meth:`NetworkEstimator._encode_rows`): a DataFrame
with a categorical (non-numeric) column is encoded by a
:class:`~sklearn_adv.preprocessing.TabularEncoder`, categorical columns one-hot and
numeric columns standardised (one-hot blocks next to raw numbers of another
scale would train badly); numeric arrays, numeric DataFrames and images reach
the network as given, as they do scikit-learn's own networks, so that values
are never rescaled behind the user's back and a DataFrame gives the model its
array gives. Images come as ``(n, H, W)`` or ``(n, C, H, W)`` arrays, or as
flat rows with an ``image_shape``, and get the convolutional defaults.
"""

import copy
import threading
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import assert_all_finite
from sklearn.utils._param_validation import Interval, StrOptions  # no public API for parameter constraints
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (  # the private two: validation helpers with no public equivalent
    _check_feature_names,
    _check_n_features,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch.callbacks import EarlyStopping
from skorch.helper import predefined_split
from torch import nn

from sklearn_adv.nn.data import as_network_input
from sklearn_adv.nn.networks import build_network, output_size
from sklearn_adv.nn.params import RoleParamsMixin
from sklearn_adv.nn.sampling import RowsDataset
from sklearn_adv.nn.utils import fused_adam_options, resolve_device, seed_from, to_float32, torch_seed
from sklearn_adv.preprocessing import TabularEncoder, reject_missing_numbers

__all__ = ["NetworkClassifierMixin", "NetworkEstimator"]

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}

# Held while networks are built from torch's global generator, the one
# shared state of fits that run side by side in threads.
_GLOBAL_GENERATOR_LOCK = threading.RLock()

ROLE_CONSTRAINT = [None, str, type, nn.Module]


class NetworkEstimator(RoleParamsMixin, BaseEstimator):
    """Base class of the estimators that train torch networks through the engine.

    A subclass lists its roles in ``_roles`` (a dict: role -> ``{kind:
    default parameters}``), its hyperparameters in ``__init__`` (the shared
    ones under their shared names) and in ``_parameter_constraints`` (built
    from :attr:`shared_parameter_constraints` and, with a validation split,
    :attr:`validation_parameter_constraints`), and writes ``fit`` as its
    data contract followed by :meth:`_fit_net`.

    Examples
    --------
    :class:`~sklearn_adv.NeuralClassifier` is the shortest network
    classifier on this base; the :ref:`developer notes <developers>` of the
    User Guide walk through it.
    """

    _roles = {}

    # Whether "adam" uses the fused kernel where torch has it. It rounds
    # differently, in the last bits, from torch's default (multi-tensor)
    # kernel; an estimator whose training amplifies those bits (a GAN) sets
    # this False to keep its results.
    _fused_adam = True

    # ``max_epochs="auto"``: the optimizer steps a fit aims at, and the
    # fewest and most epochs it takes to get there. Small data needs many
    # passes for enough steps; large data reaches them in a few passes, and
    # the cap on epochs only matters where a pass is short.
    _auto_steps = 2000
    _auto_epochs = (10, 2000)

    shared_parameter_constraints = {
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "callbacks": [list, None],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    validation_parameter_constraints = {
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    }

    # -- roles ----------------------------------------------------------------

    def _build_role(self, role, in_shape, out_features, kind=None):
        """The network of ``role`` for inputs of ``in_shape``, from the hyperparameter of that name.

        ``None`` (or the name of a kind in the role's defaults) builds the
        default for the data, with this estimator's defaults for the role
        overridden key by key by ``role__param`` hyperparameters. The default
        kind is ``kind`` when given (a registered network name, such as a
        GAN's ``"dcgan_generator"``, whose input is noise whatever the data),
        else ``"convnet"`` for images and ``"mlp"`` for rows. A
        name is looked up in the ``network`` plugin registry, a class is
        called as ``cls(in_shape, out_features, **role_params)``, and an
        instance is copied first, as scikit-learn clones estimators: the
        caller's module is never trained in place, and a refit starts from
        the same weights.
        """
        spec = getattr(self, role)
        defaults = self._roles.get(role, {})
        params = self.role_params(role)
        if spec is None or (isinstance(spec, str) and spec in defaults):
            spec = spec or kind or ("convnet" if len(in_shape) == 3 else "mlp")
            params = {**defaults.get(spec, {}), **params}
        elif isinstance(spec, nn.Module):
            spec = copy.deepcopy(spec)
        try:
            return build_network(spec, in_shape, out_features, **params)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"Could not build the {role} network: {exc}") from exc

    # -- fit plumbing ---------------------------------------------------------

    def _fit_random_state(self):
        """The fit's own numpy generator, derived from ``random_state``: splits, seeds and draws come from it."""
        return np.random.RandomState(seed_from(self.random_state))

    def _fit_device(self):
        """The torch device of this fit: ``device`` resolved (``"auto"``: CUDA where torch sees a GPU)."""
        return resolve_device(self.device)

    def _optimizer_params(self, device, prefix="optimizer"):
        """skorch parameters setting up the optimizer ``prefix``: its class and keyword arguments.

        ``"adam"`` and ``"sgd"`` update all parameters at once: on small
        networks the per-tensor loop that torch runs by default costs more
        than the forward and backward passes. Adam's fused kernel is faster
        still than the multi-tensor one (it rounds differently, in the last
        bits; ``_fused_adam = False`` keeps the multi-tensor one); SGD has no fused CPU kernel and uses momentum 0.9, as in the
        papers. A class is used as given.
        """
        if not isinstance(self.optimizer, str):
            return {prefix: self.optimizer}
        params = {prefix: OPTIMIZERS[self.optimizer]}
        if self.optimizer == "sgd":
            params[f"{prefix}__momentum"] = 0.9
        options = fused_adam_options(device) if self.optimizer == "adam" and self._fused_adam else {}
        for key, value in (options or {"foreach": True}).items():
            params[f"{prefix}__{key}"] = value
        return params

    def _net_params(self, device, callbacks=()):
        """The skorch parameters every net of a network estimator takes from the shared hyperparameters.

        ``callbacks`` are the estimator's own; the user's ``callbacks`` come
        after them.
        """
        params = {
            "lr": self.lr,
            "max_epochs": self.n_epochs_,
            "batch_size": self.batch_size,
            "callbacks": [*callbacks, *(self.callbacks or [])],
            "device": device,
            "verbose": int(self.verbose),
            **self._optimizer_params(device),
        }
        if not self.verbose:
            params["callbacks__print_log"] = None  # it formats a table every epoch even when silent
        return params

    def _epochs_for(self, n_rows, batch_size=None):
        """The epochs of a fit on ``n_rows`` training rows: ``max_epochs``, or with ``"auto"`` a budget of steps.

        ``"auto"`` aims at ``_auto_steps`` optimizer steps of ``batch_size``
        rows, within ``_auto_epochs`` passes over the data: an epoch count
        fixed for every size gives a 500-row table a hundred steps and a
        million-row table hundreds of thousands, where what a network needs
        is closer to a number of steps.
        """
        if self.max_epochs != "auto":
            return int(self.max_epochs)
        steps_per_epoch = max(1, -(-n_rows // (batch_size or self.batch_size)))
        fewest, most = self._auto_epochs
        return int(np.clip(-(-self._auto_steps // steps_per_epoch), fewest, most))

    def _validation_rows(self, rows, stratify, rng):
        """Split ``rows`` into (training rows, validation rows), stratified; (rows, None) without early stopping."""
        if not self.early_stopping:
            return rows, None
        classes = np.unique(stratify)
        n_valid = int(np.ceil(self.validation_fraction * len(rows)))
        if n_valid < len(classes) or len(rows) - n_valid < len(classes):
            raise ValueError(
                f"early_stopping needs a validation split with every class: validation_fraction="
                f"{self.validation_fraction} of {len(rows)} labelled rows is too small or too large."
            )
        train, valid = train_test_split(rows, test_size=n_valid, stratify=stratify, random_state=rng)
        return np.sort(train), np.sort(valid)

    @staticmethod
    def _row_datasets(X, y, train_rows, valid_rows=None):
        """:class:`~sklearn_adv.nn.sampling.RowsDataset` of the training rows and of the validation rows (or None).

        ``y`` is an array or a dict of arrays (the adversarial net's targets).
        """

        def dataset(rows):
            targets = {key: value[rows] for key, value in y.items()} if isinstance(y, dict) else y[rows]
            return RowsDataset(X[rows], targets)

        return dataset(train_rows), (None if valid_rows is None else dataset(valid_rows))

    def _early_stopping_params(self, valid_dataset):
        """skorch parameters holding out ``valid_dataset`` (None: no validation) and stopping on its loss."""
        if valid_dataset is None:
            return {"train_split": None}, []
        callback = EarlyStopping(monitor="valid_loss", patience=self.n_iter_no_change, load_best=True)
        return {"train_split": predefined_split(valid_dataset)}, [("early_stopping", callback)]

    def _fit_net(self, build_net, X, y, rng, *, fresh_training_stream=False):
        """Build a net with ``build_net()`` and train it on ``(X, y)``; it becomes ``net_``, its history ``history_``.

        The fit owns its randomness, drawn from ``rng`` (see
        :meth:`_fit_random_state`): the networks are built while torch's
        global generator is seeded from it, under a lock, since their layers
        draw their initial weights from that generator; training then draws
        its batches, dropout masks and noise from the fit's own
        ``torch.Generator`` (see :meth:`~sklearn_adv.nn.BaseNet.set_generator`),
        which continues the same stream, or, with ``fresh_training_stream``,
        starts a stream of the next seed, so that networks of another size
        train on the same batches and noise. Fits running side by side in
        threads thus give what each gives alone, and a fit leaves torch's
        global generator as it found it.
        """
        self.n_epochs_ = self._epochs_for(_n_rows(X))
        seed = rng.randint(np.iinfo(np.int32).max)
        with _GLOBAL_GENERATOR_LOCK, torch_seed(seed):
            net = build_net()
            generator = torch.Generator()
            if fresh_training_stream:
                generator.manual_seed(seed + 1)
            else:
                generator.set_state(torch.get_rng_state())
        net.set_generator(generator)
        try:
            net.fit(X, y)
        finally:
            net.set_generator(None)  # a generator does not outlive its fit, nor pickles with the model
        self.net_ = net
        self.history_ = net.history
        return net

    # -- inputs ---------------------------------------------------------------

    @staticmethod
    def _needs_encoding(X):
        """Whether ``X`` is a DataFrame with a non-numeric column, which the engine encodes."""
        return hasattr(X, "columns") and hasattr(X, "dtypes") and not all(
            pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype) for dtype in X.dtypes
        )

    def _network_rows(self, X, *, reset, image_shape=None):
        """``X`` validated and turned into the network's float32 input by the one input rule, and its shape.

        A DataFrame with a categorical column is encoded
        (:meth:`_encode_rows`), unless the model was fitted without encoding;
        numeric arrays, numeric DataFrames and images are validated as by
        scikit-learn (feature names and counts included) and kept as given.
        Flat rows become images of ``image_shape`` when it is given, and
        ``(n, H, W)`` images gain a channel axis.

        Returns
        -------
        X_net : ndarray of float32, of shape (n, n_features) or (n, C, H, W)
        in_shape : tuple
            ``(n_features,)`` or ``(C, H, W)``, what the networks are built for.
        """
        encode = self._needs_encoding(X) if reset else getattr(self, "input_encoder_", None) is not None
        if image_shape is None and encode:
            _check_feature_names(self, X, reset=reset)
            _check_n_features(self, X, reset=reset)
            if X.shape[0] == 0:
                raise ValueError(f"X is an empty DataFrame of shape {X.shape}; at least one row is needed.")
            if reset:
                self.X_shape_ = (0, X.shape[1])
            return as_network_input(self._encode_rows(X, reset=reset))
        X = validate_data(self, X, reset=reset, allow_nd=True, dtype=[np.float32, np.float64])
        if X.ndim > 4:
            raise ValueError(f"X must be rows (n, n_features) or images (n, [C,] H, W); got shape {X.shape}.")
        if image_shape is not None and X.ndim != 2:
            raise ValueError("image_shape applies to flat rows only; X already has an image shape.")
        if not reset and X.ndim > 2 and X.shape[1:] != self.X_shape_[1:]:
            raise ValueError(f"X has images of shape {X.shape[1:]}, but the model was fitted on {self.X_shape_[1:]}.")
        if reset:
            self.X_shape_ = (0, *X.shape[1:])
            self.input_encoder_ = None  # arrays and images reach the network as given
        return as_network_input(to_float32(X), image_shape)

    def _encode_rows(self, X, *, reset):
        """A mixed DataFrame's rows as the network's float32 input: categorical one-hot, numeric standardised.

        The encoder, fitted when ``reset``, is ``input_encoder_``; a category
        unseen in fit (a rare one missing from a cross-validation fold) is
        encoded as an all-zero block rather than refused. Missing numbers are
        refused, as by scikit-learn's neural networks.
        """
        if reset:
            self.input_encoder_ = TabularEncoder(handle_unknown="ignore")
            encoded = self.input_encoder_.fit_transform(X)
            reject_missing_numbers(self.input_encoder_)
            return to_float32(encoded)
        return to_float32(self.input_encoder_.transform(X))


def _n_rows(X):
    """Rows of a net's training input: a dataset, an array, or a dict of arrays (one row each)."""
    if isinstance(X, dict):
        return len(next(iter(X.values())))
    return len(X)


def feature_size(module, in_shape):
    """The size of the flat features ``module`` makes from inputs of ``in_shape``: ``out_features`` or a trial pass."""
    size = getattr(module, "out_features", None)
    return int(size) if isinstance(size, Integral) else output_size(module, in_shape)


class NetworkClassifierMixin(ClassNamePrefixFeaturesOutMixin, ClassifierMixin, TransformerMixin):
    """Predictions of a network classifier whose net's main module returns ``(logits, features)``.

    The estimator provides ``_network_input(X)``, its data contract at
    prediction time (validation and encoding, as in fit), ``classes_`` (set
    by :meth:`_fit_classes` for plain labels) and ``net_`` (a
    :class:`~sklearn_adv.nn.BaseNet` or any net with ``predict_outputs``);
    it sets ``_n_features_out`` in fit. ``transform`` gives the network's
    float32 features, whatever the input's precision.

    A classifier declares ``label_smoothing`` with
    :attr:`classifier_parameter_constraints` and trains its class head on
    :meth:`_classification_loss`.
    """

    classifier_parameter_constraints = {
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    def _classification_loss(self):
        """The class head's criterion: cross-entropy, one loss per row, targets smoothed by ``label_smoothing``.

        Label smoothing (Szegedy et al. 2016) trains on the targets
        ``(1 - label_smoothing) * one_hot + label_smoothing / n_classes``;
        it keeps the logits from growing without bound, which improves
        calibration (Müller, Kornblith & Hinton 2019). At 0 it is plain
        cross-entropy, bit for bit.
        """
        return nn.CrossEntropyLoss(reduction="none", label_smoothing=float(self.label_smoothing))

    def _fit_classes(self, y, X):
        """Validate the class labels ``y`` of the rows of ``X``: set ``classes_``, return each row's class index.

        The labels half of a plain classifier's data contract: ``y`` is
        required, one finite label per row, of a classification target type,
        with at least two classes.
        """
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        y = column_or_1d(y, warn=True)
        assert_all_finite(y, input_name="y")
        check_consistent_length(X, y)
        check_classification_targets(y)
        self.classes_, class_index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y has only one class ({self.classes_.tolist()[0]!r}); a classifier needs at least 2 classes.")
        return class_index.astype(np.int64)

    def _forward(self, X):
        """(logits, features) as float32 numpy arrays, the network's precision."""
        check_is_fitted(self, "net_")
        logits, features = self.net_.predict_outputs(self._network_input(X))
        return logits.numpy(), features.numpy()

    def decision_function(self, X):
        """Class scores (logits); for two classes, the logit of ``classes_[1]`` over ``classes_[0]``.

        Parameters
        ----------
        X : array-like, DataFrame or images, as in fit

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        logits = self._forward(X)[0]
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def predict_proba(self, X):
        """Class probabilities, in the order of ``classes_``.

        Parameters
        ----------
        X : array-like, DataFrame or images, as in fit

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax(self._forward(X)[0].astype(np.float64), axis=1)

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like, DataFrame or images, as in fit

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        logits = self._forward(X)[0]  # checks that the model is fitted first
        return self.classes_[logits.argmax(axis=1)]

    def transform(self, X):
        """The learned features: the encoder's output, which the head reads.

        Parameters
        ----------
        X : array-like, DataFrame or images, as in fit

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
        """
        return self._forward(X)[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # the features are the network's float32 output
        return tags
