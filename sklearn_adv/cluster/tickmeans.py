"""Transformation-invariant k-means for images (TICKMeans)."""

import time
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch

# _fit_context (parameter validation once per fit, as scikit-learn's estimators do) has no public equivalent.
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state

# The constraint types of _parameter_constraints have no public import path.
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_consistent_length, check_is_fitted, validate_data

from sklearn_adv.cluster.transformations import Rotation, Transformation, Translation, resolve_transformations
from sklearn_adv.nn.data import check_image_shape
from sklearn_adv.nn.utils import resolve_device


class TICKMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """Transformation-invariant k-means: cluster images whatever their position, tilt or contrast.

    Like :class:`sklearn.cluster.KMeans`, each cluster has a prototype (an
    image) and each sample goes to its nearest prototype; but before the
    distance is measured, the prototype is moved, rotated, rescaled or
    recoloured to match the sample as well as the ``transformations`` allow.
    The objective is the sum over samples of the squared distance to the best
    transformed prototype (Frey & Jojic 2003; Monnier, Groueix & Aubry 2020).

    Two solvers:

    - ``method="discrete"`` searches a grid of transformations exhaustively:
      every integer shift up to ``max_shift`` of the translation, a few
      rotations, scales and shears, composed; a colour transformation is
      solved in closed form per sample. Assignments and prototype updates
      alternate as in Lloyd's algorithm, each update being the exact least
      squares prototype given the chosen transformations. Transformations
      are switched on in the order listed (a curriculum), each restart starts
      from a transformation-aware k-means++ seeding, and after the restarts a
      few swap moves (one prototype replaced by a badly explained sample,
      kept only if the objective decreases) repair the usual k-means local
      optimum of one class split in two while two others share a cluster.
      Restarts and swaps run on the first transformation's grid, the later
      stages once, on the kept run.
    - ``method="deep"`` learns the prototypes together with a network that
      predicts, for each sample and prototype, continuous transformation
      parameters (a spatial transformer, ``affine_grid``/``grid_sample``), by
      gradient descent as in Deep Transformation-Invariant Clustering: the
      heads start at zero so that every transformation starts as the
      identity, transformations are switched on one at a time, and clusters
      that win under 0.2/K of the samples are re-seeded from the largest.
      To fit in a CPU budget it starts where the discrete solver ends: the
      prototypes are the discrete solution over the transformations that
      have a grid, and the translation and rotation heads are first fitted
      to the discrete solver's best maps (those transformations are then on
      from the start). The training runs in a skorch net
      (:class:`sklearn_adv.nn.prototypes.PrototypeNet`).

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters and prototypes.
    transformations : sequence of str or Transformation, default=("translation", "rotation")
        Transformations that align a prototype with a sample, by registered
        name (``plugins.available("transformation")``: ``"translation"``,
        ``"rotation"``, ``"affine"``, ``"colour"``, ``"morphological"``), class or
        instance (``Translation(max_shift=3)``). Spatial maps compose in the
        order listed, translation outermost; the curriculum switches them on
        in the order listed. More invariance is not always better: rotating
        prototypes of upright digits confuses 6s and 9s less than it confuses
        1s and 7s. ``"morphological"`` needs ``method="deep"``.
    method : {"discrete", "deep"}, default="discrete"
        The solver, see above.
    n_init : int, default=3
        Number of restarts, each from its own seeding; the run with the
        lowest objective is kept.
    n_swaps : int, default=6
        Number of swap moves tried after the restarts (discrete solver).
    max_iter : int, default=100
        Largest number of Lloyd iterations per stage of a run of the discrete
        solver (also the deep solver's warm start).
    tol : float, default=1e-4
        A stage stops when an iteration lowers the objective by less than
        ``tol`` times its value (discrete solver).
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` of images given as flat rows. Without it,
        2-D input ``(n, length)`` is a set of 1-D signals: translations shift
        them along their length (with zeros entering, or circularly with
        ``Translation(mode="circular")``), rotations leave them unchanged.
    encoder : str, torch.nn.Module class or instance, default=None
        The deep solver's network reading a sample to predict the parameters
        of every transformation of every prototype: a registered network name
        (``plugins.available("network")``), a class called as
        ``cls(in_shape, None)`` or an instance with an ``out_features``
        attribute. ``None`` is a small conv net (16 and 32 channels).
    batch_size : int, default=64
        Mini-batch size of the deep solver.
    max_epochs : int, default=30
        Training epochs of the deep solver.
    lr : float, default=1e-3
        Adam learning rate of the deep solver.
    device : str, default="cpu"
        Torch device of the deep solver: ``"cpu"``, ``"cuda"`` or ``"auto"``
        (the discrete solver runs on the CPU with numpy).
    callbacks : list of skorch callbacks, default=None
        Extra callbacks for the deep solver's skorch nets (the discrete
        solver has none): they run in the warm start of the transformation
        heads, a regression on the discrete solver's best parameters
        (:func:`sklearn_adv.nn.prototypes.warm_start_heads`, when a
        translation or rotation is among the transformations), and then in
        the training of ``net_``. Both nets stop with a ``FloatingPointError``
        when the loss stops being finite.
    random_state : int, RandomState instance or None, default=None
        Seeding, restarts, swaps and network initialisation.
    verbose : int, default=0
        Print the objective of each restart and stage (discrete) or the
        epoch table (deep).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, ...)
        The prototypes, as images of the input's image shape: ``(n_clusters,
        H, W)``, ``(n_clusters, C, H, W)``, ``(n_clusters,) + image_shape``, or
        ``(n_clusters, length)`` for 1-D signals.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    inertia_ : float
        Sum of squared distances of the training samples to their best
        transformed prototype.
    n_iter_ : int
        Lloyd iterations of the kept run, all stages and accepted swaps
        together (discrete), or training epochs (deep).
    transformations_ : list of Transformation
        The resolved transformations.
    net_ : skorch.NeuralNet
        The trained net (deep solver only).
    history_ : skorch.History
        Its training history (deep solver only).
    n_features_in_ : int
        Size of the input's second axis.
    feature_names_in_ : ndarray of str
        Defined when ``X`` is a DataFrame with string column names.

    See Also
    --------
    sklearn.cluster.KMeans : The same without transformations.
    sklearn_adv.cluster.transformations : The transformation plugins.

    Notes
    -----
    The discrete solver's cost per iteration is that of k-means times the
    number of transformations in the grid: with the defaults on 12x12 images,
    49 shifts times 3 rotations. All shifted prototypes are compared with all
    samples in one matrix product (the numbers of a cross-correlation; faster
    than an FFT on a CPU at these sizes). With integer shifts alone, the
    prototype update is a division; with rotations or scales it solves one
    ``(H*W, H*W)`` linear system per prototype. On the 1797 digits, about
    1-2 s on one CPU thread, several times KMeans(n_init=10). The deep
    solver takes tens of seconds there.

    The squared distances of :meth:`transform` are also those used for the
    assignment, recomputed in float64 for each cluster's best map, so
    :meth:`predict` is the argmin of :meth:`transform` and ``labels_`` is
    ``predict`` of the training data. Pixel values are used as they are.

    References
    ----------
    Frey & Jojic (2003). Transformation-invariant clustering using the EM
    algorithm. IEEE TPAMI 25(1).

    Monnier, Groueix & Aubry (2020). Deep Transformation-Invariant
    Clustering. NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_adv.cluster import TICKMeans
    >>> rng = np.random.RandomState(0)
    >>> bar, dot = np.zeros((7, 7)), np.zeros((7, 7))
    >>> bar[1:6, 3], dot[3, 3] = 1.0, 1.0
    >>> X = np.stack([np.roll(img, s, axis=1) for img in (bar, dot) for s in (-1, 0, 1)])
    >>> model = TICKMeans(n_clusters=2, transformations="translation", random_state=0).fit(X)
    >>> model.labels_
    array([1, 1, 1, 0, 0, 0], dtype=int32)
    >>> model.cluster_centers_.shape
    (2, 7, 7)
    >>> bool(np.allclose(model.align(X), X, atol=1e-3))  # each prototype shifted onto its samples
    True
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "transformations": [tuple, list, str, type, Transformation],
        "method": [StrOptions({"discrete", "deep"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "n_swaps": [Interval(Integral, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "image_shape": [tuple, list, None],
        "encoder": [None, str, type, torch.nn.Module],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "device": [str, None],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_clusters=8,
        transformations=("translation", "rotation"),
        method="discrete",
        n_init=3,
        n_swaps=6,
        max_iter=100,
        tol=1e-4,
        image_shape=None,
        encoder=None,
        max_epochs=30,
        batch_size=64,
        lr=1e-3,
        device="cpu",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.n_clusters = n_clusters
        self.transformations = transformations
        self.method = method
        self.n_init = n_init
        self.n_swaps = n_swaps
        self.max_iter = max_iter
        self.tol = tol
        self.image_shape = image_shape
        self.encoder = encoder
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    # ----------------------------------------------------------------- fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the prototypes and the cluster of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W), (n_samples, C, H, W) or (n_samples, n_features)
            Images, flat images with ``image_shape``, or 1-D signals.
        y : Ignored

        Returns
        -------
        self : TICKMeans
        """
        X = validate_data(self, X, allow_nd=True, dtype=[np.float64, np.float32], ensure_min_samples=1)
        if y is not None:
            check_consistent_length(X, y)
        images, shape = _as_images(X, self.image_shape, "X")
        if len(images) < self.n_clusters:
            raise ValueError(f"n_samples={len(images)} should be >= n_clusters={self.n_clusters}.")
        transformations = resolve_transformations(self.transformations)
        resolve_device(self.device)  # a CUDA request without CUDA fails here, whatever the solver
        rng = check_random_state(self.random_state)
        self._image_shape = shape
        self._out_shape = X.shape[1:] if X.ndim > 2 or self.image_shape is None else tuple(self.image_shape)
        self.transformations_ = transformations
        if self.method == "deep":
            from sklearn_adv.cluster._deep import fit_deep

            for transformation in transformations:
                if transformation.n_params(shape[0]) < 1:
                    raise ValueError(f"The transformation {transformation!r} has no deep-solver form.")
            # Warm start: the discrete solver over the transformations that
            # have a grid, whose best maps also warm-start the network.
            gridded = [t for t in transformations if t.grid(shape) is not None] or [Translation()]
            stages = _curriculum(gridded, shape)
            flat = images.reshape(len(images), -1)
            initial = _fit_discrete(
                flat, stages, self.n_clusters, self.n_init, self.n_swaps, self.max_iter, self.tol, rng, self.verbose
            )[0]
            ops = _exact_assign(flat, stages[-1], initial).per_cluster_ops
            targets = _head_targets(transformations, gridded, shape, ops)
            result = fit_deep(self, images, shape, transformations, initial, targets, rng)
        else:
            stages = _curriculum(transformations, shape)
            result = _fit_discrete(
                images.reshape(len(images), -1),
                stages,
                self.n_clusters,
                self.n_init,
                self.n_swaps,
                self.max_iter,
                self.tol,
                rng,
                self.verbose,
            )
            self._bank = stages[-1]
        centers, labels, inertia, n_iter = result
        self._centers = centers
        self.cluster_centers_ = centers.reshape((self.n_clusters, *self._out_shape)).astype(X.dtype)
        self.n_iter_ = int(n_iter)
        self._n_features_out = self.n_clusters
        # The final assignment as predict computes it, so that labels_ is
        # predict(X) and inertia_ is -score(X) exactly.
        final = self._assignment(images)
        self.labels_ = final.labels.astype(np.int32)
        self.inertia_ = float(final.best.sum())
        return self

    # ------------------------------------------------------------- predict

    def _assignment(self, images, with_aligned=False):
        """Squared distances (n, K) to each best-aligned prototype, labels, and what align needs."""
        if self.method == "deep":
            from sklearn_adv.cluster._deep import deep_distances

            return deep_distances(self, images, with_aligned=with_aligned)
        flat = images.reshape(len(images), -1)
        return _exact_assign(flat, self._bank, self._centers)

    def _distances(self, X, with_aligned=False):
        check_is_fitted(self)
        X = validate_data(self, X, allow_nd=True, dtype=[np.float64, np.float32], reset=False)
        images, shape = _as_images(X, self.image_shape, "X")
        if shape != self._image_shape:
            hint = ""
            if X.shape == self._image_shape[-X.ndim :] and self.image_shape is None:
                hint = f" A single image? Pass it as a batch of one, X[np.newaxis] (shape {(1, *X.shape)})."
            raise ValueError(f"X holds images of shape {shape}, but the model was fitted on {self._image_shape}.{hint}")
        return X, self._assignment(images, with_aligned=with_aligned)

    def predict(self, X):
        """Index of the nearest transformed prototype of each sample.

        Parameters
        ----------
        X : array-like of the same image shape as in fit

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        _, result = self._distances(X)
        return result.labels.astype(np.int32)

    def fit_predict(self, X, y=None):
        """Fit and return ``labels_``."""
        return self.fit(X).labels_

    def transform(self, X):
        """Distance of each sample to each prototype, aligned to it by the best transformation.

        Parameters
        ----------
        X : array-like of the same image shape as in fit

        Returns
        -------
        distances : ndarray of shape (n_samples, n_clusters)
            Euclidean distances, as :meth:`sklearn.cluster.KMeans.transform`.
        """
        X, result = self._distances(X)
        return np.sqrt(result.per_cluster).astype(X.dtype, copy=False)

    def fit_transform(self, X, y=None):
        """Fit, then return :meth:`transform` of ``X``."""
        return self.fit(X).transform(X)

    def score(self, X, y=None):
        """Opposite of the objective on ``X`` (as :meth:`sklearn.cluster.KMeans.score`).

        Returns
        -------
        score : float
            Minus the sum of squared distances to the best transformed prototype.
        """
        _, result = self._distances(X)
        return -float(result.best.sum())

    def align(self, X):
        """For each sample, its cluster's prototype transformed to match it.

        Parameters
        ----------
        X : array-like of the same image shape as in fit

        Returns
        -------
        aligned : ndarray of the same shape as ``X``
        """
        X, result = self._distances(X, with_aligned=True)
        if self.method == "deep":
            aligned = result.aligned
        else:
            aligned = _aligned_prototypes(self._bank, self._centers, result)
        return aligned.reshape(X.shape).astype(X.dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


# ---------------------------------------------------------------- input


def _as_images(X, image_shape, name):
    """A validated array as ``(n, C, H, W)`` float32 and its ``(C, H, W)``."""
    if X.ndim == 2 and image_shape is not None:
        shape = check_image_shape(image_shape, X.shape[1])
    elif X.ndim == 2:
        shape = (1, 1, X.shape[1])
    elif X.ndim == 3:
        shape = (1, *X.shape[1:])
    elif X.ndim == 4:
        shape = X.shape[1:]
    else:
        raise ValueError(
            f"{name} must be images (n, H, W) or (n, C, H, W), or rows (n, n_features); got shape {X.shape}."
        )
    if X.ndim > 2 and image_shape is not None and tuple(check_image_shape(image_shape)) != tuple(shape):
        raise ValueError(f"image_shape={image_shape!r} does not match {name} of shape {X.shape}.")
    return np.ascontiguousarray(X.reshape((len(X), *shape)), dtype=np.float32), tuple(int(s) for s in shape)


# ------------------------------------------------------ transformation grid


class _Bank:
    """A grid of spatial maps as one sparse operator, plus an optional colour model.

    ``A`` stacks the ``n_ops`` warps (each ``(H*W, H*W)``, applied to every
    channel) vertically; ``shifts`` is the integer translation part of each
    map (for re-centring prototypes), ``colour`` the bounds of the contrast
    factor or None.
    """

    def __init__(self, shape, maps, shifts, colour, circular):
        channels, height, width = shape
        self.shape = shape
        self.hw = height * width
        self.n_ops = len(maps)
        hw, n_ops = self.hw, self.n_ops
        warp, op = _warp_matrices(height, width, maps, circular)
        self.A = warp.tocsr().astype(np.float32)
        self.AT = self.A.T.tocsr()
        self.shifts = shifts
        self.circular = circular
        self.colour = colour
        # Per map b: the diagonal of A_b^T A_b, and the row and column sums of |A_b|.
        block_col = op * hw + warp.col
        self.diag = np.bincount(block_col, warp.data**2, minlength=n_ops * hw).reshape(n_ops, hw).astype(np.float32)
        row_sums = np.bincount(warp.row, np.abs(warp.data), minlength=n_ops * hw).reshape(n_ops, hw).max(axis=1)
        col_sums = np.bincount(block_col, np.abs(warp.data), minlength=n_ops * hw).reshape(n_ops, hw).max(axis=1)
        # The operator norm of each warp is at most sqrt(max row sum * max column sum).
        self.lipschitz = float(np.sqrt(row_sums * col_sums).max()) * (colour[1] if colour else 1.0)
        # Integer shifts move each pixel to at most one place: every A_b^T A_b
        # is then the diagonal ``diag``, and the update is a division.
        self.diagonal = bool(
            np.all(warp.data == 1.0)
            and np.bincount(warp.row, minlength=1).max(initial=0) <= 1
            and np.bincount(block_col, minlength=1).max(initial=0) <= 1
        )

    def gram(self):
        """The ``A_b^T A_b`` as a dense (n_ops, hw*hw) array, or None when diagonal or too large."""
        if self.diagonal or self.n_ops * self.hw * self.hw > 2e7:
            return None
        grams = [(self.A[b * self.hw : (b + 1) * self.hw]) for b in range(self.n_ops)]
        return np.stack([(g.T @ g).toarray().ravel() for g in grams]).astype(np.float32)


def _warp_matrix(height, width, matrix, circular):
    """Sparse (H*W, H*W) bilinear warp: output pixel q reads the input at ``matrix^-1 q``."""
    return _warp_matrices(height, width, [matrix], circular)[0].tocsr()


def _warp_matrices(height, width, maps, circular):
    """All warps of ``maps`` stacked, as COO parts: ``(matrix (n_ops*H*W, H*W), op of each entry)``."""
    maps = np.asarray(maps, dtype=float)  # (n_ops, 2, 3)
    inverse = np.linalg.inv(maps[:, :, :2])
    shift = maps[:, :, 2]
    centre = np.array([(height - 1) / 2.0, (width - 1) / 2.0])
    ys, xs = np.mgrid[0:height, 0:width]
    q = np.stack([ys.ravel(), xs.ravel()]).astype(float) - centre[:, None]  # (2, hw)
    src = np.einsum("bij,bjq->biq", inverse, q[None] - shift[:, :, None]) + centre[None, :, None]
    src = np.round(src, 9)  # integer shifts stay exact
    y0, x0 = np.floor(src[:, 0]), np.floor(src[:, 1])
    fy, fx = src[:, 0] - y0, src[:, 1] - x0
    size = height * width
    out = np.arange(len(maps) * size).reshape(len(maps), size)
    ops = np.repeat(np.arange(len(maps)), size).reshape(len(maps), size)
    rows, cols, vals, which = [], [], [], []
    for dy, dx, weight in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        iy, ix = y0 + dy, x0 + dx
        if circular:
            iy, ix = np.mod(iy, height), np.mod(ix, width)
            keep = weight > 1e-9
        else:
            keep = (weight > 1e-9) & (iy >= 0) & (iy < height) & (ix >= 0) & (ix < width)
        rows.append(out[keep])
        cols.append((iy[keep] * width + ix[keep]).astype(np.int64))
        vals.append(weight[keep])
        which.append(ops[keep])
    rows, cols, vals, which = (np.concatenate(a) for a in (rows, cols, vals, which))
    return sp.coo_matrix((vals, (rows, cols)), shape=(len(maps) * size, size)), which


def _head_targets(transformations, gridded, shape, ops):
    """The deep solver's parameters of the discrete solver's best maps, for translations and rotations.

    ``ops`` (n, K) index the composed grid of the spatial transformations of
    ``gridded`` (mixed radix, in the order listed, as :func:`_compose`).
    Returns ``{index in transformations: (n, K, n_params)}``.
    """
    spatial = [t for t in gridded if not t.photometric]
    sizes = [len(t.grid(shape)) for t in spatial]
    if not spatial:
        return {}
    digits = np.unravel_index(ops, sizes)
    targets = {}
    for transformation, digit in zip(spatial, digits):
        index = next(i for i, t in enumerate(transformations) if t is transformation)
        grid = np.stack(transformation.grid(shape))
        if isinstance(transformation, Translation):
            limit = max(transformation.resolved_shift(shape), 1)
            value = grid[digit][..., :, 2] / limit  # (n, K, 2)
        elif isinstance(transformation, Rotation) and transformation.max_angle > 0:
            angles = np.arctan2(grid[:, 1, 0], grid[:, 0, 0])
            value = (angles[digit] / np.radians(transformation.max_angle))[..., None]
        else:
            continue
        # The deep forms move by limit * tanh(parameter).
        targets[index] = np.arctanh(np.clip(value, -0.95, 0.95))
    return targets


def _compose(per_plugin):
    """All compositions of one map per plugin, as ``(2x3 map, integer shift)`` pairs.

    The non-translation plugins act in the order listed; the translation
    acts last, so that its shift is the map's translation part.
    """
    maps = [(np.eye(3), np.zeros(2))]
    for transformation, grid in per_plugin:
        is_translation = type(transformation).__name__ == "Translation"
        maps = [
            (total, shift + g[:, 2]) if is_translation else (np.vstack([g, [0.0, 0.0, 1.0]]) @ total, shift)
            for total, shift in maps
            for g in grid
        ]
    out = []
    for total, shift in maps:
        m = total[:2].copy()
        m[:, 2] += shift
        out.append((m, shift))
    return out


def _curriculum(transformations, shape):
    """One bank per stage: the transformations switched on in the order listed."""
    banks, grids, seen = [], [], set()
    circular = any(getattr(t, "mode", None) == "circular" for t in transformations)
    for transformation in transformations:
        grid = transformation.grid(shape)
        if grid is None:
            raise ValueError(
                f"The transformation {transformation!r} is only available with method='deep'; "
                f"the discrete solver supports those with a grid (translation, rotation, affine, colour)."
            )
        grids.append((transformation, grid))
        spatial = [(t, g) for t, g in grids if not t.photometric]
        colours = [t for t, _ in grids if t.photometric]
        key = (tuple(len(g) for _, g in spatial), len(colours))
        if key in seen:
            continue
        seen.add(key)
        composed = _compose(spatial)
        maps = [m for m, _ in composed]
        has_shift = any(type(t).__name__ == "Translation" for t, _ in spatial)
        shifts = np.array([np.round(s).astype(int) for _, s in composed]) if has_shift else None
        colour = colours[-1].bounds() if colours else None
        banks.append(_Bank(shape, maps, shifts, colour, circular))
    return banks


# ------------------------------------------------------------- numerics


def _sq_norms(X):
    return np.einsum("ij,ij->i", X, X, dtype=np.float64).astype(np.float32)


def _transform_prototypes(bank, centers):
    """Every prototype under every map: (K, n_ops, C, H*W)."""
    n_clusters = len(centers)
    channels = bank.shape[0]
    flat = centers.reshape(n_clusters * channels, bank.hw).T
    warped = np.asarray(bank.A @ flat, dtype=np.float32).reshape(bank.n_ops, bank.hw, n_clusters, channels)
    return np.ascontiguousarray(warped.transpose(2, 0, 3, 1))


class _Assignment:
    """Result of an assignment step (all arrays over samples)."""

    def __init__(self, labels, ops, best, per_cluster, per_cluster_ops, scale, offset):
        self.labels = labels
        self.ops = ops
        self.best = best
        self.per_cluster = per_cluster
        self.per_cluster_ops = per_cluster_ops
        self.scale = scale
        self.offset = offset


def _chunk_distances(X, xx, bank, P):
    """Squared distances of a chunk of samples to every transformed prototype: (m, K*n_ops).

    With a colour model also the per-channel contrast and offset, (m, K*n_ops, C).
    """
    m = len(X)
    n_clusters, n_ops, channels, hw = P.shape
    flat = P.reshape(n_clusters * n_ops, channels * hw)
    if bank.colour is None:
        # ||x||^2 is the same for every map: it is added after the minimum, in _assign.
        scores = X @ (-2.0 * flat.T)
        scores += np.einsum("ij,ij->i", flat, flat)[None, :]
        return scores, None, None
    low, high = bank.colour
    dist = np.zeros((m, n_clusters * n_ops), dtype=np.float32)
    scales = np.empty((m, n_clusters * n_ops, channels), dtype=np.float32)
    offsets = np.empty_like(scales)
    Xc = X.reshape(m, channels, hw)
    for c in range(channels):
        y = flat.reshape(-1, channels, hw)[:, c]
        x = Xc[:, c]
        sy, yy = y.sum(1), np.einsum("ij,ij->i", y, y)
        sx, xx_c = x.sum(1), np.einsum("ij,ij->i", x, x)
        var_y = np.maximum(yy - sy * sy / hw, 1e-12)
        var_x = np.maximum(xx_c - sx * sx / hw, 0.0)
        cov = x @ y.T - np.outer(sx, sy) / hw
        a = np.clip(cov / var_y[None, :], low, high)
        dist += var_x[:, None] - 2.0 * a * cov + a * a * var_y[None, :]
        scales[:, :, c] = a
        offsets[:, :, c] = (sx[:, None] - a * sy[None, :]) / hw
    np.maximum(dist, 0.0, out=dist)
    return dist, scales, offsets


def _assign(X, xx, bank, P, chunk_size=None):
    """Best cluster and map of each sample, with per-cluster best distances."""
    n = len(X)
    n_clusters, n_ops = P.shape[:2]
    channels = bank.shape[0]
    if chunk_size is None:
        chunk_size = max(1, int(2**22 // (n_clusters * n_ops * (3 if bank.colour else 1))))
    labels = np.empty(n, dtype=np.int64)
    ops = np.empty(n, dtype=np.int64)
    best = np.empty(n, dtype=np.float64)
    per_cluster = np.empty((n, n_clusters), dtype=np.float64)
    per_cluster_ops = np.empty((n, n_clusters), dtype=np.int64)
    scale = np.ones((n, channels), dtype=np.float32)
    offset = np.zeros((n, channels), dtype=np.float32)
    for start in range(0, n, chunk_size):
        stop = min(n, start + chunk_size)
        dist, scales, offsets = _chunk_distances(X[start:stop], xx[start:stop], bank, P)
        cube = dist.reshape(stop - start, n_clusters, n_ops)
        arg = cube.argmin(2)
        rows = np.arange(stop - start)
        per_cluster_ops[start:stop] = arg
        per_cluster[start:stop] = np.take_along_axis(cube, arg[:, :, None], 2)[:, :, 0]
        if scales is None:
            per_cluster[start:stop] = np.maximum(per_cluster[start:stop] + xx[start:stop, None], 0.0)
        lab = per_cluster[start:stop].argmin(1)
        labels[start:stop] = lab
        ops[start:stop] = arg[rows, lab]
        best[start:stop] = per_cluster[start:stop][rows, lab]
        if scales is not None:
            flat = lab * n_ops + ops[start:stop]
            scale[start:stop] = scales[rows, flat]
            offset[start:stop] = offsets[rows, flat]
    return _Assignment(labels, ops, best, per_cluster, per_cluster_ops, scale, offset)


def _update_centers(X, assignment, bank, centers, gram, ridge=1e-4):
    """Least-squares prototypes given each sample's cluster, map and colour parameters."""
    n = len(X)
    n_clusters, channels, hw = centers.shape
    n_ops = bank.n_ops
    groups = assignment.labels * n_ops + assignment.ops
    onehot = sp.csr_matrix((np.ones(n, dtype=np.float32), (groups, np.arange(n))), shape=(n_clusters * n_ops, n))
    images = X.reshape(n, channels, hw)
    if bank.colour is not None:
        a, b = assignment.scale, assignment.offset
        images = (images - b[:, :, None]) * a[:, :, None]
        weights = a * a
    else:
        weights = np.ones((n, channels), dtype=np.float32)
    sums = np.asarray(onehot @ images.reshape(n, channels * hw), dtype=np.float32)
    sums = sums.reshape(n_clusters, n_ops, channels, hw).transpose(1, 3, 0, 2).reshape(n_ops * hw, n_clusters * channels)
    rhs = np.asarray(bank.AT @ sums)  # (hw, K*C)
    w = np.asarray(onehot @ weights).reshape(n_clusters, n_ops, channels).transpose(1, 0, 2)
    w = w.reshape(n_ops, n_clusters * channels)  # weight of map b in the normal equations of column (k, c)
    totals = w.sum(0)
    alive = totals > 0
    lam = ridge * np.maximum(totals, 1e-12)
    current = centers.transpose(2, 0, 1).reshape(hw, n_clusters * channels).astype(np.float32)
    new = current.copy()
    if bank.diagonal:
        cols = np.flatnonzero(alive)
        new[:, cols] = rhs[:, cols] / (bank.diag.T @ w[:, cols] + lam[None, cols])
    elif gram is not None:
        cols = np.flatnonzero(alive)
        normal = (w[:, cols].T @ gram).reshape(len(cols), hw, hw)
        normal[:, np.arange(hw), np.arange(hw)] += lam[cols, None]
        new[:, cols] = np.linalg.solve(normal, rhs[:, cols].T[:, :, None])[:, :, 0].T
    else:
        new[:, alive] = _batched_cg(bank, w[:, alive], lam[alive], rhs[:, alive], current[:, alive])
    return new.reshape(hw, n_clusters, channels).transpose(1, 2, 0)


