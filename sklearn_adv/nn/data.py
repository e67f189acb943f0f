"""The shape of model inputs: rows or images, as the data contract of DESIGN.md describes.

Estimators accept rows ``(n, n_features)``, images ``(n, H, W)`` or
``(n, C, H, W)``, or flat rows together with an ``image_shape`` parameter
(``(H, W)`` or ``(C, H, W)``). Networks see ``(n, n_features)`` or
``(n, C, H, W)``; these helpers convert in one place.
"""

import math

import numpy as np


def check_image_shape(image_shape, n_features=None):
    """Validate ``image_shape`` and return it as ``(C, H, W)``.

    Examples
    --------
    >>> check_image_shape((8, 8), n_features=64)
    (1, 8, 8)
    """
    if image_shape is None:
        return None
    shape = tuple(int(s) for s in image_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"image_shape must be (H, W) or (C, H, W) with positive sizes, got {image_shape!r}.")
    if n_features is not None and math.prod(shape) != n_features:
        raise ValueError(
            f"image_shape={image_shape!r} holds {math.prod(shape)} values but X has {n_features} features per row."
        )
    return shape


def as_network_input(X, image_shape=None, *, signals=False):
    """Reshape a validated array to what a network takes, and return ``(array, in_shape)``.

    ``in_shape`` is ``(n_features,)`` for rows and ``(C, H, W)`` for images;
    ``(n, H, W)`` gains a channel axis. The values are not changed.

    Parameters
    ----------
    X : ndarray of shape (n, n_features), (n, H, W) or (n, C, H, W)
        Validated input.
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` of flat rows; ignored for arrays that
        already have an image shape.
    signals : bool, default=False
        Read rows without ``image_shape`` as 1-D signals, one-channel images
        of height 1 ``(n, 1, 1, n_features)``, for models that move values
        along the row (as :class:`~sklearn_adv.TICKMeans` shifts them).

    Examples
    --------
    >>> X, in_shape = as_network_input(np.zeros((5, 64)), image_shape=(8, 8))
    >>> X.shape, in_shape
    ((5, 1, 8, 8), (1, 8, 8))
    >>> as_network_input(np.zeros((5, 64)), signals=True)[1]
    (1, 1, 64)
    """
    X = np.asarray(X)
    if X.ndim == 2 and image_shape is not None:
        shape = check_image_shape(image_shape, X.shape[1])
        return X.reshape((len(X), *shape)), shape
    if X.ndim == 2 and signals:
        return X.reshape((len(X), 1, 1, X.shape[1])), (1, 1, X.shape[1])
    if X.ndim == 2:
        return X, (X.shape[1],)
    if X.ndim == 3:
        X = X[:, None]
    if X.ndim != 4:
        raise ValueError(f"Expected rows (n, n_features) or images (n, H, W) / (n, C, H, W), got an array of shape {X.shape}.")
    return X, X.shape[1:]
