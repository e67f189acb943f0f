"""What a differentially private GAN reads of its data besides the discriminator's steps, all of it private.

:class:`~sklearn_adv.GANAugmenter` with ``epsilon`` trains its
discriminator with DP-SGD; everything else that depends on the rows is
released here through the Gaussian mechanism, paid from the same budget:

- numeric columns: bounds, when not given (public), from a noisy histogram
  on a geometric grid; then a noisy histogram between the bounds, whose
  cumulative sums give a quantile map to ``[-1, 1]`` (values clipped to the
  bounds), and its inverse for generated values;
- categorical columns: their levels are declared, never read (a pandas
  ``category`` dtype, or ``bool``), missing values a level of their own;
- the class counts and, per class, the category counts that conditional
  sampling draws from: noisy counts.

One row adds one to one cell of every histogram, so the histograms
together have L2 sensitivity ``sqrt(number of histograms)``: one Gaussian
mechanism, whose noise multiplier spends ``privacy_split * epsilon``.
"""

import functools
import math

import numpy as np
import pandas as pd

from sklearn_adv.nn.privacy import DEFAULT_ORDERS, RDPAccountant, noise_multiplier_for
from sklearn_adv.preprocessing import Span

#: RDP orders of private fits: the defaults and large ones, which small budgets of the Gaussian mechanism need.
PRIVATE_ORDERS = DEFAULT_ORDERS + tuple(range(64, 256, 16)) + (256, 384, 512, 768, 1024)

#: Noise multipliers above this are refused: every step's noise would drown any gradient.
MAX_NOISE_MULTIPLIER = 50.0

# The geometric grid of the private bounds: 0 and +-2**k.
_BOUND_GRID = np.concatenate([-(2.0 ** np.arange(40, -9, -1)), [0.0], 2.0 ** np.arange(-8, 41)])


@functools.lru_cache(maxsize=256)
def calibrated_noise(epsilon, delta, sample_rate, steps, rdp_spent=None):
    """:func:`~sklearn_adv.nn.privacy.noise_multiplier_for` on :data:`PRIVATE_ORDERS`, remembered.

    ``rdp_spent`` as a tuple (or None). A calibration takes up to seconds,
    and cross-validation or a grid search fits the same budget again and
    again.
    """
    spent = 0.0 if rdp_spent is None else np.asarray(rdp_spent)
    return noise_multiplier_for(epsilon, delta, sample_rate, steps, PRIVATE_ORDERS, rdp_spent=spent)


def resolve_delta(delta, n_rows):
    """``delta``, or for ``"auto"`` ``1 / (10 n_rows)``: below ``1 / n``, so that no row is released whole."""
    if isinstance(delta, str):
        return 1.0 / (10.0 * n_rows)
    if delta >= 1.0 / n_rows:
        raise ValueError(
            f"delta={delta} is not below 1 / n_samples = {1.0 / n_rows:.3g}: a mechanism releasing one random row "
            "whole would meet it. Use a smaller delta or 'auto'."
        )
    return float(delta)


class PrivateCounts:
    """The Gaussian mechanism of a fit's histograms: one noise scale for all, its cost recorded once.

    Parameters
    ----------
    n_histograms : int
        Histograms released (each row counts once in each).
    epsilon, delta : float
        What the histograms may spend together.
    rng : numpy RandomState
        Source of the noise.
    """

    def __init__(self, n_histograms, epsilon, delta, rng):
        self.n_histograms = int(n_histograms)
        self.rng = rng
        if self.n_histograms:
            self.noise_multiplier = calibrated_noise(float(epsilon), float(delta), 1.0, 1)
            self.sigma = self.noise_multiplier * math.sqrt(self.n_histograms)
        else:
            self.noise_multiplier, self.sigma = math.inf, 0.0
        self.released = 0

    def spend(self, accountant):
        if self.n_histograms:
            accountant.spend(noise_multiplier=self.noise_multiplier, sample_rate=1.0, steps=1)

    def noisy(self, counts):
        """``counts`` (one histogram, or several stacked along the last axis for groups) plus Gaussian noise."""
        counts = np.asarray(counts, dtype=float)
        self.released += 1
        if self.released > self.n_histograms:
            raise RuntimeError("More histograms released than were paid for.")
        return counts + self.rng.normal(0.0, self.sigma, size=counts.shape)