def _batched_cg(bank, w, lam, rhs, x0, max_iter=100, rtol=1e-5):
    """Solve ``(sum_b w_b A_b^T A_b + lam) x = rhs`` for every column at once (Jacobi-preconditioned CG)."""
    hw, n_ops = bank.hw, bank.n_ops

    def apply(v):
        y = np.asarray(bank.A @ v).reshape(n_ops, hw, -1) * w[:, None, :]
        return np.asarray(bank.AT @ y.reshape(n_ops * hw, -1)) + lam[None, :] * v

    diag = bank.diag.T @ w + lam[None, :]
    x = x0.astype(np.float64)
    r = rhs - apply(x)
    z = r / diag
    p = z.copy()
    rz = (r * z).sum(0)
    target = rtol * np.linalg.norm(rhs, axis=0)
    for _ in range(max_iter):
        if np.all(np.linalg.norm(r, axis=0) <= target):
            break
        q = apply(p)
        pq = (p * q).sum(0)
        alpha = np.where(pq > 0, rz / np.where(pq > 0, pq, 1.0), 0.0)
        x += alpha * p
        r -= alpha * q
        z = r / diag
        rz_new = (r * z).sum(0)
        beta = np.where(rz > 0, rz_new / np.where(rz > 0, rz, 1.0), 0.0)
        p = z + beta * p
        rz = rz_new
    return x.astype(np.float32)


