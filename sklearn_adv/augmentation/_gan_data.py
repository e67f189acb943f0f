"""What the GAN reads of its data: one-hot columns it should not be given, and CTGAN's sampling frequencies.

Kept apart from :mod:`sklearn_adv.augmentation.gan`, whose module is the
estimator's story: the check that a table did not come through a one-hot
encoder, and the conditional sampling of training rows by category
("training by sampling", Xu et al. 2019).
"""

import warnings

import numpy as np
import pandas as pd

BEFORE_THE_ENCODER = (
    "Put GANAugmenter before the encoder in the pipeline, or pass the DataFrame with its categorical "
    "columns (of category, string, object or bool dtype, or listed in categorical_features)."
)


def warn_if_one_hot(X, is_categorical):
    """Warn when numeric columns of ``X`` look like the output of a one-hot encoder.

    The GAN would model them as numbers, so that the synthetic "one-hot"
    blocks would hold fractions that do not sum to 1. Two signs: a run of
    adjacent 0/1 columns whose row sums are 1 in every row (an encoded
    category), or at least three 0/1 columns making up half the columns or
    more (categories encoded with a dropped level). A table with a binary
    flag or two shows neither.
    """
    numeric = np.flatnonzero(~np.asarray(is_categorical, dtype=bool))
    if isinstance(X, pd.DataFrame):
        values = X.iloc[:, numeric].to_numpy(dtype=np.float64, na_value=np.nan)
        labels = X.columns[numeric].tolist()
    else:
        values, labels = X[:, numeric], numeric.tolist()
    # NaN is neither 0 nor 1, so a column with missing values is not binary.
    binary = np.flatnonzero(((values == 0) | (values == 1)).all(axis=0))
    blocks = _one_hot_runs(values, binary)
    if not blocks and not (len(binary) >= 3 and 2 * len(binary) >= X.shape[1]):
        return
    if blocks:
        what = f"columns ({_some([labels[j] for j in blocks[0]])}) hold only 0 and 1 and sum to 1 in every row"
        what += f" (the first of {len(blocks)} such groups of columns)" if len(blocks) > 1 else ""
    else:
        what = f"{len(binary)} of its {X.shape[1]} columns ({_some([labels[j] for j in binary])}) hold only 0 and 1"
    warnings.warn(
        f"X looks one-hot encoded: {what}. GANAugmenter would model these columns as numbers, and its synthetic "
        f"rows would not be one-hot. {BEFORE_THE_ENCODER}",
        UserWarning,
        stacklevel=5,  # the caller of fit or fit_resample
    )


def _some(labels, n=6):
    return ", ".join(map(str, labels[:n])) + (", ..." if len(labels) > n else "")


def _one_hot_runs(values, binary):
    """Runs of at least two adjacent 0/1 columns (positions in ``binary``) whose row sums are all 1.

    One pass over the columns: a run grows while no row sums above 1, and
    is closed, as a one-hot block when every row sums to 1, when the next
    column is not adjacent or would push a row above 1.
    """
    blocks, run, sums = [], [], None
    for j in binary:
        column = values[:, j]
        if run and run[-1] == j - 1 and not (sums + column > 1).any():
            run.append(j)
            sums += column
            continue
        if len(run) >= 2 and (sums == 1).all():
            blocks.append(run)
        run, sums = [j], column.copy()
    if len(run) >= 2 and (sums == 1).all():
        blocks.append(run)
    return blocks


def training_by_sampling(real, cond_spans, codes, n_classes):
    """Row weights of the loader and per-row column weights (Xu et al.'s training-by-sampling).

    The loader draws a row by first drawing a column uniformly among the
    categorical columns (and the class label, when there is one), then a
    category of it with probability proportional to the log of its
    frequency, then a row with that category; the train step then draws the
    row's conditioning column with probability proportional to its term.
    """
    terms = []
    for start, stop in cond_spans:
        category = real[:, start:stop].argmax(axis=1)
        terms.append(_log_frequency_term(category, stop - start))
    if codes is not None:
        terms.append(_log_frequency_term(codes, n_classes))
    if not terms:
        return None, None
    terms = np.column_stack(terms)
    row_weights = terms.mean(axis=1)
    column_terms = terms[:, : len(cond_spans)]
    sums = column_terms.sum(axis=1, keepdims=True)
    cond_weights = np.where(sums > 0, column_terms / np.where(sums > 0, sums, 1.0), 1.0 / max(len(cond_spans), 1))
    return row_weights, cond_weights.astype(np.float32)


def _log_frequency_term(category, n_levels):
    counts = np.bincount(category, minlength=n_levels).astype(float)
    log_freq = np.log1p(counts)
    p_category = log_freq / log_freq.sum()
    return p_category[category] / counts[category]


def category_frequencies(real, cond_spans, codes, n_classes):
    """Per class (or a single group), per categorical column: the frequency of each category."""
    groups = codes if codes is not None else np.zeros(len(real), dtype=int)
    n_groups = max(n_classes, 1)
    frequencies = []
    for group in range(n_groups):
        rows = real[groups == group]
        per_column = []
        for start, stop in cond_spans:
            counts = np.bincount(rows[:, start:stop].argmax(axis=1), minlength=stop - start).astype(float)
            if counts.sum() == 0:
                counts = np.ones(stop - start)
            per_column.append(counts / counts.sum())
        frequencies.append(per_column)
    return frequencies
