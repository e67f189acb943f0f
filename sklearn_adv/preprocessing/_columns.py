"""What a TabularEncoder learns about each input column, and how a column is read and decoded."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class _ColumnSpec:
    """What fit learned about one input column, and where it lands in the output."""

    label: object
    position: int
    categorical: bool
    dtype: object
    spans: list = field(default_factory=list)
    # numeric columns
    data_min: float = 0.0
    data_max: float = 0.0
    has_missing: bool = False  # whether the column has a missing-value indicator
    mode_means: np.ndarray = None
    mode_stds: np.ndarray = None
    mode_log_weights: np.ndarray = None
    # categorical columns
    levels: np.ndarray = None
    missing_level: object = None


class _MissingLevel:
    """Marks that a categorical column has a missing level, holding the missing value it decodes to."""

    def __init__(self, value):
        self.value = value


def _has_missing_level(spec):
    return isinstance(spec.missing_level, _MissingLevel)


# --------------------------------------------------------------------------- column kinds


def _is_categorical_dtype(dtype):
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    )


def _column_mask(frame, features, parameter):
    """Boolean mask over the columns from a list of names, positions or a boolean mask."""
    n_features = frame.shape[1]
    mask = np.zeros(n_features, dtype=bool)
    if features is None:
        return mask
    features = np.asarray(features)
    if features.ndim != 1:
        raise ValueError(f"{parameter} must be a 1-d list of column names, positions or bools.")
    if features.dtype.kind == "b":
        if len(features) != n_features:
            raise ValueError(
                f"{parameter} is a boolean mask of length {len(features)}, but X has {n_features} columns."
            )
        return features.copy()
    if features.dtype.kind in "iu":
        if len(features) and (features.min() < -n_features or features.max() >= n_features):
            raise ValueError(f"{parameter} holds positions {features.tolist()}, but X has {n_features} columns.")
        mask[features] = True
    elif len(features):
        columns = pd.Index(frame.columns)
        unknown = [f for f in features.tolist() if f not in columns]
        if unknown:
            raise ValueError(f"{parameter} names columns {unknown} that are not in X (columns: {list(columns)}).")
        mask[columns.get_indexer(features.tolist())] = True
    return mask


def _categorical_mask(frame, categorical_features):
    """Boolean mask of categorical columns, from dtypes or the user's override."""
    for j in range(frame.shape[1]):
        dtype = frame.dtypes.iloc[j]
        if not _is_categorical_dtype(dtype) and not (
            pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
        ):
            raise TypeError(
                f"Column {frame.columns[j]!r} has dtype {dtype}, which TabularEncoder cannot encode; "
                "convert it to a numeric, bool, category or string column."
            )
    auto = np.array([_is_categorical_dtype(dtype) for dtype in frame.dtypes], dtype=bool)
    if isinstance(categorical_features, str):  # "auto"
        return auto
    if categorical_features is not None and np.ndim(categorical_features) != 1:
        raise ValueError("categorical_features must be 'auto', None or a 1-d list of names, positions or bools.")
    mask = _column_mask(frame, categorical_features, "categorical_features")
    forced_numeric = auto & ~mask & ~np.array([pd.api.types.is_bool_dtype(d) for d in frame.dtypes])
    if forced_numeric.any():
        names = [frame.columns[j] for j in np.flatnonzero(forced_numeric)]
        raise ValueError(
            f"Columns {names} hold strings or categories but are not in categorical_features; "
            "list them there (or use categorical_features='auto')."
        )
    return mask


def _missing_mask(frame, missing_indicators):
    """Boolean mask of the columns that encode a missing value whether or not fit saw one."""
    if isinstance(missing_indicators, str):
        return np.full(frame.shape[1], missing_indicators == "all")
    return _column_mask(frame, missing_indicators, "missing_indicators")


# --------------------------------------------------------------------------- numeric columns


def _numeric_values(column, label):
    """A numeric column as float64 with NaN for missing values."""
    try:
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Column {label!r} was encoded as numeric in fit but holds non-numeric values: {exc}"
        ) from None


def _numeric_block(frame):
    """The numeric columns of ``frame`` side by side as one C-ordered float64 array, NaN where missing.

    Built column by column so that every numeric and nullable dtype converts
    the same way; the C order also fixes the summation order of the scaler.
    """
    return np.column_stack([_numeric_values(frame.iloc[:, j], label) for j, label in enumerate(frame.columns)])


def _check_numeric_fit(values, label):
    if np.isinf(values).any():
        raise ValueError(f"Column {label!r} of X contains infinity; only finite values or NaN are accepted.")
    if np.isnan(values).all():
        raise ValueError(f"Numeric column {label!r} of X has only missing values; drop it or fill it.")


