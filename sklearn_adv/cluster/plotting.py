"""A figure of a fitted :class:`~sklearn_adv.TICKMeans`: its prototypes, and samples beside their aligned prototype."""

import numpy as np

__all__ = ["plot_prototypes"]


def _as_displayable(images, channels_first):
    """Images (n, H, W) for grey, (n, H, W, 3) for colour, (n, 1, L) for 1-D signals."""
    images = np.asarray(images, dtype=float)
    if images.ndim == 2:  # 1-D signals
        return images[:, None, :], "signal"
    if images.ndim == 4:
        if images.shape[1] == 1:
            return images[:, 0], "grey"
        if images.shape[1] == 3 and channels_first:
            images = images.transpose(0, 2, 3, 1)
            low, high = images.min(), images.max()
            return (images - low) / ((high - low) or 1.0), "colour"
        return images.mean(axis=1), "grey"
    return images, "grey"


def _show(ax, image, kind, vmin, vmax):
    if kind == "signal":
        ax.plot(image[0], color="k")
        ax.set_ylim(vmin, vmax)
    elif kind == "colour":
        ax.imshow(image)
    else:
        ax.imshow(image, cmap="gray_r", vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_prototypes(model, X=None, n_samples=8, random_state=0, figsize=None):
    """Draw the prototypes of a fitted TICKMeans and, for a few samples, their aligned prototype.

    The first row shows every prototype (``cluster_centers_``) with the size
    of its cluster. When ``X`` is given, the next rows pair ``n_samples``
    samples drawn at random (top) with their cluster's prototype as
    :meth:`~sklearn_adv.TICKMeans.align` transforms it to match them (below).

    Parameters
    ----------
    model : fitted TICKMeans
    X : array-like of images, default=None
        Samples of the fitted image shape.
    n_samples : int, default=8
        Number of samples shown with their alignment.
    random_state : int, default=0
        Which samples are drawn.
    figsize : tuple of float, default=None
        Figure size; by default about one inch per image.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_adv import TICKMeans
    >>> from sklearn_adv.cluster import plot_prototypes
    >>> X = np.random.RandomState(0).rand(20, 6, 6)
    >>> fig = plot_prototypes(TICKMeans(n_clusters=3, random_state=0).fit(X), X, n_samples=4)
    >>> len(fig.axes)
    12
    """
    import matplotlib.pyplot as plt
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    channels_first = model.cluster_centers_.ndim == 4
    centers, kind = _as_displayable(model.cluster_centers_, channels_first)
    counts = np.bincount(model.labels_, minlength=len(centers))
    n_clusters = len(centers)
    samples = aligned = None
    if X is not None:
        X = np.asarray(X)
        rows = np.random.RandomState(random_state).choice(len(X), min(n_samples, len(X)), replace=False)
        if X.ndim == 2 and model.image_shape is not None:
            shape = tuple(model.image_shape)
            shape = shape if len(shape) == 3 else (1, *shape)
            picked = X[rows].reshape((len(rows), *shape))
            aligned_rows = model.align(X[rows]).reshape((len(rows), *shape))
        else:
            picked, aligned_rows = X[rows], model.align(X[rows])
        samples = _as_displayable(picked, channels_first)[0]
        aligned = _as_displayable(aligned_rows, channels_first)[0]
        labels = model.predict(X[rows])
    n_columns = max(n_clusters, len(samples) if samples is not None else 0)
    n_rows = 1 if samples is None else 3
    fig, axes = plt.subplots(n_rows, n_columns, figsize=figsize or (1.1 * n_columns, 1.25 * n_rows), squeeze=False)
    vmin = min(float(centers.min()), float(samples.min()) if samples is not None else np.inf)
    vmax = max(float(centers.max()), float(samples.max()) if samples is not None else -np.inf)
    for ax in axes.ravel():
        ax.set_axis_off()
    for k in range(n_clusters):
        ax = axes[0, k]
        ax.set_axis_on()
        _show(ax, centers[k], kind, vmin, vmax)
        ax.set_title(f"{k}: {counts[k]}", fontsize=8)
    axes[0, 0].set_ylabel("prototypes", fontsize=8)
    if samples is not None:
        for j in range(len(samples)):
            for row, images in ((1, samples), (2, aligned)):
                ax = axes[row, j]
                ax.set_axis_on()
                _show(ax, images[j], kind, vmin, vmax)
            axes[1, j].set_title(f"cluster {labels[j]}", fontsize=8)
        axes[1, 0].set_ylabel("sample", fontsize=8)
        axes[2, 0].set_ylabel("aligned", fontsize=8)
    fig.tight_layout()
    return fig
