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

Inputs follow one rule (:meth:`NetworkEstimator._encode_rows`): a DataFrame
with a categorical (non-numeric) column is encoded by a
:class:`~sklearn_adv.nn.TabularEncoder`, categorical columns one-hot and
numeric columns standardised (one-hot blocks next to raw numbers of another
scale would train badly); numeric arrays, numeric DataFrames and images reach
the network as given, as they do scikit-learn's own networks, so that values
are never rescaled behind the user's back and a DataFrame gives the model its
array gives.
"""

import copy
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions  # no public API for parameter constraints
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EarlyStopping
from skorch.helper import predefined_split
from torch import nn

from sklearn_adv.nn.networks import build_network, output_size
from sklearn_adv.nn.params import RoleParamsMixin
from sklearn_adv.nn.tabular import TabularEncoder, reject_missing_numbers
from sklearn_adv.nn.utils import fused_adam_options, resolve_device, seed_from, to_float32, torch_seed

__all__ = ["NetworkClassifierMixin", "NetworkEstimator"]

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}

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
    The shortest network classifier on this base is in the developer notes
    of the User Guide (``docs/user_guide/developers.rst``).
    """

    _roles = {}

    # Whether "adam" uses the fused kernel where torch has it. It rounds
    # differently, in the last bits, from torch's default (multi-tensor)
    # kernel; an estimator whose training amplifies those bits (a GAN) sets
    # this False to keep its results.
    _fused_adam = True

    shared_parameter_constraints = {
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
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

    @staticmethod
    def _torch_seed(rng):
        """A block in which torch's generators are seeded from ``rng`` (restored afterwards)."""
        return torch_seed(rng.randint(np.iinfo(np.int32).max))

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
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "callbacks": [*callbacks, *(self.callbacks or [])],
            "device": device,
            "verbose": int(self.verbose),
            **self._optimizer_params(device),
        }
        if not self.verbose:
            params["callbacks__print_log"] = None  # it formats a table every epoch even when silent
        return params

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

    def _early_stopping_params(self, valid_dataset):
        """skorch parameters holding out ``valid_dataset`` (None: no validation) and stopping on its loss."""
        if valid_dataset is None:
            return {"train_split": None}, []
        callback = EarlyStopping(monitor="valid_loss", patience=self.n_iter_no_change, load_best=True)
        return {"train_split": predefined_split(valid_dataset)}, [("early_stopping", callback)]

    def _fit_net(self, net, X, y):
        """Train ``net``; it becomes ``net_``, its history ``history_``.

        Build and train the net inside :meth:`_torch_seed`: skorch draws the
        weights' initialisation and the batches from torch's generators.
        """
        net.fit(X, y)
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


def feature_size(module, in_shape):
    """The size of the flat features ``module`` makes from inputs of ``in_shape``: ``out_features`` or a trial pass."""
    size = getattr(module, "out_features", None)
    return int(size) if isinstance(size, Integral) else output_size(module, in_shape)


class NetworkClassifierMixin(ClassNamePrefixFeaturesOutMixin, ClassifierMixin, TransformerMixin):
    """Predictions of a network classifier whose net's main module returns ``(logits, features)``.

    The estimator provides ``_network_input(X)``, its data contract at
    prediction time (validation and encoding, as in fit), ``classes_`` and
    ``net_`` (an :class:`~sklearn_adv.nn.AdversarialNet` or any net with
    ``predict_outputs``); it sets ``_n_features_out`` in fit.
    """

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