def _check_numeric_transform(block, specs):
    infinite = np.isinf(block).any(axis=0)
    if infinite.any():
        names = [s.label for s, bad in zip(specs, infinite) if bad]
        raise ValueError(f"Columns {names} of X contain infinity; only finite values or NaN are accepted.")
    new_missing = [s.label for s, has in zip(specs, np.isnan(block).any(axis=0)) if has and not s.has_missing]
    if new_missing:
        raise ValueError(
            f"Columns {new_missing} of X have missing values in transform but had none in fit, "
            "so the encoder has no missing-value indicator for them (see missing_indicators)."
        )


def _decode_numeric(values, missing, spec, clip, index):
    dtype = spec.dtype
    integer = pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    if integer:
        values = np.rint(values)
    if integer or clip:
        values = np.clip(values, spec.data_min, spec.data_max)
    if missing is not None and missing.any():
        values = np.where(missing, np.nan, values)
        if isinstance(dtype, np.dtype) and dtype.kind in "iub":
            # A NumPy integer or bool column holds no NaN: it comes back as float64, as pandas would give it.
            return pd.Series(values, index=index)
        return pd.Series(values, index=index).astype(dtype)
    if isinstance(dtype, np.dtype):
        return pd.Series(values.astype(dtype), index=index)
    return pd.Series(values, index=index).astype(dtype)


# --------------------------------------------------------------------------- categorical columns


def _learn_levels(column, force_missing_level=False):
    """Levels of a categorical column, in one-hot order, and its missing level (if any).

    The missing level holds the missing value first seen in fit (NaN for a
    ``category`` column, or when ``force_missing_level`` adds a level that
    fit never saw).
    """
    missing = column.isna().to_numpy()
    missing_level = column[missing].iloc[0] if missing.any() else np.nan
    if missing.any() and isinstance(column.dtype, pd.CategoricalDtype):
        missing_level = np.nan
    if isinstance(column.dtype, pd.CategoricalDtype):
        present = set(pd.unique(column.cat.codes[~missing]))
        levels = [c for code, c in enumerate(column.cat.categories) if code in present]
    else:
        levels = list(pd.unique(column[~missing]))
        try:
            levels = sorted(levels)
        except TypeError:  # mixed types that do not compare: keep the order of first appearance
            pass
    values = np.empty(len(levels), dtype=object)
    values[:] = levels
    if missing.any() or force_missing_level:
        return values, _MissingLevel(missing_level)
    return values, None


def _level_codes(frame, specs, handle_unknown):
    """Level index of every value of every categorical column of ``frame``.

    Unknown values get -1 (an all-zero one-hot row) under
    ``handle_unknown="ignore"``; under ``"error"`` they raise, naming the
    column and the values.
    """
    codes = np.empty(frame.shape, dtype=np.intp)
    for j, spec in enumerate(specs):
        codes[:, j] = _column_codes(frame.iloc[:, j], spec, handle_unknown)
    return codes


def _column_codes(column, spec, handle_unknown):
    levels = pd.Index(spec.levels, dtype=object)
    if isinstance(column.dtype, pd.CategoricalDtype):
        lookup = np.append(levels.get_indexer(column.cat.categories), -1)  # code -1 (missing) -> -1
        codes = lookup[column.cat.codes.to_numpy()]
    else:
        codes = levels.get_indexer(column)
    codes = codes.astype(np.intp, copy=False)
    missing = column.isna().to_numpy()
    if _has_missing_level(spec):
        codes[missing] = len(spec.levels)
    unknown = codes < 0
    if unknown.any() and handle_unknown == "error":
        values = column[unknown]
        shown = [repr(v) for v in pd.unique(values.astype(object))[:5]]
        what = "missing values, not seen in fit," if values.isna().all() else "unknown categories"
        raise ValueError(
            f"Found {what} {', '.join(shown)} in column {spec.label!r} during transform. "
            "Pass handle_unknown='ignore' to encode them as all-zero rows."
        )
    return codes


def _decode_levels(codes, spec, index):
    if isinstance(spec.dtype, pd.CategoricalDtype):
        categories = spec.dtype.categories
        lookup = categories.get_indexer(pd.Index(spec.levels, dtype=object))
        if _has_missing_level(spec):
            lookup = np.append(lookup, -1)
        return pd.Series(pd.Categorical.from_codes(lookup[codes], dtype=spec.dtype), index=index)
    values = spec.levels
    if _has_missing_level(spec):
        values = np.append(values, np.array([spec.missing_level.value], dtype=object))
    decoded = values[codes] if len(values) else np.full(len(codes), np.nan, dtype=object)
    series = pd.Series(decoded, index=index, dtype=object)
    numpy_bool = isinstance(spec.dtype, np.dtype) and spec.dtype.kind == "b"
    if spec.dtype == object or (numpy_bool and series.isna().any()):
        return series  # a NumPy bool column holds no missing value: it stays object
    return series.astype(spec.dtype)
