"""Mixup and CutMix as a scikit-learn sampler."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp

# _fit_context (parameter validation once per fit, as scikit-learn's estimators do) has no public equivalent.
from sklearn.base import BaseEstimator, _fit_context

# The constraint types of _parameter_constraints have no public import path.
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target

# _check_y (y validated on its own, as validate_data does next to X) has no public equivalent.
from sklearn.utils.validation import _check_y, check_consistent_length, validate_data

from sklearn_adv.augmentation._base import SamplerMixin, stack_like_input
from sklearn_adv.nn.callbacks import cutmix_box
from sklearn_adv.nn.data import check_image_shape
from sklearn_adv.nn.utils import seed_from

_CLASSIFICATION_TARGETS = ("binary", "multiclass", "multiclass-multioutput", "multilabel-indicator")


class MixupTransformer(SamplerMixin, BaseEstimator):
    """Add mixed rows to a training set: mixup (Zhang et al. 2018), or CutMix for images.

    Each new row mixes two training rows ``i`` and ``j`` with a weight
    ``lam ~ Beta(alpha, alpha)``: ``lam * x_i + (1 - lam) * x_j`` (mixup), or
    ``x_i`` with a box covering ``1 - lam`` of the image pasted from ``x_j``
    (CutMix, Yun et al. 2019). Every training row is a first parent equally
    often; the second parent is drawn at random (from the same class when
    ``within_class=True``).

    Labels are mixed exactly. For a classification target a mixed row is
    returned twice, once with label ``y_i`` and ``sample_weight`` ``lam``,
    once with ``y_j`` and ``1 - lam``: any estimator whose loss is linear in
    the label distribution (log loss, squared error on one-hot labels) then
    minimizes the mixup objective on soft labels. A pair whose two labels are
    equal is returned once, with weight 1. A regression target is mixed
    directly. The weights are in ``sample_weight_``;
    :class:`sklearn_adv.pipeline.Pipeline` passes them to the final
    estimator's ``fit``.

    Parameters
    ----------
    alpha : float, default=0.2
        Parameter of the Beta distribution; small values keep mixed rows near
        one parent. ``alpha=0`` switches mixup off (no rows are added), so a
        grid search can choose "no mixup".
    n_samples : int or float, default=1.0
        Number of mixed rows: an int, or a float giving a multiple of the
        number of input rows.
    method : {"mixup", "cutmix"}, default="mixup"
        CutMix needs images: ``(n, H, W)`` or ``(n, C, H, W)`` arrays, or
        flat rows with ``image_shape``.
    within_class : bool, default=False
        Mix only rows of the same class (classification targets only).
    y_mixing : {"auto", "weighted_pairs", "interpolate"}, default="auto"
        How labels are mixed: ``"auto"`` uses weighted pairs for class labels
        (binary, multiclass, multi-output classes, multilabel indicators) and
        interpolation for continuous targets.
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` of images given as flat rows (CutMix only).
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    sample_weight_ : ndarray of shape (n_samples_out,)
        Weight of each row returned by the last ``fit_resample``: 1 for the
        original rows, ``lam`` and ``1 - lam`` for the two labels of a mixed row.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    Notes
    -----
    DataFrames come back as DataFrames with the same columns (and a fresh
    RangeIndex). Numeric columns are mixed, so integer columns come back as
    floats; categorical, string and boolean columns cannot be averaged and
    take the value of the parent with the larger weight. To mix categories
    as probabilities, one-hot encode them first in the pipeline.

    References
    ----------
    Zhang, Cisse, Dauphin & Lopez-Paz (2018). mixup: Beyond Empirical Risk
    Minimization. ICLR.
    Yun et al. (2019). CutMix: Regularization Strategy to Train Strong
    Classifiers with Localizable Features. ICCV.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_adv import MixupTransformer
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [3.0, 1.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> mixup = MixupTransformer(alpha=0.4, n_samples=2, random_state=0)
    >>> X_res, y_res = mixup.fit_resample(X, y)
    >>> X_res.shape[0] >= 6 and np.array_equal(X_res[:4], X)
    True
    >>> len(mixup.sample_weight_) == len(X_res)
    True
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_samples": [Interval(Integral, 0, None, closed="left"), Interval(Real, 0, None, closed="left")],
        "method": [StrOptions({"mixup", "cutmix"})],
        "within_class": ["boolean"],
        "y_mixing": [StrOptions({"auto", "weighted_pairs", "interpolate"})],
        "image_shape": [tuple, list, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        alpha=0.2,
        n_samples=1.0,
        method="mixup",
        within_class=False,
        y_mixing="auto",
        image_shape=None,
        random_state=None,
    ):
        self.alpha = alpha
        self.n_samples = n_samples
        self.method = method
        self.within_class = within_class
        self.y_mixing = y_mixing
        self.image_shape = image_shape
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y):
        """Return the original rows, in order, followed by the mixed rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n, H, W) or (n, C, H, W), sparse matrix, or DataFrame
            A sparse matrix (e.g. one-hot encoded features) is mixed as it
            is and stays sparse; CutMix needs dense images.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        X_resampled, y_resampled
            Of the same types as ``X`` and ``y`` (ndarray, DataFrame, Series or list).
        """
        X_in, y_in = X, y
        frame = X if isinstance(X, pd.DataFrame) else None
        X, y = self._validate(X, y)
        labels_mix = self._uses_weighted_pairs(y)
        if labels_mix and len(np.unique(_row_keys(y))) < 2:
            raise ValueError("y holds a single class; mixup needs at least two classes to mix labels.")

        n = len(y)
        n_new = self.n_samples if isinstance(self.n_samples, Integral) else int(round(self.n_samples * n))
        if self.alpha == 0:
            n_new = 0
        rng = np.random.default_rng(seed_from(self.random_state))

        first = _first_parents(n, n_new, rng)
        second = _second_parents(first, _row_keys(y) if self.within_class else None, rng)
        lam = rng.beta(self.alpha, self.alpha, size=n_new) if n_new else np.empty(0)

        if frame is not None:
            X_new = _mix_frame(frame, first, second, lam)
        elif self.method == "cutmix":
            X_new, lam = _cutmix(X, first, second, lam, self.image_shape, rng)
        else:
            X_new = _mix_rows(X, first, second, lam)

        if labels_mix:
            rows, y_new, w_new = _weighted_pairs(y, first, second, lam)
            X_new = X_new.iloc[rows] if frame is not None else X_new[rows]
        else:
            lam_y = lam.reshape((-1,) + (1,) * (y.ndim - 1))
            y_new = (lam_y * y[first] + (1 - lam_y) * y[second]).astype(np.result_type(y.dtype, np.float64), copy=False)
            w_new = np.ones(n_new)
        self.sample_weight_ = np.concatenate([np.ones(n), w_new])
        return stack_like_input(X_in, X, X_new), stack_like_input(y_in, y, y_new)

    def _validate(self, X, y):
        if self.within_class and self.y_mixing == "interpolate":
            raise ValueError("within_class=True needs class labels, but y_mixing='interpolate' treats y as continuous.")
        if isinstance(X, pd.DataFrame):
            numeric = X.select_dtypes("number")
            validate_data(self, X, dtype=None, ensure_all_finite=False, skip_check_array=True)
            if len(X) == 0:
                raise ValueError("X has 0 rows; mixup needs at least two rows.")
            if not np.isfinite(numeric.to_numpy(dtype=float)).all():
                raise ValueError("X contains NaN or infinity in numeric columns; impute or drop them before mixup.")
            y = _check_y(y, multi_output=True, y_numeric=False)
            check_consistent_length(X, y)
        else:
            X, y = validate_data(
                self, X, y, allow_nd=True, accept_sparse=["csr", "csc"], multi_output=True, dtype=[np.float64, np.float32]
            )
        if len(y) < 2:
            raise ValueError(f"mixup needs at least two rows, got n_samples = {len(y)}.")
        if self.method == "cutmix":
            if isinstance(X, pd.DataFrame) or sp.issparse(X):
                raise ValueError(f"method='cutmix' needs dense images, not a {type(X).__name__}.")
            if X.ndim == 2 and self.image_shape is None:
                raise ValueError("method='cutmix' needs images: pass (n, H, W) or (n, C, H, W) arrays, or set image_shape.")
            if X.ndim == 2:
                check_image_shape(self.image_shape, X.shape[1])
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        return X, y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _uses_weighted_pairs(self, y):
        if self.y_mixing != "auto":
            return self.y_mixing == "weighted_pairs"
        target_type = type_of_target(y, input_name="y", raise_unknown=True)
        if target_type in _CLASSIFICATION_TARGETS:
            return True
        if self.within_class:
            raise ValueError(f"within_class=True needs class labels, got a {target_type} target.")
        if target_type not in ("continuous", "continuous-multioutput"):
            raise ValueError(f"Unsupported target type {target_type!r} for mixup.")
        return False


def _row_keys(y):
    """One hashable key per row, so that multi-output labels compare whole rows."""
    if y.ndim == 1:
        return y
    return np.unique(y, axis=0, return_inverse=True)[1].ravel()


def _first_parents(n, n_new, rng):
    # Whole permutations, then part of one: every row is a first parent equally often.
    reps = -(-n_new // n) if n_new else 0
    return np.concatenate([rng.permutation(n) for _ in range(reps)])[:n_new] if reps else np.empty(0, dtype=np.intp)


def _second_parents(first, classes, rng):
    if classes is None:
        # A shuffle of the first parents: every row is also a second parent equally often.
        return rng.permutation(first)
    # Rows sorted by class: a partner is a uniform draw from the first parent's block.
    order = np.argsort(classes, kind="stable")
    values, starts, counts = np.unique(classes[order], return_index=True, return_counts=True)
    block = np.searchsorted(values, classes[first])
    offsets = np.floor(rng.random(len(first)) * counts[block]).astype(np.intp)
    return order[starts[block] + offsets]


def _mix_rows(X, first, second, lam):
    lam = lam.astype(X.dtype, copy=False)
    if sp.issparse(X):
        # Row scaling by diagonal matrices keeps the result sparse (and in X's format).
        return (sp.diags(lam) @ X[first] + sp.diags(1 - lam) @ X[second]).asformat(X.format)
    lam = lam.reshape((-1,) + (1,) * (X.ndim - 1))
    out = X[second] * (1 - lam)
    out += X[first] * lam
    return out


def _cutmix(X, first, second, lam, image_shape, rng):
    """Paste a box of ``x_j`` into ``x_i``; ``lam`` becomes the area actually kept from ``x_i``."""
    images = X.reshape((len(X), *check_image_shape(image_shape, X.shape[1]))) if X.ndim == 2 else X
    height, width = images.shape[-2:]
    top, bottom, left, right = cutmix_box(height, width, lam, rng)
    rows, cols = np.arange(height), np.arange(width)
    in_box = ((rows >= top[:, None]) & (rows < bottom[:, None]))[:, :, None] & (
        (cols >= left[:, None]) & (cols < right[:, None])
    )[:, None, :]
    in_box = in_box.reshape((len(lam),) + (1,) * (images.ndim - 3) + (height, width))
    mixed = np.where(in_box, images[second], images[first])
    kept = 1.0 - (bottom - top) * (right - left) / (height * width)
    return mixed.reshape((len(lam), *X.shape[1:])), kept


def _mix_frame(frame, first, second, lam):
    """Numeric columns are mixed; the others take the value of the parent with the larger weight."""
    dominant = np.where(lam >= 0.5, first, second)
    columns = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            values = column.to_numpy(dtype=np.float64)
            columns[name] = lam * values[first] + (1 - lam) * values[second]
        else:
            columns[name] = column.iloc[dominant].to_numpy()
    mixed = pd.DataFrame(columns, columns=frame.columns)
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(frame[name]):
            mixed[name] = mixed[name].astype(frame[name].dtype)
    return mixed


def _weighted_pairs(y, first, second, lam):
    """Rows, labels and weights of the mixed rows: two per pair with different labels, one otherwise."""
    keys = _row_keys(y)
    differ = keys[first] != keys[second]
    # Row k of the mixed block is repeated when its labels differ.
    rows = np.repeat(np.arange(len(first)), np.where(differ, 2, 1))
    is_second = np.zeros(len(rows), dtype=bool)
    is_second[1:] = rows[1:] == rows[:-1]
    labels = np.where(is_second, second[rows], first[rows])
    weights = np.where(is_second, 1 - lam[rows], np.where(differ[rows], lam[rows], 1.0))
    return rows, y[labels], weights