def frequencies(noisy_counts, threshold=0.0):
    """Noisy counts -> frequencies: counts at or below ``threshold`` to 0, uniform when nothing is left."""
    counts = np.where(noisy_counts > threshold, noisy_counts, 0.0)
    total = counts.sum()
    return counts / total if total > 0 else np.full(len(counts), 1.0 / len(counts))


def private_bounds(values, counts, label):
    """(low, high) of a numeric column from a noisy histogram on the geometric grid ``_BOUND_GRID``."""
    cells = np.clip(np.searchsorted(_BOUND_GRID, values, side="right") - 1, 0, len(_BOUND_GRID) - 2)
    noisy = counts.noisy(np.bincount(cells, minlength=len(_BOUND_GRID) - 1))
    kept = np.flatnonzero(noisy > 3.0 * counts.sigma)
    if not len(kept):
        raise ValueError(
            f"Column {label!r}: too few rows to estimate its bounds privately at this epsilon; give them in bounds "
            "(public bounds, e.g. from the column's definition), or raise epsilon."
        )
    return float(_BOUND_GRID[kept[0]]), float(_BOUND_GRID[kept[-1] + 1])


class _QuantileMap:
    """A numeric column to ``[-1, 1]`` by a private cumulative distribution between public bounds.

    Cells: the low bound (an atom: values at or below it), ``n_bins``
    equal-width bins, the high bound (an atom). The map is linear within
    bins, so decoding spreads values uniformly inside a bin and puts atoms
    back on the bound.
    """

    def __init__(self, low, high, n_bins, values, counts, integer):
        self.low, self.high, self.integer = float(low), float(high), integer
        self.edges = np.linspace(self.low, self.high, n_bins + 1)
        noisy = counts.noisy(np.bincount(self._cells(values), minlength=n_bins + 2))
        # Cells whose noisy count is within noise of zero are empty: else every empty bin gets some mass.
        p = frequencies(noisy, 2.0 * counts.sigma) + 1e-6
        p /= p.sum()
        self.p_low, self.p_high = p[0], p[-1]
        self.cdf = self.p_low + np.concatenate([[0.0], np.cumsum(p[1:-1])])  # at the bins' edges

    def _cells(self, values):
        clipped = np.clip(values, self.low, self.high)
        inner = np.clip(np.searchsorted(self.edges, clipped, side="right"), 1, len(self.edges) - 1)
        return np.where(clipped <= self.low, 0, np.where(clipped >= self.high, len(self.edges), inner))

    def encode(self, values):
        clipped = np.clip(values, self.low, self.high)
        u = np.interp(clipped, self.edges, self.cdf)
        u = np.where(clipped <= self.low, self.p_low / 2, np.where(clipped >= self.high, 1 - self.p_high / 2, u))
        return 2.0 * u - 1.0

    def decode(self, scalar):
        u = (np.clip(scalar, -1.0, 1.0) + 1.0) / 2.0
        values = np.interp(u, self.cdf, self.edges)
        values = np.where(u < self.p_low, self.low, np.where(u > 1 - self.p_high, self.high, values))
        return np.rint(values) if self.integer else values


