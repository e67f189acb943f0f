"""Gradient access to fitted models: a torch function of a batch of inputs, for the gradient attacks.

:func:`torch_forward` turns a fitted model into a differentiable torch
function of its input (in float64, the attack's precision): the logits of a
classifier, the rows a transformer outputs. It knows

- the project's network classifiers (``net_`` and ``_network_input``): the
  trained module, after the estimator's own input rule, which is a reshape
  for arrays and images and an affine map for the numeric columns of an
  encoded DataFrame (categorical columns held as they are);
- scikit-learn's linear classifiers (``coef_``, ``intercept_``; a binary one
  gets the two logits ``(0, score)``) and ``MLPClassifier`` (rebuilt from
  ``coefs_``, ``intercepts_`` and its activations);
- ``StandardScaler``, ``MinMaxScaler`` and ``MaxAbsScaler``, chained in a
  ``Pipeline`` before such a classifier, and ``FrozenEstimator``.

Anything else raises :class:`NotDifferentiableError`. The function is a
:func:`functools.singledispatch`: register a builder for another model type
with ``torch_forward.register(MyModel)``; it is called as ``builder(model, X)``
with the clean rows ``X`` of the batch (in the form the model takes) and
returns a callable mapping a float64 tensor of those rows' values to the
model's output.
"""

from functools import singledispatch

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.exceptions import NotFittedError
from sklearn.linear_model._base import LinearClassifierMixin  # the base of every linear classifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted

from sklearn_adv.nn.base import NetworkClassifierMixin

__all__ = ["NotDifferentiableError", "torch_forward"]


class NotDifferentiableError(TypeError):
    """A model whose gradients the gradient attacks cannot reach."""


def _tensor(array):
    return torch.tensor(np.asarray(array, dtype=np.float64))


@singledispatch
def torch_forward(model, X):
    """A differentiable torch function computing ``model``'s output from a batch of its inputs.

    Parameters
    ----------
    model : fitted estimator
    X : array-like or DataFrame
        The clean rows the function will be evaluated around, in the form
        ``model`` takes them; only read by models whose input rule depends on
        the rows (the categorical columns of an encoded DataFrame).

    Returns
    -------
    forward : callable
        Maps a float64 tensor of shape ``(len(X), ...)`` (the numeric values
        of the rows) to the model's output: logits for a classifier.

    Raises
    ------
    NotDifferentiableError
        For a model it does not know (a TypeError).
    """
    raise NotDifferentiableError(
        f"No gradients for {type(model).__name__}: the gradient attacks reach scikit-learn's linear classifiers, "
        "MLPClassifier, the project's network classifiers, and Pipelines of StandardScaler, MinMaxScaler or "
        "MaxAbsScaler before one of them. Use the black-box SquareAttack, which needs only predict_proba or "
        "decision_function."
    )


def _checked(model):
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise NotFittedError(f"The attacked estimator is not fitted: {exc}") from None
    return model


@torch_forward.register(LinearClassifierMixin)
def _linear(model, X):
    _checked(model)
    coef = _tensor(np.atleast_2d(model.coef_))
    intercept = _tensor(np.broadcast_to(model.intercept_, (len(coef),)))

    def forward(x):
        scores = x.flatten(1) @ coef.T + intercept
        # A binary linear classifier scores classes_[1] against classes_[0]: the logits (0, score).
        return F.pad(scores, (1, 0)) if scores.shape[1] == 1 else scores

    return forward


