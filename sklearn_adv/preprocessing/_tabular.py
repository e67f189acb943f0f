"""Tabular encoding: mixed numeric/categorical DataFrames to float matrices and back.

:class:`TabularEncoder` turns a DataFrame (or a numeric array) into the float
matrix a network consumes, and turns network outputs back into a DataFrame
with the original columns, dtypes and categories. Its :attr:`output_info_`
describes the layout span by span, so a generator can put ``tanh`` on
scalars and a (Gumbel-)softmax on each one-hot block, and
:attr:`categorical_spans_` is what a conditional vector is built over.

The forward direction is scikit-learn's: a
:class:`~sklearn.compose.ColumnTransformer` of a
:class:`~sklearn.preprocessing.StandardScaler`, a
:class:`~sklearn.impute.MissingIndicator` and a
:class:`~sklearn.preprocessing.OneHotEncoder`. What is added here is the
layout (one block after another in the input's column order), the exact
inverse, and the mode-specific normalisation of CTGAN.
"""

import time
from collections import namedtuple
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context  # _fit_context: no public equivalent
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions  # no public API for parameter constraints
from sklearn.utils.validation import (  # _check_feature_names_in: no public equivalent (get_feature_names_out's input check)
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from sklearn_adv.preprocessing._columns import (
    _categorical_mask,
    _check_numeric_fit,
    _check_numeric_transform,
    _ColumnSpec,
    _decode_levels,
    _decode_numeric,
    _has_missing_level,
    _learn_levels,
    _level_codes,
    _missing_mask,
    _numeric_block,
    _numeric_values,
)
from sklearn_adv.preprocessing._modes import _decode_modes, _encode_modes, _fit_modes

__all__ = ["Span", "TabularEncoder", "reject_missing_numbers"]

Span = namedtuple("Span", ["column", "start", "stop", "kind"])
Span.__doc__ = """A block of output columns that encodes one part of one input column.

``column`` is the input column's label (its position for array input),
``Z[:, start:stop]`` the block, and ``kind`` one of ``"numeric"`` (one scalar),
``"mode"`` (one-hot of the mixture mode of the preceding scalar),
``"onehot"`` (one-hot of a categorical column) or ``"missing"`` (a 0/1
missing-value indicator)."""

_SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class TabularEncoder(TransformerMixin, BaseEstimator):
    """Encode mixed numeric and categorical columns as floats, with an exact inverse.

    Each input column becomes one or more blocks of output columns, in the
    input's column order:

    - a numeric column becomes one scalar (``numeric="standard"``: scaled to
      zero mean and unit variance), or one scalar and a one-hot of its mixture
      mode (``numeric="mode_specific"``, the mode-specific normalisation of
      CTGAN, Xu et al. 2019), followed by a ``<column>_missing`` indicator when
      the column had missing values during fit (or ``missing_indicators``
      asks for one);
    - a categorical column becomes a one-hot block over the levels seen
      during fit.

    :meth:`inverse_transform` maps such a matrix back to a DataFrame with the
    same columns, dtypes and categories. It takes the argmax of every one-hot
    block, so it also decodes soft outputs of a generator.

    Parameters
    ----------
    categorical_features : "auto", array-like of str, array-like of int, array-like of bool or None, \
            default="auto"
        Which columns are categorical. ``"auto"`` treats columns of dtype
        ``category``, object, string and bool as categorical and the other
        (numeric) columns as numeric. A list of column names or positions, or
        a boolean mask over the columns, overrides this: listed columns are
        categorical and all others must be numeric. ``None`` means no
        categorical column.

    numeric : {"standard", "mode_specific"}, default="standard"
        How numeric columns are encoded. ``"standard"`` subtracts the mean and
        divides by the standard deviation (:class:`~sklearn.preprocessing.StandardScaler`).
        ``"mode_specific"`` fits a :class:`~sklearn.mixture.BayesianGaussianMixture`
        to each column and encodes a value ``x`` as the pair
        ``((x - mean_k) / (4 std_k), onehot(k))`` for a mode ``k``; the scalar
        is clipped to ``[-1, 1]``, so values more than four standard deviations
        from their mode do not round-trip exactly.

    n_modes : int, default=10
        Largest number of mixture components per column when
        ``numeric="mode_specific"``.

    weight_threshold : float, default=0.005
        Mixture components with a weight at or below this are dropped when
        ``numeric="mode_specific"`` (the heaviest one is always kept).

    mode_sampling : {"sample", "argmax"}, default="sample"
        How :meth:`transform` assigns a value to a mode when
        ``numeric="mode_specific"``: drawn from the mixture's posterior (with
        ``random_state``), as CTGAN trains, or the most probable mode.
        :meth:`inverse_transform` always reads the argmax of the mode block.

    max_fit_rows : int or None, default=10_000
        The mixtures are fitted on at most this many non-missing values per
        column, drawn at random; ``None`` uses all rows.

    handle_unknown : {"error", "ignore"}, default="error"
        What :meth:`transform` does with a categorical value not seen during
        fit: raise a ``ValueError``, or encode it as an all-zero one-hot row
        (which :meth:`inverse_transform` decodes as the first level).

    missing_indicators : {"missing-only", "all"} or array-like, default="missing-only"
        Which columns can encode a missing value. ``"missing-only"``: the
        columns that had missing values during fit. ``"all"``: every column,
        whatever fit saw. A list of column names or positions, or a boolean
        mask over the columns: those columns as well as the ones with missing
        values in fit. Such a numeric column gets a ``<column>_missing``
        indicator (:class:`~sklearn.impute.MissingIndicator`), such a
        categorical column a missing level; this lets a missing value in
        :meth:`transform` be encoded in a column where fit saw none, as when
        real and synthetic rows are compared in one encoding.

    clip : bool, default=True
        Whether :meth:`inverse_transform` clips numeric values to the range
        seen during fit. Integer columns are always rounded, and clipped to
        the range seen in fit regardless of ``clip``.

    dtype : {np.float32, np.float64}, default=np.float32
        Dtype of the output of :meth:`transform`. With float32, numeric values
        round-trip only to float32 precision (about 7 significant digits of
        the column's scale), and integers are exact up to about ``2**22`` in
        magnitude; use float64 for a round trip to float64 precision.

    random_state : int, RandomState instance or None, default=None
        Seeds the subsample and the mixtures fitted in ``fit`` and the modes
        drawn in ``transform`` (``mode_sampling="sample"``). With an int,
        every call to ``transform`` on the same data gives the same output.

    verbose : int, default=0
        Print the time spent on each mixture when greater than zero.

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen during fit, when they are all strings.

    is_categorical_ : ndarray of bool of shape (`n_features_in_`,)
        Which input columns are encoded as categorical.

    categories_ : dict
        Column label -> ndarray of the levels of each categorical column, in
        the order of its one-hot block: the levels of a ``category`` dtype in
        its order, otherwise sorted (when sortable). A missing value seen
        during fit is a level of its own, last.

    column_transformer_ : ColumnTransformer
        The fitted scikit-learn transformers of the forward direction, whose
        output columns :meth:`transform` places into the layout of
        :attr:`output_info_`: ``"numeric"`` (a :class:`~sklearn.preprocessing.StandardScaler`
        and a :class:`~sklearn.impute.SimpleImputer` putting missing values at
        the mean, ``numeric="standard"`` only), ``"missing"`` (a
        :class:`~sklearn.impute.MissingIndicator`) and ``"categorical"`` (the
        level codes one-hot encoded by a :class:`~sklearn.preprocessing.OneHotEncoder`),
        each present when it has columns to encode.

    scaler_ : StandardScaler or None
        The scaler of the numeric columns (in input order) when
        ``numeric="standard"``, the one inside :attr:`column_transformer_`.

    modes_ : dict
        Column label -> DataFrame with the ``mean``, ``std`` and ``weight``
        of each kept mixture mode, heaviest first, when
        ``numeric="mode_specific"``; empty otherwise.

    output_info_ : list of Span
        The output layout: ``Span(column, start, stop, kind)`` blocks, one or
        more per input column, in order; ``kind`` is ``"numeric"`` (one
        scalar: unbounded with ``numeric="standard"``, in ``[-1, 1]`` with
        ``"mode_specific"``, where ``tanh`` fits), ``"mode"`` (one-hot of the
        preceding scalar's mode), ``"onehot"`` (a categorical column) or
        ``"missing"`` (a 0/1 indicator).

    categorical_spans_ : list of Span
        The ``"onehot"`` spans, one per categorical column: the blocks a
        conditional vector is built over.

    n_features_out_ : int
        Number of output columns.

    See Also
    --------
    sklearn.preprocessing.OneHotEncoder : One-hot encoding of categorical columns.
    sklearn.preprocessing.StandardScaler : Scaling of numeric columns.
    sklearn.impute.MissingIndicator : The missing-value indicators.
    sklearn.mixture.BayesianGaussianMixture : The mixture of ``numeric="mode_specific"``.

    Notes
    -----
    Missing values. A missing value in a numeric column is encoded as the
    column's mean (``numeric="standard"``, scalar 0) or as the mean of its
    heaviest mode (``numeric="mode_specific"``, scalar 0 and mode 0), and a
    ``<column>_missing`` indicator column (1 where missing) follows the
    column's block. The indicator exists only for columns that had missing
    values during fit, unless ``missing_indicators`` asks for more; a missing
    value in transform in another numeric column raises a ``ValueError``. :meth:`inverse_transform` writes a missing value
    (NaN, or ``pd.NA`` for nullable dtypes) where the indicator exceeds 0.5.
    In a categorical column, a missing value is a level of its own (the
    missing value first seen in fit comes back, NaN for a level that only
    ``missing_indicators`` asked for). Infinite values raise. A NumPy integer
    or bool column decoded with missing values comes back as float64 or
    object, as pandas would hold it.

    Round trip. ``inverse_transform(transform(X))`` equals ``X`` for
    categorical, boolean and integer columns and for float columns to the
    precision of ``dtype`` (relative to the column's scale), when
    ``numeric="standard"``; with ``"mode_specific"`` values further than four
    standard deviations from their mode are clipped. The result has the
    input's column labels in order and their dtypes (``category`` with the
    same categories in the same order, object, string, bool, nullable
    dtypes). Its index is that of ``Z`` when ``Z`` is a DataFrame (as after
    ``set_output(transform="pandas")``), otherwise a fresh ``RangeIndex``.
    When the encoder was fitted on an array, it returns an array of the
    input's dtype.

    References
    ----------
    Xu, L., Skoularidou, M., Cuesta-Infante, A. and Veeramachaneni, K. (2019).
    Modeling Tabular Data using Conditional GAN. NeurIPS.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_adv.preprocessing import TabularEncoder
    >>> X = pd.DataFrame({"age": [25, 32, 47, 51],
    ...                   "job": pd.Categorical(["tech", "admin", "tech", "sales"]),
    ...                   "income": [2.5, None, 4.0, 3.1]})
    >>> encoder = TabularEncoder().fit(X)
    >>> Z = encoder.transform(X)
    >>> Z.shape
    (4, 6)
    >>> encoder.get_feature_names_out()
    array(['age', 'job_admin', 'job_sales', 'job_tech', 'income',
           'income_missing'], dtype=object)
    >>> [(s.column, s.start, s.stop, s.kind) for s in encoder.output_info_]
    [('age', 0, 1, 'numeric'), ('job', 1, 4, 'onehot'), ('income', 4, 5, 'numeric'), ('income', 5, 6, 'missing')]
    >>> back = encoder.inverse_transform(Z)
    >>> back["job"].equals(X["job"]), back["age"].equals(X["age"])
    (True, True)
    >>> back["income"].isna().tolist() == X["income"].isna().tolist()
    True
    """

    _parameter_constraints: dict = {
        "categorical_features": ["array-like", StrOptions({"auto"}), None],
        "numeric": [StrOptions({"standard", "mode_specific"})],
        "n_modes": [Interval(Integral, 1, None, closed="left")],
        "weight_threshold": [Interval(Real, 0, 1, closed="left")],
        "mode_sampling": [StrOptions({"sample", "argmax"})],
        "max_fit_rows": [Interval(Integral, 1, None, closed="left"), None],
        "handle_unknown": [StrOptions({"error", "ignore"})],
        "missing_indicators": [StrOptions({"missing-only", "all"}), "array-like"],
        "clip": ["boolean"],
        "dtype": "no_validation",  # checked in fit: np.float32 or np.float64, as a type, dtype or name
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        categorical_features="auto",
        numeric="standard",
        n_modes=10,
        weight_threshold=0.005,
        mode_sampling="sample",
        max_fit_rows=10_000,
        handle_unknown="error",
        missing_indicators="missing-only",
        clip=True,
        dtype=np.float32,
        random_state=None,
        verbose=0,
    ):
        self.categorical_features = categorical_features
        self.numeric = numeric
        self.n_modes = n_modes
        self.weight_threshold = weight_threshold
        self.mode_sampling = mode_sampling
        self.max_fit_rows = max_fit_rows
        self.handle_unknown = handle_unknown
        self.missing_indicators = missing_indicators
        self.clip = clip
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the columns' kinds, scales, modes and levels.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table. Numeric, bool, integer, ``category``, object and
            string columns are accepted; missing values are allowed.
        y : None
            Ignored.

        Returns
        -------
        self : TabularEncoder
        """
        out_dtype = _check_dtype(self.dtype)
        frame = self._validate_frame(X, reset=True)
        self.is_categorical_ = _categorical_mask(frame, self.categorical_features)
        encodes_missing = _missing_mask(frame, self.missing_indicators)
        rng = check_random_state(self.random_state)

        specs = []
        for j, label in enumerate(frame.columns):
            column = frame.iloc[:, j]
            spec = _ColumnSpec(label=label, position=j, categorical=bool(self.is_categorical_[j]), dtype=column.dtype)
            if spec.categorical:
                spec.levels, spec.missing_level = _learn_levels(column, force_missing_level=encodes_missing[j])
            else:
                values = _numeric_values(column, label)
                _check_numeric_fit(values, label)
                spec.has_missing = bool(np.isnan(values).any() or encodes_missing[j])
                spec.data_min, spec.data_max = float(np.nanmin(values)), float(np.nanmax(values))
                if self.numeric == "mode_specific":
                    tic = time.perf_counter()
                    spec.mode_means, spec.mode_stds, weights = _fit_modes(
                        values[~np.isnan(values)], self.n_modes, self.weight_threshold, self.max_fit_rows, rng
                    )
                    spec.mode_log_weights = np.log(weights)
                    if self.verbose > 0:
                        print(
                            f"[TabularEncoder] column {label!r}: {len(weights)} modes "
                            f"({time.perf_counter() - tic:.2f} s)",
                            flush=True,
                        )
            specs.append(spec)

        self.column_transformer_ = self._forward_transformers(specs).fit(frame)
        numeric_scaler = self.column_transformer_.named_transformers_.get("numeric")
        self.scaler_ = numeric_scaler.named_steps["scale"] if numeric_scaler is not None else None

        self._layout(specs)
        self.modes_ = {
            s.label: pd.DataFrame({"mean": s.mode_means, "std": s.mode_stds, "weight": np.exp(s.mode_log_weights)})
            for s in specs
            if s.mode_means is not None
        }
        self.categories_ = {
            s.label: np.append(s.levels, np.array([s.missing_level.value], dtype=object))
            if _has_missing_level(s)
            else s.levels.copy()
            for s in specs
            if s.categorical
        }
        self._specs_ = specs
        self._out_dtype_ = out_dtype
        return self

    def _forward_transformers(self, specs):
        """The unfitted ColumnTransformer of the blocks scikit-learn encodes: scaled numbers, indicators, one-hots."""
        numeric = [s for s in specs if not s.categorical]
        indicated = [s for s in numeric if s.has_missing]
        categorical = [s for s in specs if s.categorical]
        as_float = FunctionTransformer(_numeric_block)
        transformers = []
        if numeric and self.numeric == "standard":
            scale = Pipeline(
                [
                    ("as_float", as_float),
                    ("scale", StandardScaler()),
                    # A missing value goes to the column's mean, 0 once scaled.
                    ("fill_mean", SimpleImputer(strategy="constant", fill_value=0.0)),
                ]
            )
            transformers.append(("numeric", scale, [s.position for s in numeric]))
        if indicated:
            indicate = Pipeline([("as_float", as_float), ("indicate", MissingIndicator(features="all"))])
            transformers.append(("missing", indicate, [s.position for s in indicated]))
        if categorical:
            # The levels are learned in fit rather than by OneHotEncoder because
            # their order is the inverse's contract (a category dtype's own order,
            # unsortable values in order of appearance, the missing level last),
            # which OneHotEncoder's sorted categories cannot all express; it
            # one-hot encodes the level codes, an unknown value (-1) as zeros.
            codes = FunctionTransformer(
                _level_codes, kw_args={"specs": categorical, "handle_unknown": self.handle_unknown}
            )
            widths = [len(s.levels) + int(_has_missing_level(s)) for s in categorical]
            onehot = OneHotEncoder(
                categories=[np.arange(width) for width in widths], handle_unknown="ignore", sparse_output=False
            )
            transformers.append(
                ("categorical", Pipeline([("codes", codes), ("onehot", onehot)]), [s.position for s in categorical])
            )
        # Plain arrays whatever the global output config: transform lays them out.
        return ColumnTransformer(transformers, sparse_threshold=0.0).set_output(transform="default")

    def _layout(self, specs):
        """Assign output spans to every column; set output_info_ and friends."""
        start = 0
        info = []
        for spec in specs:
            spec.spans = []
            if spec.categorical:
                width = len(spec.levels) + int(_has_missing_level(spec))
                spec.spans.append(Span(spec.label, start, start + width, "onehot"))
            else:
                spec.spans.append(Span(spec.label, start, start + 1, "numeric"))
                if spec.mode_means is not None:
                    spec.spans.append(Span(spec.label, start + 1, start + 1 + len(spec.mode_means), "mode"))
                if spec.has_missing:
                    stop = spec.spans[-1].stop
                    spec.spans.append(Span(spec.label, stop, stop + 1, "missing"))
            start = spec.spans[-1].stop
            info.extend(spec.spans)
        self.output_info_ = info
        self.categorical_spans_ = [s for s in info if s.kind == "onehot"]
        self.n_features_out_ = start
        # Where each output column of column_transformer_ lands, in the order of its transformers.
        numeric = [s for s in specs if not s.categorical]
        targets = []
        if self.numeric == "standard":
            targets += [s.spans[0].start for s in numeric]
        targets += [s.spans[-1].start for s in numeric if s.has_missing]
        targets += [k for s in specs if s.categorical for k in range(s.spans[0].start, s.spans[0].stop)]
        self._forward_columns_ = np.asarray(targets, dtype=np.intp)

    def transform(self, X):
        """Encode a table with the layout of :attr:`output_info_`.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A table with the columns seen in fit, in the same order.

        Returns
        -------
        Z : ndarray of shape (n_samples, `n_features_out_`)
            Encoded rows, of dtype ``dtype``.
        """
        check_is_fitted(self)
        frame = self._validate_frame(X, reset=False)
        n_rows = len(frame)
        numeric_specs = [s for s in self._specs_ if not s.categorical]
        if numeric_specs:
            block = _numeric_block(frame.iloc[:, [s.position for s in numeric_specs]])
            _check_numeric_transform(block, numeric_specs)

        Z = np.zeros((n_rows, self.n_features_out_), dtype=self._out_dtype_)
        Z[:, self._forward_columns_] = self.column_transformer_.transform(frame)
        if self.numeric == "mode_specific" and numeric_specs:
            rows = np.arange(n_rows)
            rng = check_random_state(self.random_state)
            for k, spec in enumerate(numeric_specs):
                scalar, mode = _encode_modes(block[:, k], spec, self.mode_sampling, rng)
                Z[:, spec.spans[0].start] = scalar
                Z[rows, spec.spans[1].start + mode] = 1.0
        return Z

    def inverse_transform(self, Z):
        """Decode encoded (or generated) rows back into the original table format.

        Parameters
        ----------
        Z : array-like or DataFrame of shape (n_samples, `n_features_out_`)
            Rows laid out as :attr:`output_info_`. One-hot blocks may hold
            scores or probabilities: their argmax is taken.

        Returns
        -------
        X : DataFrame or ndarray of shape (n_samples, `n_features_in_`)
            A DataFrame with the columns and dtypes seen in fit (index: that of
            ``Z`` when ``Z`` is a DataFrame, else a fresh RangeIndex), or an
            array of the input's dtype when the encoder was fitted on an array.
        """
        check_is_fitted(self)
        index = Z.index if isinstance(Z, pd.DataFrame) else None
        Z = check_array(Z, dtype=[np.float64, np.float32], input_name="Z")
        if Z.shape[1] != self.n_features_out_:
            raise ValueError(
                f"Z has {Z.shape[1]} columns, but {type(self).__name__} encodes rows into "
                f"{self.n_features_out_} columns."
            )
        return self._assemble([self._decode_columns(Z)], index)

    def _decode_columns(self, Z):
        """What each input column's blocks of the float matrix ``Z`` decode to, before pandas.

        One ``(values, missing)`` pair per input column: the level codes of a
        categorical column (``missing`` None), or the float64 values of a
        numeric one and its missing mask (None without an indicator). Rows
        decode independently, so a matrix may be decoded part by part (as a
        generator makes it, batch by batch) and the parts assembled at once
        by :meth:`_assemble`, without ever holding the whole matrix.
        """
        numeric_specs = [s for s in self._specs_ if not s.categorical]
        if self.scaler_ is not None:
            unscaled = self.scaler_.inverse_transform(
                Z[:, [s.spans[0].start for s in numeric_specs]].astype(np.float64, copy=False)
            )
        decoded = []
        for spec in self._specs_:
            if spec.categorical:
                span = spec.spans[0]
                decoded.append((np.argmax(Z[:, span.start : span.stop], axis=1), None))
                continue
            if spec.mode_means is not None:
                mode_span = spec.spans[1]
                values = _decode_modes(Z[:, spec.spans[0].start], Z[:, mode_span.start : mode_span.stop], spec)
            else:
                values = unscaled[:, numeric_specs.index(spec)]
            missing = Z[:, spec.spans[-1].start] > 0.5 if spec.has_missing else None
            decoded.append((values, missing))
        return decoded

    def _assemble(self, parts, index=None):
        """The table of the rows decoded in ``parts`` (outputs of :meth:`_decode_columns`, in row order)."""
        columns = {}
        for j, spec in enumerate(self._specs_):
            values = np.concatenate([part[j][0] for part in parts]) if len(parts) > 1 else parts[0][j][0]
            if index is None:
                index = pd.RangeIndex(len(values))
            if spec.categorical:
                columns[spec.label] = _decode_levels(values, spec, index)
                continue
            missing = None
            if spec.has_missing:
                missing = np.concatenate([part[j][1] for part in parts]) if len(parts) > 1 else parts[0][j][1]
            columns[spec.label] = _decode_numeric(values, missing, spec, self.clip, index)
        frame = pd.DataFrame(columns, index=index)
        if self._input_array_dtype_ is not None:
            return frame.to_numpy(dtype=self._input_array_dtype_)
        return frame

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        A numeric column keeps its name (its modes are ``<name>_mode<k>``, its
        indicator ``<name>_missing``); a categorical column gives
        ``<name>_<level>``, with ``<name>_nan`` for the missing level.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input names; defaults to ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        out = []
        for spec in self._specs_:
            name = names[spec.position]
            for span in spec.spans:
                if span.kind == "numeric":
                    out.append(str(name))
                elif span.kind == "mode":
                    out.extend(f"{name}_mode{k}" for k in range(span.stop - span.start))
                elif span.kind == "missing":
                    out.append(f"{name}_missing")
                else:
                    levels = list(spec.levels) + (["nan"] if _has_missing_level(spec) else [])
                    out.extend(f"{name}_{level}" for level in levels)
        return np.asarray(out, dtype=object)

    def _validate_frame(self, X, *, reset):
        """Check X and return it as a DataFrame; arrays get integer column labels."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0 or X.shape[1] == 0:
                raise ValueError(
                    f"X is an empty DataFrame of shape {X.shape}; at least one row and one column are required."
                )
            if not X.columns.is_unique:
                raise ValueError(f"X has duplicate column names: {sorted(set(X.columns[X.columns.duplicated()]))}.")
            if reset:
                self._columns_ = list(X.columns)
                self._input_array_dtype_ = None
            elif self._input_array_dtype_ is None and list(X.columns) != self._columns_:
                raise ValueError(
                    f"X has columns {list(X.columns)}, but {type(self).__name__} was fitted with columns "
                    f"{self._columns_} (same names in the same order are required)."
                )
            return X
        X = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan")
        if reset:
            self._columns_ = list(range(X.shape[1]))
            self._input_array_dtype_ = X.dtype
        frame = pd.DataFrame(X, copy=False)
        if X.dtype == object:
            frame = frame.infer_objects()
        if not reset and self._input_array_dtype_ is None:
            frame.columns = self._columns_  # fitted on a DataFrame: columns match by position
        return frame

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        try:
            tags.transformer_tags.preserves_dtype = [_check_dtype(self.dtype).name]
        except ValueError:
            tags.transformer_tags.preserves_dtype = []
        return tags


def reject_missing_numbers(encoder):
    """Raise if the fitted ``encoder`` gives a numeric column a missing-value indicator.

    For the models that take no missing numbers (as ``MLPClassifier``): with
    the default ``missing_indicators="missing-only"``, an indicator means
    that fit saw missing values in that column, and one missing value at
    prediction time in any other numeric column would then fail. Missing
    categories are a level of their own and are accepted.

    Parameters
    ----------
    encoder : TabularEncoder
        A fitted encoder.

    Raises
    ------
    ValueError
        Naming the numeric columns with an indicator.
    """
    missing = [span.column for span in encoder.output_info_ if span.kind == "missing"]
    if missing:
        raise ValueError(f"Input X contains NaN in its numeric column(s) {missing}; fill or drop them before fitting.")


def _check_dtype(dtype):
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved not in _SUPPORTED_DTYPES:
        raise ValueError(f"dtype must be np.float32 or np.float64, got {dtype!r}.")
    return resolved
