"""Digits placed, shifted and rotated on a larger canvas: a clustering test bed."""

import numpy as np
from scipy import ndimage
from sklearn.datasets import load_digits
from sklearn.utils import check_random_state


def make_transformed_digits(canvas_size=12, max_shift=2, max_rotation=20, random_state=0):
    """The 1797 scikit-learn digits, each randomly shifted and rotated on a canvas.

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