_ACTIVATIONS = {"identity": lambda t: t, "logistic": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


@torch_forward.register(MLPClassifier)
def _mlp(model, X):
    _checked(model)
    if model.out_activation_ not in ("softmax", "logistic") or (
        model.out_activation_ == "logistic" and len(model.classes_) != 2
    ):
        raise NotDifferentiableError(
            "A multilabel MLPClassifier has no class logits; the gradient attacks need one label per row."
        )
    weights = [(_tensor(W), _tensor(b)) for W, b in zip(model.coefs_, model.intercepts_)]
    hidden = _ACTIVATIONS[model.activation]

    def forward(x):
        h = x.flatten(1)
        for i, (W, b) in enumerate(weights):
            h = h @ W + b
            if i < len(weights) - 1:
                h = hidden(h)
        # The output layer's pre-activation is the logits (softmax), or the logit of classes_[1] (logistic).
        return F.pad(h, (1, 0)) if h.shape[1] == 1 else h

    return forward


@torch_forward.register(StandardScaler)
def _standard(model, X):
    _checked(model)
    # mean_ is learned even with with_mean=False, which does not subtract it.
    mean = _tensor(model.mean_) if model.with_mean else 0.0
    scale = _tensor(model.scale_) if model.with_std else 1.0
    return lambda x: (x - mean) / scale


@torch_forward.register(MinMaxScaler)
def _minmax(model, X):
    _checked(model)
    scale, shift = _tensor(model.scale_), _tensor(model.min_)
    low, high = model.feature_range

    def forward(x):
        out = x * scale + shift
        return out.clamp(low, high) if model.clip else out

    return forward


@torch_forward.register(MaxAbsScaler)
def _maxabs(model, X):
    _checked(model)
    scale = _tensor(model.scale_)
    return lambda x: x / scale


@torch_forward.register(Pipeline)
def _pipeline(model, X):
    _checked(model)
    forwards = []
    for _, step in model.steps[:-1]:
        if step is None or step == "passthrough":
            continue
        forwards.append(torch_forward(step, X))
        X = step.transform(X)  # what the next step reads, for a step whose map depends on the rows
    final = model.steps[-1][1]
    if final is not None and final != "passthrough":
        forwards.append(torch_forward(final, X))

    def forward(x):
        for f in forwards:
            x = f(x)
        return x

    return forward


try:  # scikit-learn >= 1.6
    from sklearn.frozen import FrozenEstimator

    @torch_forward.register(FrozenEstimator)
    def _frozen(model, X):
        return torch_forward(model.estimator, X)
except ImportError:  # pragma: no cover
    pass


@torch_forward.register(NetworkClassifierMixin)
def _network(model, X):
    check_is_fitted(model, "net_")
    module = model.net_.module_
    module.eval()  # as predict does: dropout off, batch norm on its running statistics
    device = next(module.parameters(), torch.empty(0)).device
    Z = model._network_input(X)  # the estimator's own validation and input rule
    n = len(Z)
    numeric = _numeric_values(X)
    if numeric.size == Z.size and np.array_equal(numeric.reshape(n, -1).astype(np.float32), Z.reshape(n, -1)):
        shape = Z.shape[1:]  # the input rule is a reshape (rows, images, flat images with image_shape)

        def to_network(x):
            return x.reshape(len(x), *shape)
    else:
        to_network = _affine_input_rule(model, X, numeric, Z)

    def forward(x):
        outputs = module(to_network(x).to(device=device, dtype=torch.float32))
        logits = outputs[0] if isinstance(outputs, (tuple, list)) else outputs
        return logits.to(device=x.device, dtype=x.dtype)

    return forward


def _numeric_values(X):
    """The values an attack may move: every column of an array, the numeric columns of a DataFrame."""
    if hasattr(X, "columns"):
        return X[numeric_columns(X)].to_numpy(dtype=np.float64)
    return np.asarray(X, dtype=np.float64)


def numeric_columns(frame):
    """The numeric (not boolean, not categorical) columns of a DataFrame, which attacks perturb."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return [c for c, dtype in frame.dtypes.items() if is_numeric_dtype(dtype) and not is_bool_dtype(dtype)]


def _affine_input_rule(model, X, numeric, Z):
    """The network input of rows whose numeric values move, categorical ones held: ``Z + (x - x0) @ A``.

    The encoder of a mixed DataFrame standardises numeric columns, an affine
    map that does not depend on the row; ``A`` is read off by moving each
    numeric value of one row by 1 and by 2, which also checks that the map
    is affine (a mode-specific encoding is not, and is refused).
    """
    if not hasattr(X, "columns"):
        raise NotDifferentiableError(
            f"The input rule of this {type(model).__name__} is not a reshape of its array input; the gradient attacks "
            "cannot follow it. Use SquareAttack."
        )
    columns = numeric_columns(X)
    d = len(columns)
    probes = X.iloc[np.zeros(2 * d + 1, dtype=int)].copy()
    base = numeric[0]
    steps = np.r_[np.zeros((1, d)), np.eye(d), 2 * np.eye(d)]
    probes[columns] = base + steps
    out = model._network_input(probes).astype(np.float64).reshape(2 * d + 1, -1)
    A = out[1:d + 1] - out[0]
    scale = np.abs(out).max(initial=1.0)
    if not np.allclose(out[d + 1:] - out[0], 2 * A, atol=1e-4 * scale):
        raise NotDifferentiableError(
            f"The encoding of the numeric columns of this {type(model).__name__} is not affine (numeric='standard' "
            "is); the gradient attacks cannot follow it. Use SquareAttack."
        )
    Z0, x0, A = _tensor(Z.reshape(len(Z), -1)), _tensor(numeric), _tensor(A)
    shape = Z.shape[1:]

    def to_network(x):
        return (Z0 + (x - x0) @ A).reshape(len(x), *shape)

    return to_network