def _recentre(centers, assignment, bank):
    """Move each prototype to the mean position of its members, so that small shifts suffice."""
    if bank.shifts is None:
        return centers
    channels, height, width = bank.shape
    shifts = bank.shifts[assignment.ops]
    out = centers.copy()
    for k in range(len(centers)):
        members = assignment.labels == k
        if not members.any():
            continue
        dy, dx = np.round(shifts[members].mean(0)).astype(int)
        if dy == 0 and dx == 0:
            continue
        image = centers[k].reshape(channels, height, width)
        if bank.circular:
            moved = np.roll(image, (dy, dx), axis=(1, 2))
        else:
            moved = np.zeros_like(image)
            moved[:, max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = image[
                :, max(-dy, 0) : height + min(-dy, 0), max(-dx, 0) : width + min(-dx, 0)
            ]
        out[k] = moved.reshape(channels, -1)
    return out


def _reseed_empty(X, centers, assignment):
    """Give each empty cluster the worst-explained sample, as scikit-learn's k-means does."""
    counts = np.bincount(assignment.labels, minlength=len(centers))
    empty = np.flatnonzero(counts == 0)
    if not len(empty):
        return centers, False
    channels = centers.shape[1]
    worst = np.argsort(-assignment.best)[: len(empty)]
    centers = centers.copy()
    for k, i in zip(empty, worst):
        centers[k] = X[i].reshape(channels, -1)
    return centers, True


def _assign_own(X, xx, bank, P, labels):
    """Best map of each sample for its own cluster only: 1/K of a full assignment's work."""
    n = len(X)
    channels = bank.shape[0]
    ops = np.empty(n, dtype=np.int64)
    best = np.empty(n, dtype=np.float64)
    scale = np.ones((n, channels), dtype=np.float32)
    offset = np.zeros((n, channels), dtype=np.float32)
    for k in np.unique(labels):
        rows = np.flatnonzero(labels == k)
        sub = _assign(X[rows], xx[rows], bank, P[k : k + 1])
        ops[rows], best[rows] = sub.ops, sub.best
        scale[rows], offset[rows] = sub.scale, sub.offset
    return ops, best, scale, offset


def _second_smallest(per_cluster):
    if per_cluster.shape[1] < 2:
        return np.full(len(per_cluster), np.inf)
    return np.partition(per_cluster, 1, axis=1)[:, 1]


def _lloyd(X, xx, bank, centers, max_iter, tol, gram):
    """Alternate assignments and least-squares updates until the objective stalls.

    Hamerly's bounds skip most of the work once prototypes move little: the
    distance to a transformed prototype is ``lipschitz``-Lipschitz in the
    prototype, so a sample whose distance to its own cluster (recomputed
    exactly, for its best map) stays below a lower bound on its distance to
    every other cluster keeps its cluster without the full search.
    """
    assignment = _assign(X, xx, bank, _transform_prototypes(bank, centers))
    upper = np.sqrt(assignment.best)
    lower = np.sqrt(_second_smallest(assignment.per_cluster))
    previous = np.inf
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (read after the loop)
        inertia = float(assignment.best.sum())
        if np.isfinite(previous) and previous - inertia <= tol * abs(previous):
            break
        previous = inertia
        old = centers
        centers, reseeded = _reseed_empty(X, centers, assignment)
        if not reseeded:
            centers = _update_centers(X, assignment, bank, centers, gram)
            centers = _recentre(centers, assignment, bank)
        P = _transform_prototypes(bank, centers)
        if reseeded:
            previous = np.inf
            assignment = _assign(X, xx, bank, P)
            upper = np.sqrt(assignment.best)
            lower = np.sqrt(_second_smallest(assignment.per_cluster))
            continue
        moved = bank.lipschitz * np.sqrt(((centers - old) ** 2).sum(axis=(1, 2)))
        order = np.argsort(moved)[::-1]
        largest, runner_up = moved[order[0]], (moved[order[1]] if len(moved) > 1 else 0.0)
        labels = assignment.labels.copy()
        lower = lower - np.where(labels == order[0], runner_up, largest)
        ops, best, scale, offset = _assign_own(X, xx, bank, P, labels)
        upper = np.sqrt(best)
        unsure = np.flatnonzero(upper > lower)
        if len(unsure):
            full = _assign(X[unsure], xx[unsure], bank, P)
            labels[unsure], ops[unsure], best[unsure] = full.labels, full.ops, full.best
            scale[unsure], offset[unsure] = full.scale, full.offset
            upper[unsure] = np.sqrt(full.best)
            lower[unsure] = np.sqrt(_second_smallest(full.per_cluster))
        assignment = _Assignment(labels, ops, best, None, None, scale, offset)
    return centers, assignment, float(assignment.best.sum()), n_iter


def _samples_as_prototypes(X, idx, channels):
    return X[idx].reshape(len(idx), channels, -1)


def _kmeans_plusplus(X, xx, bank, n_clusters, rng):
    """Greedy k-means++ seeding with transformation-invariant distances."""
    n = len(X)
    channels = bank.shape[0]
    n_local = 2 + int(np.log(n_clusters))
    chosen = [rng.randint(n)]
    closest = _assign(X, xx, bank, _transform_prototypes(bank, _samples_as_prototypes(X, chosen, channels))).best
    for _ in range(1, n_clusters):
        total = closest.sum()
        if total <= 0:
            candidates = rng.choice(n, n_local)
        else:
            candidates = rng.choice(n, n_local, p=closest / total)
        d = _assign(X, xx, bank, _transform_prototypes(bank, _samples_as_prototypes(X, candidates, channels)))
        trial = np.minimum(closest[:, None], d.per_cluster)
        j = int(trial.sum(0).argmin())
        chosen.append(int(candidates[j]))
        closest = trial[:, j]
    return _samples_as_prototypes(X, chosen, channels).copy()


def _swap_moves(X, xx, bank, centers, assignment, inertia, n_swaps, max_iter, tol, gram, rng, verbose):
    """Replace one prototype by a badly explained sample, keep the change when the objective drops."""
    n = len(X)
    n_clusters = len(centers)
    channels = bank.shape[0]
    n_candidates = min(n, 10)
    iterations = 0
    for trial in range(n_swaps if n_clusters > 1 else 0):
        assignment = _assign(X, xx, bank, _transform_prototypes(bank, centers))
        per = assignment.per_cluster
        ordered = np.sort(per, axis=1)
        best, second = ordered[:, 0], ordered[:, 1]
        weights = np.maximum(best, 0)
        n_positive = int(np.count_nonzero(weights))
        if n_positive == 0:
            break
        candidates = rng.choice(n, min(n_candidates, n_positive), replace=False, p=weights / weights.sum())
        to_candidate = _assign(
            X, xx, bank, _transform_prototypes(bank, _samples_as_prototypes(X, candidates, channels))
        ).per_cluster
        # Objective after removing prototype j and adding candidate c, before any update.
        estimate = np.empty((n_clusters, len(candidates)))
        for j in range(n_clusters):
            without = np.where(assignment.labels == j, second, best)
            estimate[j] = np.minimum(without[:, None], to_candidate).sum(0)
        j, c = np.unravel_index(estimate.argmin(), estimate.shape)
        trial_centers = centers.copy()
        trial_centers[j] = X[candidates[c]].reshape(channels, -1)
        trial_centers, trial_assignment, trial_inertia, n_iter = _lloyd(
            X, xx, bank, trial_centers, max_iter, tol, gram
        )
        accepted = trial_inertia < inertia
        if verbose:
            print(f"  swap {trial + 1}: cluster {j}, objective {inertia:.6g} -> {trial_inertia:.6g}"
                  f" ({'kept' if accepted else 'undone'})")
        if accepted:
            centers, assignment, inertia = trial_centers, trial_assignment, trial_inertia
            iterations += n_iter
    return centers, assignment, inertia, iterations


def _fit_discrete(X, stages, n_clusters, n_init, n_swaps, max_iter, tol, rng, verbose):
    """Restarts and swap moves on the first stage, then the rest of the curriculum.

    Restarts and swaps repair the choice of clusters, which the first
    transformation (the translation, by default) already shows; running them
    there rather than on the full grid costs a fraction of the time.
    Returns centers, labels, inertia, n_iter.
    """
    xx = _sq_norms(X)
    grams = [bank.gram() for bank in stages]
    best = None
    for run in range(n_init):
        start = time.perf_counter()
        centers = _kmeans_plusplus(X, xx, stages[0], n_clusters, rng)
        centers, assignment, inertia, n_iter = _lloyd(X, xx, stages[0], centers, max_iter, tol, grams[0])
        if verbose:
            print(f"run {run + 1}/{n_init}, stage 1/{len(stages)} ({stages[0].n_ops} maps):"
                  f" objective {inertia:.6g} after {n_iter} iterations in {time.perf_counter() - start:.2f}s")
        if best is None or inertia < best[2]:
            best = (centers, assignment, inertia, n_iter)
    centers, assignment, inertia, total_iter = best
    centers, assignment, inertia, more = _swap_moves(
        X, xx, stages[0], centers, assignment, inertia, n_swaps, max_iter, tol, grams[0], rng, verbose
    )
    total_iter += more
    for stage, (bank, gram) in enumerate(zip(stages[1:], grams[1:]), start=2):
        centers, assignment, inertia, n_iter = _lloyd(X, xx, bank, centers, max_iter, tol, gram)
        total_iter += n_iter
        if verbose:
            print(f"stage {stage}/{len(stages)} ({bank.n_ops} maps): objective {inertia:.6g} after {n_iter} iterations")
    return centers, assignment.labels, inertia, total_iter


def _aligned_prototypes(bank, centers, assignment):
    """Each sample's cluster prototype under the sample's best map (and colour)."""
    channels = bank.shape[0]
    n = len(assignment.labels)
    out = np.empty((n, channels, bank.hw), dtype=np.float32)
    for (k, op) in set(zip(assignment.labels.tolist(), assignment.ops.tolist())):
        rows = (assignment.labels == k) & (assignment.ops == op)
        warp = bank.A[op * bank.hw : (op + 1) * bank.hw]
        out[rows] = np.asarray(warp @ centers[k].T).T[None]
    if bank.colour is not None:
        out = out * assignment.scale[:, :, None] + assignment.offset[:, :, None]
    return out


def _exact_assign(X, bank, centers):
    """An assignment whose distances are recomputed in float64 for each cluster's best map.

    The search itself runs in float32 over all maps; recomputing the kept
    distances exactly makes a sample's result independent of the other
    samples it is passed with.
    """
    search = _assign(X, _sq_norms(X), bank, _transform_prototypes(bank, centers))
    n, n_clusters = search.per_cluster.shape
    channels = bank.shape[0]
    P = _transform_prototypes(bank, centers).astype(np.float64)  # (K, n_ops, C, hw)
    x = X.reshape(n, channels, bank.hw).astype(np.float64)
    per_cluster = np.empty((n, n_clusters))
    scales = np.ones((n, n_clusters, channels))
    offsets = np.zeros((n, n_clusters, channels))
    for k in range(n_clusters):
        p = P[k, search.per_cluster_ops[:, k]]  # (n, C, hw)
        if bank.colour is not None:
            low, high = bank.colour
            pc = p - p.mean(axis=2, keepdims=True)
            xc = x - x.mean(axis=2, keepdims=True)
            var = np.maximum((pc * pc).sum(axis=2), 1e-12)
            a = np.clip((pc * xc).sum(axis=2) / var, low, high)
            b = (x.sum(axis=2) - a * p.sum(axis=2)) / bank.hw
            p = a[:, :, None] * p + b[:, :, None]
            scales[:, k], offsets[:, k] = a, b
        per_cluster[:, k] = ((x - p) ** 2).sum(axis=(1, 2))
    labels = per_cluster.argmin(axis=1)
    rows = np.arange(n)
    return _Assignment(
        labels,
        search.per_cluster_ops[rows, labels],
        per_cluster[rows, labels],
        per_cluster,
        search.per_cluster_ops,
        scales[rows, labels].astype(np.float32),
        offsets[rows, labels].astype(np.float32),
    )