class PrivateTableEncoder:
    """The table's encoding for a private GAN: declared levels, private quantile maps; nothing else read.

    The interface the GAN uses of :class:`~sklearn_adv.preprocessing.TabularEncoder`:
    ``output_info_``, ``categorical_spans_``, ``n_features_out_``,
    ``is_categorical_``, ``transform`` and ``inverse_transform``. A numeric
    column is one scalar in ``[-1, 1]`` (``"numeric"``), a categorical
    column a one-hot block over its declared levels and a last level for
    missing values (``"onehot"``).
    """

    def __init__(self, columns, is_categorical, levels, maps, dtypes, as_frame):
        self.columns = columns
        self.is_categorical_ = np.asarray(is_categorical, dtype=bool)
        self.levels = levels
        self.maps = maps
        self.dtypes = dtypes
        self.as_frame = as_frame
        self.output_info_, start = [], 0
        for j, column in enumerate(columns):
            width = len(levels[j]) + 1 if self.is_categorical_[j] else 1
            self.output_info_.append(Span(column, start, start + width, "onehot" if self.is_categorical_[j] else "numeric"))
            start += width
        self.categorical_spans_ = [s for s in self.output_info_ if s.kind == "onehot"]
        self.n_features_out_ = start

    def _frame(self, X):
        return X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X), columns=self.columns)

    def transform(self, X):
        frame = self._frame(X)
        Z = np.zeros((len(frame), self.n_features_out_), dtype=np.float32)
        for j, span in enumerate(self.output_info_):
            column = frame.iloc[:, j]
            if self.is_categorical_[j]:
                codes = category_codes(column, self.levels[j])
                rows = np.flatnonzero(codes >= 0)  # an unknown category: all zeros
                Z[rows, span.start + codes[rows]] = 1.0
            else:
                Z[:, span.start] = self.maps[j].encode(column.to_numpy(dtype=np.float64, na_value=np.nan))
        return Z

    def _decode_columns(self, Z):
        """A batch of generated rows, kept as they are until :meth:`_assemble` (the sampler's protocol)."""
        return np.asarray(Z)

    def _assemble(self, parts):
        """The table of the batches of rows in ``parts``."""
        return self.inverse_transform(np.concatenate(parts))

    def inverse_transform(self, Z):
        Z = np.asarray(Z)
        data = {}
        for j, span in enumerate(self.output_info_):
            if self.is_categorical_[j]:
                codes = Z[:, span.start : span.stop].argmax(axis=1)
                missing = codes == len(self.levels[j])
                codes = np.where(missing, -1, codes)
                data[self.columns[j]] = pd.Categorical.from_codes(codes, dtype=self.dtypes[j]) if isinstance(
                    self.dtypes[j], pd.CategoricalDtype
                ) else pd.array(np.asarray(self.levels[j], dtype=object)[np.maximum(codes, 0)], dtype=self.dtypes[j])
            else:
                values = self.maps[j].decode(Z[:, span.start].astype(np.float64))
                data[self.columns[j]] = pd.Series(values).astype(self.dtypes[j])  # numpy and pandas dtypes alike
        frame = pd.DataFrame(data, columns=self.columns)
        if self.as_frame:
            return frame
        return frame.to_numpy(dtype=self.dtypes[0] if len(self.dtypes) else np.float64)


def category_codes(column, levels):
    """Code of each value among ``levels``; ``len(levels)`` for a missing value; -1 for an unknown one."""
    values = column.astype(object).to_numpy()
    missing = pd.isna(values)
    index = {level: code for code, level in enumerate(levels)}
    codes = np.array([index.get(v, -1) for v in values], dtype=np.int64)
    return np.where(missing, len(levels), codes)


def declared_levels(frame, categorical_features):
    """Per column: its declared levels (a ``category`` dtype's categories, or False/True), or None when numeric.

    A categorical column whose levels would be read from the private data
    (strings, objects, numbers listed in ``categorical_features``) is refused.
    """
    listed = set()
    if categorical_features is not None and not isinstance(categorical_features, str):
        for item in categorical_features:
            listed.add(frame.columns[item] if isinstance(item, (int, np.integer)) and item not in frame.columns else item)
    levels = []
    for label in frame.columns:
        dtype = frame[label].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            levels.append(list(dtype.categories))
        elif pd.api.types.is_bool_dtype(dtype):
            levels.append([False, True])
        elif label in listed or not pd.api.types.is_numeric_dtype(dtype):
            raise ValueError(
                f"Column {label!r} is categorical but its levels are not declared: with epsilon set, reading them "
                "from the data would release them. Declare them with a pandas category dtype, e.g. "
                "X[col].astype(pd.CategoricalDtype([...])), built from public knowledge (the column's definition), "
                "not from the private rows."
            )
        else:
            levels.append(None)
    return levels


