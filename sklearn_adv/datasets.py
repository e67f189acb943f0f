"""Datasets for the examples: UCI Adult (shipped with the package) and digit images.

:func:`load_adult` reads the UCI Adult census data from the compressed copy
shipped inside the package, or from a user's own copy; it never touches the
network. The image helpers build small image tasks from
:func:`sklearn.datasets.load_digits`: :func:`load_digit_images` returns the
8x8 digits as images, :func:`make_digit_shift` a source and a shifted target
domain, and :func:`make_transformed_digits` digits under random
transformations for transformation-invariant clustering.
"""

import functools
import gzip
import os
from importlib import resources
from numbers import Real
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch, check_random_state

# validate_params and its constraint types have no public import path.
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = [
    "load_adult",
    "load_digit_images",
    "make_digit_shift",
    "make_transformed_digits",
]

# --------------------------------------------------------------------------
# UCI Adult
# --------------------------------------------------------------------------

# Categories in the order of the dataset's description file (adult.names), so
# that the train and test subsets share one categorical dtype.
_ADULT_CATEGORIES = {
    "workclass": [
        "Private", "Self-emp-not-inc", "Self-emp-inc", "Federal-gov",
        "Local-gov", "State-gov", "Without-pay", "Never-worked",
    ],
    "education": [
        "Bachelors", "Some-college", "11th", "HS-grad", "Prof-school",
        "Assoc-acdm", "Assoc-voc", "9th", "7th-8th", "12th", "Masters",
        "1st-4th", "10th", "Doctorate", "5th-6th", "Preschool",
    ],
    "marital-status": [
        "Married-civ-spouse", "Divorced", "Never-married", "Separated",
        "Widowed", "Married-spouse-absent", "Married-AF-spouse",
    ],
    "occupation": [
        "Tech-support", "Craft-repair", "Other-service", "Sales",
        "Exec-managerial", "Prof-specialty", "Handlers-cleaners",
        "Machine-op-inspct", "Adm-clerical", "Farming-fishing",
        "Transport-moving", "Priv-house-serv", "Protective-serv",
        "Armed-Forces",
    ],
    "relationship": [
        "Wife", "Own-child", "Husband", "Not-in-family", "Other-relative",
        "Unmarried",
    ],
    "race": ["White", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Black"],
    "sex": ["Female", "Male"],
    "native-country": [
        "United-States", "Cambodia", "England", "Puerto-Rico", "Canada",
        "Germany", "Outlying-US(Guam-USVI-etc)", "India", "Japan", "Greece",
        "South", "China", "Cuba", "Iran", "Honduras", "Philippines", "Italy",
        "Poland", "Jamaica", "Vietnam", "Mexico", "Portugal", "Ireland",
        "France", "Dominican-Republic", "Laos", "Ecuador", "Taiwan", "Haiti",
        "Columbia", "Hungary", "Guatemala", "Nicaragua", "Scotland",
        "Thailand", "Yugoslavia", "El-Salvador", "Trinadad&Tobago", "Peru",
        "Hong", "Holand-Netherlands",
    ],
}  # fmt: skip

_ADULT_FEATURES = [
    "age", "workclass", "fnlwgt", "education", "education-num",
    "marital-status", "occupation", "relationship", "race", "sex",
    "capital-gain", "capital-loss", "hours-per-week", "native-country",
]  # fmt: skip
_ADULT_INTEGER = [name for name in _ADULT_FEATURES if name not in _ADULT_CATEGORIES]
_ADULT_TARGET = "income"
_ADULT_TARGET_NAMES = ["<=50K", ">50K"]
_ADULT_FILES = {"train": "adult.data", "test": "adult.test"}


def _packaged_data_dir():
    return Path(str(resources.files("sklearn_adv.data")))


def _find_adult_file(directory, name):
    """``name`` or ``name.gz`` inside ``directory``."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"No {name!r} or {name + '.gz'!r} in the directory path={str(directory)!r}."
    )


def _adult_files(path, subset):
    """The files to read for ``subset``, from ``path`` or the packaged copy."""
    subsets = ["train", "test"] if subset == "all" else [subset]
    if path is None:
        directory = _packaged_data_dir()
    else:
        directory = Path(path).expanduser()
        if directory.is_file():
            # A single file is read as it is; the subset does not apply.
            return [directory.resolve()]
        if not directory.is_dir():
            raise FileNotFoundError(
                f"path={str(path)!r} is neither a file nor a directory."
            )
    return [_find_adult_file(directory, _ADULT_FILES[s]).resolve() for s in subsets]


def _file_key(file):
    """An immutable cache key that changes when the file changes."""
    stat = file.stat()
    return str(file), stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=8)
def _read_adult_file(file, mtime_ns, size):
    """Parse one Adult file into a DataFrame; cached, callers must copy."""
    with open(file, "rb") as stream:
        compression = "gzip" if stream.read(2) == b"\x1f\x8b" else None
    try:
        frame = pd.read_csv(
            file,
            compression=compression,
            header=None,
            names=_ADULT_FEATURES + [_ADULT_TARGET],
            sep=",",
            skipinitialspace=True,
            na_values=["?"],
            keep_default_na=False,
            # adult.test opens with the line "|1x3 Cross validator".
            comment="|",
            dtype={name: str for name in [*_ADULT_CATEGORIES, _ADULT_TARGET]},
        )
    except (pd.errors.ParserError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise ValueError(
            f"path={file!r} is not a comma-separated UCI Adult file with "
            f"{len(_ADULT_FEATURES) + 1} columns: {exc}"
        ) from exc
    if frame.empty:
        raise ValueError(f"path={file!r} holds no rows.")

    for name in _ADULT_INTEGER:
        column = frame[name]
        if not pd.api.types.is_numeric_dtype(column):
            raise ValueError(
                f"Column {name!r} of path={file!r} must hold integers; found "
                f"values such as {column.dropna().iloc[0]!r}."
            )
        # Integer columns have no missing values in the UCI files; a user's
        # file with gaps keeps them as NaN in a float column.
        if not column.isna().any():
            frame[name] = column.astype(np.int64)

    for name, known in _ADULT_CATEGORIES.items():
        observed = frame[name].dropna().unique()
        extra = sorted(set(observed) - set(known))
        frame[name] = pd.Categorical(frame[name], categories=known + extra)

    labels = frame[_ADULT_TARGET].str.rstrip(".")
    unknown = sorted(set(labels.dropna()) - set(_ADULT_TARGET_NAMES))
    if labels.isna().any() or unknown:
        raise ValueError(
            f"The last column of path={file!r} must hold the labels "
            f"{_ADULT_TARGET_NAMES} (with or without a final '.'); found "
            f"{unknown or 'missing values'}."
        )
    frame[_ADULT_TARGET] = (labels == _ADULT_TARGET_NAMES[1]).astype(np.int64)
    return frame


def _concat_adult(frames):
    """Stack frames whose categorical columns may have different categories."""
    if len(frames) == 1:
        return frames[0]
    frames = [frame.copy() for frame in frames]
    for name in _ADULT_CATEGORIES:
        categories = list(frames[0][name].cat.categories)
        for frame in frames[1:]:
            categories += [c for c in frame[name].cat.categories if c not in categories]
        for frame in frames:
            frame[name] = frame[name].cat.set_categories(categories)
    # An integer column with gaps in one file only becomes float in all.
    for name in _ADULT_INTEGER:
        if len({frame[name].dtype for frame in frames}) > 1:
            for frame in frames:
                frame[name] = frame[name].astype(np.float64)
    return pd.concat(frames, ignore_index=True)


@functools.lru_cache(maxsize=1)
def _adult_descr():
    return resources.files("sklearn_adv.data").joinpath("README.txt").read_text(
        encoding="utf-8"
    )


@validate_params(
    {
        "path": [str, os.PathLike, None],
        "subset": [StrOptions({"train", "test", "all"})],
        "as_frame": ["boolean"],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_adult(path=None, subset="train", *, as_frame=True, return_X_y=False):
    """Load the UCI Adult census income dataset (binary classification).

    Predict whether a person earns more than 50K dollars a year from 14
    census attributes, 6 integer and 8 categorical. A compressed copy of the
    data ships with the package, so no network is needed; ``path`` points to
    a copy of your own instead. Parsed files are cached in memory, so later
    calls are fast; each call returns fresh copies.

    =================   =======================
    Classes                                   2
    Samples (train)                       32561
    Samples (test)                        16281
    Features            6 integer, 8 categorical
    Positive rate        about 0.24 (``>50K``)
    =================   =======================

    Read more in the dataset description, ``load_adult().DESCR``. The data
    are licensed CC BY 4.0 by the UCI Machine Learning Repository: Becker, B.
    and Kohavi, R. (1996), Adult, https://doi.org/10.24432/C5XW20.

    Parameters
    ----------
    path : str, path-like or None, default=None
        Where to read the data. None reads the copy shipped with the package.
        A directory must hold ``adult.data`` and/or ``adult.test`` (plain or
        gzip-compressed, with a ``.gz`` suffix). A file, plain or
        gzip-compressed, is read as it is and ``subset`` does not apply. Files
        follow the UCI format: comma-separated, no header, the 14 features
        then the label ``>50K`` or ``<=50K`` (a final ``.`` is allowed), ``?``
        for a missing value, lines starting with ``|`` ignored.

    subset : {"train", "test", "all"}, default="train"
        The original training file (``adult.data``), test file
        (``adult.test``), or both stacked, training rows first.

    as_frame : bool, default=True
        If True, ``data`` is a pandas DataFrame with categorical columns of
        ``category`` dtype and integer columns of ``int64`` dtype, and
        ``target`` a Series. If False, ``data`` is a float64 array in which
        each categorical column holds the category codes (the categories are
        in ``categories``) and missing values are NaN, and ``target`` an
        int64 array. In a user's file, an integer column with missing values
        is read as float64.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : DataFrame of shape (n_samples, 14) or ndarray
            The features; ``?`` in the files is NaN.
        target : Series or ndarray of shape (n_samples,)
            1 when the income is ``>50K``, else 0.
        frame : DataFrame of shape (n_samples, 15) or None
            ``data`` with the target as a last column named ``"income"``;
            None when ``as_frame=False``.
        feature_names : list of str
            The 14 feature names, as in the UCI description.
        target_names : list of str
            ``["<=50K", ">50K"]``: the class name of target 0 and of target 1.
        categorical_features : list of str
            The names of the 8 categorical features.
        categories : dict of str to list of str
            The categories of each categorical feature, in code order.
        DESCR : str
            The description of the dataset, with its references and license.

    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from sklearn_adv.datasets import load_adult
    >>> adult = load_adult()
    >>> adult.data.shape
    (32561, 14)
    >>> adult.target_names
    ['<=50K', '>50K']
    >>> round(float(adult.target.mean()), 2)
    0.24
    >>> str(adult.data["sex"].dtype)
    'category'
    >>> X_test, y_test = load_adult(subset="test", return_X_y=True)
    >>> X_test.shape
    (16281, 14)
    """
    files = _adult_files(path, subset)
    frame = _concat_adult([_read_adult_file(*_file_key(file)) for file in files])
    # A deep copy: the cached frame must never reach the caller.
    frame = frame.copy(deep=True)

    feature_names = list(_ADULT_FEATURES)
    categorical = list(_ADULT_CATEGORIES)
    categories = {name: list(frame[name].cat.categories) for name in categorical}
    if as_frame:
        data = frame[feature_names].copy()
        target = frame[_ADULT_TARGET].copy()
    else:
        data = np.empty((len(frame), len(feature_names)), dtype=np.float64)
        for j, name in enumerate(feature_names):
            column = frame[name]
            if name in categories:
                codes = column.cat.codes.to_numpy().astype(np.float64)
                codes[codes < 0] = np.nan
                data[:, j] = codes
            else:
                data[:, j] = column.to_numpy(dtype=np.float64)
        target = frame[_ADULT_TARGET].to_numpy(dtype=np.int64, copy=True)
        frame = None

    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=feature_names,
        target_names=list(_ADULT_TARGET_NAMES),
        categorical_features=categorical,
        categories=categories,
        DESCR=_adult_descr(),
    )


# --------------------------------------------------------------------------
# Digit images
# --------------------------------------------------------------------------


@validate_params({"as_float": ["boolean"]}, prefer_skip_nested_validation=True)
def load_digit_images(as_float=True):
    """The 1797 handwritten digits of :func:`sklearn.datasets.load_digits` as images.

    Parameters
    ----------
    as_float : bool, default=True
        If True, the grey levels are float64 scaled to [0, 1]. If False, the
        original integer grey levels 0 to 16, as int64.

    Returns
    -------
    images : ndarray of shape (1797, 8, 8)
        The digit images, ink bright on a dark background.

    labels : ndarray of shape (1797,)
        The digit shown, 0 to 9, as int64.

    See Also
    --------
    make_digit_shift : A source and a transformed target domain of digits.

    Examples
    --------
    >>> from sklearn_adv.datasets import load_digit_images
    >>> images, labels = load_digit_images()
    >>> images.shape, labels.shape
    ((1797, 8, 8), (1797,))
    >>> float(images.min()), float(images.max())
    (0.0, 1.0)
    """
    digits = load_digits()
    images = digits.images
    images = images / 16.0 if as_float else images.astype(np.int64)
    return images, digits.target.astype(np.int64)


def _transform_digits(images, transformation, angle):
    if transformation == "rotate":
        images = ndimage.rotate(
            images, angle, axes=(2, 1), reshape=False, order=1, mode="constant"
        )
    elif transformation == "blur":
        images = ndimage.gaussian_filter(images, sigma=(0, 1.0, 1.0))
    else:  # "invert"
        images = 1.0 - images
    return images


@validate_params(
    {
        "transformation": [StrOptions({"rotate", "blur", "invert"})],
        "angle": [Interval(Real, None, None, closed="neither")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_digit_shift(transformation="rotate", angle=30, noise=0.0, random_state=0):
    """A domain-shift task on digit images: a source and a transformed target.

    The 1797 digits of :func:`sklearn.datasets.load_digits`, scaled to
    [0, 1], are split at random into two disjoint halves stratified by
    digit. The source domain is the first half as it is; the target domain
    is the second half under one fixed transformation, optionally with
    Gaussian noise. A classifier trained on the source loses accuracy on the
    target: the setting of domain adaptation
    (:class:`~sklearn_adv.DomainAdversarialClassifier`).

    Parameters
    ----------
    transformation : {"rotate", "blur", "invert"}, default="rotate"
        The shift applied to every target image: ``"rotate"`` turns it by
        ``angle`` degrees counterclockwise about its centre
        (:func:`scipy.ndimage.rotate`, bilinear, same 8x8 frame);
        ``"blur"`` smooths it with a Gaussian filter of standard deviation
        1 pixel; ``"invert"`` maps each grey level ``v`` to ``1 - v``.

    angle : float, default=30
        The rotation in degrees; used only when ``transformation="rotate"``.

    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the target images after
        the transformation; values are then clipped to [0, 1].

    random_state : int, RandomState instance or None, default=0
        Controls the split and the noise. Pass an int for reproducible output.

    Returns
    -------
    (X_source, y_source) : tuple of ndarray
        Source images of shape (n_source, 8, 8), float64 in [0, 1], and their
        int64 labels of shape (n_source,).

    (X_target, y_target) : tuple of ndarray
        Target images of shape (n_target, 8, 8), float64 in [0, 1], and their
        int64 labels of shape (n_target,). Domain adaptation hides
        ``y_target`` during training and uses it only to score.

    See Also
    --------
    load_digit_images : The digits as images.
    make_transformed_digits : Digits under random per-image transformations.

    Examples
    --------
    >>> from sklearn_adv.datasets import make_digit_shift
    >>> (X_s, y_s), (X_t, y_t) = make_digit_shift("rotate", angle=45)
    >>> X_s.shape, X_t.shape
    ((898, 8, 8), (899, 8, 8))
    >>> bool(X_t.min() >= 0.0 and X_t.max() <= 1.0)
    True
    """
    rng = check_random_state(random_state)
    images, labels = load_digit_images(as_float=True)
    source, target = train_test_split(
        np.arange(len(labels)), test_size=0.5, stratify=labels, random_state=rng
    )
    X_target = _transform_digits(images[target], transformation, angle)
    if noise > 0:
        X_target = X_target + rng.normal(scale=noise, size=X_target.shape)
    # Bilinear rotation can overshoot by rounding error; noise leaves [0, 1].
    X_target = np.clip(X_target, 0.0, 1.0)
    return (images[source], labels[source]), (X_target, labels[target])


def make_transformed_digits(canvas_size=12, max_shift=2, max_rotation=20, random_state=0):
    """The 1797 scikit-learn digits, each randomly shifted and rotated on a canvas.

    A clustering test bed: a clusterer must ignore where and how each digit
    is placed to find the digit classes, the setting of
    :class:`~sklearn_adv.TICKMeans`.

    Each 8x8 digit is centred on a ``canvas_size`` x ``canvas_size`` canvas of
    zeros, rotated about the canvas centre by an angle drawn uniformly in
    ``[-max_rotation, max_rotation]`` degrees (bilinear interpolation), then
    moved by an integer shift drawn uniformly in ``[-max_shift, max_shift]``
    pixels along each axis. Pixel values keep the 0-16 range of
    :func:`sklearn.datasets.load_digits`. The result depends only on the
    arguments.

    Parameters
    ----------
    canvas_size : int, default=12
        Height and width of the canvas; at least 8.
    max_shift : int, default=2
        Largest shift, in pixels, along each axis.
    max_rotation : float, default=20
        Largest rotation, in degrees, either way.
    random_state : int, RandomState instance or None, default=0
        Seed of the shifts and rotations.

    Returns
    -------
    images : ndarray of shape (1797, canvas_size, canvas_size)
        The transformed digits, float64.
    target : ndarray of shape (1797,)
        The digit classes, 0 to 9.

    Examples
    --------
    >>> from sklearn_adv.datasets import make_transformed_digits
    >>> images, target = make_transformed_digits(random_state=0)
    >>> images.shape, target.shape
    ((1797, 12, 12), (1797,))
    """
    if int(canvas_size) != canvas_size or canvas_size < 8:
        raise ValueError(f"canvas_size must be an integer of at least 8, got {canvas_size!r}.")
    if int(max_shift) != max_shift or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative integer, got {max_shift!r}.")
    if not np.isfinite(max_rotation) or max_rotation < 0:
        raise ValueError(f"max_rotation must be a non-negative number, got {max_rotation!r}.")
    canvas_size, max_shift = int(canvas_size), int(max_shift)
    rng = check_random_state(random_state)
    digits = load_digits()
    n = len(digits.images)
    angles = rng.uniform(-max_rotation, max_rotation, size=n)
    shifts = rng.randint(-max_shift, max_shift + 1, size=(n, 2))
    start = (canvas_size - 8) // 2
    images = np.zeros((n, canvas_size, canvas_size))
    for i, digit in enumerate(digits.images):
        canvas = np.zeros((canvas_size, canvas_size))
        canvas[start : start + 8, start : start + 8] = digit
        canvas = ndimage.rotate(canvas, angles[i], reshape=False, order=1)
        canvas = ndimage.shift(canvas, shifts[i], order=0)
        images[i] = np.clip(canvas, 0.0, 16.0)
    return images, digits.target.copy()
