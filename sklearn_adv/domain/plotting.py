"""Source and target rows in 2-D, before and after domain adaptation."""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.utils.validation import column_or_1d

from sklearn_adv.domain.dann import _unlabelled_mask


def _embed(features, method, random_state):
    features = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    if method == "pca":
        return PCA(n_components=2, random_state=random_state).fit_transform(features)
    perplexity = min(30.0, max(2.0, (len(features) - 1) / 3.0))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=random_state).fit_transform(features)


def plot_domain_features(estimator, X, y, *, y_true=None, method="pca", inputs=True, axes=None, random_state=0):
    """Scatter the inputs and the learned features of source and target rows in 2-D.

    Two panels: the inputs ``X`` and the features ``estimator.transform(X)``,
    each projected to 2-D by PCA or t-SNE (only the features with
    ``inputs=False``, e.g. to set several models side by side). Source rows (labelled) are dots
    coloured by class; target rows (``y == -1``) are crosses, coloured by
    their true class when ``y_true`` is given, grey otherwise. Adaptation
    shows as target crosses falling on the source dots of their class.

    Parameters
    ----------
    estimator : fitted estimator with ``transform`` (e.g. DomainAdversarialClassifier)
    X : array-like of shape (n_samples, ...)
    y : array-like of shape (n_samples,)
        Labels, -1 for target rows.
    y_true : array-like of shape (n_samples,), default=None
        True labels of every row, to colour the target rows (for evaluation
        only; the model never saw them).
    method : {"pca", "tsne"}, default="pca"
    inputs : bool, default=True
        Draw the panel of the inputs before the panel of the features.
    axes : sequence of matplotlib Axes, default=None
        Where to draw, one per panel; a new figure when None.
    random_state : int, default=0

    Returns
    -------
    axes : ndarray of matplotlib Axes
        One per panel drawn.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.preprocessing import StandardScaler
    >>> X = np.random.RandomState(0).randn(40, 3)
    >>> y = np.r_[np.zeros(10, int), np.ones(10, int), np.full(20, -1)]
    >>> axes = plot_domain_features(StandardScaler().fit(X), X, y)
    >>> [ax.get_title() for ax in axes]
    ['inputs', 'learned features']
    """
    import matplotlib.pyplot as plt

    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}.")
    y = column_or_1d(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}.")
    target = _unlabelled_mask(y)
    colour_labels = np.asarray(y, dtype=object).copy()
    if y_true is not None:
        y_true = column_or_1d(y_true)
        if len(y_true) != len(y):
            raise ValueError(f"y_true has {len(y_true)} entries but y has {len(y)}.")
        colour_labels[target] = y_true[target]
    classes = list(dict.fromkeys(str(v) for v in colour_labels[~target]))
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    colour_of = {label: cmap(i % cmap.N) for i, label in enumerate(classes)}

    n_panels = 2 if inputs else 1
    if axes is None:
        _, axes = plt.subplots(1, n_panels, figsize=(4.5 * n_panels, 4), layout="constrained", squeeze=False)
        axes = axes[0]
    axes = np.atleast_1d(np.asarray(axes, dtype=object))
    if len(axes) != n_panels:
        raise ValueError(f"axes must hold {n_panels} Axes (one per panel), got {len(axes)}.")
    if getattr(estimator, "input_encoder_", None) is not None:
        input_rows = estimator.input_encoder_.transform(X)  # categorical columns, one-hot as the model saw them
    else:
        input_rows = X.to_numpy() if hasattr(X, "to_numpy") else np.asarray(X)
    panels = [("inputs", input_rows)] if inputs else []
    panels.append(("learned features", estimator.transform(X)))
    from matplotlib.lines import Line2D

    grey = (0.4, 0.4, 0.4, 1.0)
    handles = [
        Line2D([], [], marker="o", linestyle="", color=grey, label="source"),
        Line2D([], [], marker="x", linestyle="", color=grey, label="target"),
    ]
    for ax, (title, features) in zip(axes, panels):
        points = _embed(features, method, random_state)
        source_colours = [colour_of[str(v)] for v in colour_labels[~target]]
        ax.scatter(*points[~target].T, c=source_colours, s=12, marker="o", alpha=0.6, label="source")
        if y_true is not None:
            target_colours = [colour_of.get(str(v), (0.5, 0.5, 0.5, 1.0)) for v in colour_labels[target]]
        else:
            target_colours = [(0.4, 0.4, 0.4, 1.0)] * int(target.sum())
        ax.scatter(*points[target].T, c=target_colours, s=14, marker="x", alpha=0.6, label="target")
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(handles=handles, loc="best", fontsize="small")
    return np.asarray(axes)