def parse_bounds(bounds, columns):
    """``bounds`` as a dict column -> (low, high): given as a dict, one pair for all, pairs, or a (2, n) array."""
    if bounds is None:
        return {}
    if not isinstance(bounds, dict) and np.shape(bounds) == (2,):
        bounds = {column: tuple(bounds) for column in columns}
    if isinstance(bounds, dict):
        unknown = set(bounds) - set(columns)
        if unknown:
            raise ValueError(f"bounds names columns {sorted(map(str, unknown))} that X does not have.")
        pairs = bounds
    else:
        array = np.asarray(bounds, dtype=float)
        if array.shape == (2, len(columns)):
            array = array.T
        if array.shape != (len(columns), 2):
            raise ValueError(
                f"bounds must be a dict column -> (low, high), or {len(columns)} pairs (low, high), or an array of "
                f"shape (2, {len(columns)}); got shape {array.shape}."
            )
        pairs = dict(zip(columns, map(tuple, array)))
    out = {}
    for column, pair in pairs.items():
        if pair is None:
            continue
        low, high = (float(v) for v in pair)
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ValueError(f"bounds of column {column!r} must be finite with low < high, got {pair!r}.")
        out[column] = (low, high)
    return out


def private_table(X, codes, n_classes, *, bounds, categorical_features, counts_budget, rng):
    """Encode a private table: returns ``(encoder, encoded rows, class counts, category frequencies, counts)``.

    ``counts_budget`` is ``(epsilon, delta)`` for all the histograms
    together; ``counts`` (a :class:`PrivateCounts`) records their cost.
    """
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    columns = list(frame.columns)
    levels = declared_levels(frame, categorical_features if isinstance(X, pd.DataFrame) else None)
    given = parse_bounds(bounds, columns)
    numeric = [label for label, lv in zip(columns, levels) if lv is None]
    for label in numeric:
        if frame[label].isna().any():
            raise ValueError(
                f"Numeric column {label!r} has missing values; with epsilon set, impute them first (or make the "
                "column categorical with declared levels)."
            )
    n_histograms = 2 * len(numeric) - len([c for c in numeric if c in given]) + sum(lv is not None for lv in levels)
    n_histograms += 1 if n_classes else 0
    counts = PrivateCounts(n_histograms, *counts_budget, rng)
    n_rows = len(frame)
    n_bins = int(np.clip(n_rows / (40.0 * max(counts.sigma, 1.0)), 4, 64))
    maps, dtypes = [], []
    for label, lv in zip(columns, levels):
        dtypes.append(frame[label].dtype)
        if lv is not None:
            maps.append(None)
            continue
        values = frame[label].to_numpy(dtype=np.float64)
        low, high = given[label] if label in given else private_bounds(values, counts, label)
        integer = pd.api.types.is_integer_dtype(frame[label].dtype)
        maps.append(_QuantileMap(low, high, n_bins, values, counts, integer))
    encoder = PrivateTableEncoder(columns, [lv is not None for lv in levels], levels, maps, dtypes,
                                  isinstance(X, pd.DataFrame))
    encoded = encoder.transform(frame)
    class_counts = counts.noisy(np.bincount(codes, minlength=n_classes)) if n_classes else None
    groups = codes if codes is not None else np.zeros(n_rows, dtype=int)
    category_frequencies = [[] for _ in range(max(n_classes, 1))]
    for span in encoder.categorical_spans_:
        block = encoded[:, span.start : span.stop].argmax(axis=1)
        table = np.zeros((max(n_classes, 1), span.stop - span.start))
        np.add.at(table, (groups, block), 1.0)
        noisy = counts.noisy(table)  # one row, one cell of the whole table
        for group in range(len(category_frequencies)):
            # Levels within twice the noise of zero are dropped: else every absent level gets some mass.
            category_frequencies[group].append(frequencies(noisy[group], 2.0 * counts.sigma))
    return encoder, encoded, class_counts, category_frequencies, counts


def new_accountant():
    return RDPAccountant(PRIVATE_ORDERS)
