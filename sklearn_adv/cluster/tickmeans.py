"""Transformation-invariant k-means for images (TICKMeans)."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, _fit_context  # no public equivalent
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions  # no public API for parameter constraints
from sklearn.utils.validation import check_consistent_length, check_is_fitted, validate_data

from sklearn_adv.cluster._discrete import Problem, aligned_prototypes, exact_assign, fit_discrete
from sklearn_adv.cluster._warps import curriculum, head_targets
from sklearn_adv.cluster.transformations import Transformation, Translation, resolve_transformations
from sklearn_adv.nn.base import ROLE_CONSTRAINT, NetworkEstimator
from sklearn_adv.nn.data import as_network_input, check_image_shape


class TICKMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, NetworkEstimator):
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
        Largest number of swap moves tried after the restarts (discrete
        solver); they stop once three in a row are undone.
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
        Rows whose length is a square of 5 or more (64 values, as
        ``load_digits().data``) are probably flat images: ``fit`` warns and
        names the ``image_shape`` to pass; ``image_shape=(1, length)`` says
        they are signals and silences the warning.
    encoder : None, str, torch.nn.Module class or instance, default=None
        The deep solver's network reading a sample to predict the parameters
        of every transformation of every prototype: a registered network name
        (``plugins.available("network")``), a class called as
        ``cls(in_shape, None, **encoder__params)`` or an instance with an
        ``out_features`` attribute, which is copied (the caller's module is
        not trained, and each fit starts from its weights). ``None`` or
        ``"convnet"`` is a small :class:`~sklearn_adv.nn.ConvNet` (16 and 32
        channels).
    batch_size : int, default=64
        Mini-batch size of the deep solver.
    max_epochs : int or "auto", default=30
        Training epochs of the deep solver;
        ``"auto"`` aims at 2,000 optimizer steps within 10 to 2,000 epochs
        (see ``n_epochs_``).
    lr : float, default=1e-3
        Adam learning rate of the deep solver.
    device : str or torch.device, default="cpu"
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
    **role_params : dict
        Parameters of the encoder's network, prefixed by the role, as in
        skorch: ``encoder__channels=(8, 16)``.

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
    n_epochs_ : int
        Epochs of the training (deep solver only): ``max_epochs``, or what ``"auto"`` chose for the
        number of rows; early stopping may end it sooner.
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
    ``predict`` of the training data. Pixel values are used as they are;
    only when the largest magnitude is beyond :math:`2^{32}` (or below
    :math:`2^{-32}`), where the solver's float32 squares would overflow (or
    vanish), it works on the images divided by a power of two, an exact
    division, and reports prototypes, distances and objective in the units
    of the input.

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
        "encoder": ROLE_CONSTRAINT,
        # Not "optimizer": the deep solver trains with torch's Adam as it is
        # (the engine's fused Adam rounds differently).
        **{
            name: constraint
            for name, constraint in NetworkEstimator.shared_parameter_constraints.items()
            if name != "optimizer"
        },
    }

    # The deep solver's encoder: by default a conv net smaller than ConvNet's own default.
    _roles = {"encoder": {"convnet": {"channels": (16, 32)}}}

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
        **role_params,
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
        self._store_role_params(role_params)

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
        if X.ndim == 2 and self.image_shape is None:
            _warn_if_rows_look_like_images(X.shape[1])
        scale = _safe_scale(X)
        images, shape = _as_images(X, self.image_shape, scale)
        if len(images) < self.n_clusters:
            raise ValueError(f"n_samples={len(images)} should be >= n_clusters={self.n_clusters}.")
        transformations = resolve_transformations(self.transformations)
        device = self._fit_device()  # a CUDA request without CUDA fails here, whatever the solver
        rng = check_random_state(self.random_state)
        self._scale = scale
        self._input_shape = X.shape[1:]
        self._image_shape = shape
        self._out_shape = X.shape[1:] if X.ndim > 2 or self.image_shape is None else tuple(self.image_shape)
        self.transformations_ = transformations
        if self.method == "deep":
            centers, n_iter = self._fit_deep(images, transformations, rng, device)
        else:
            centers, n_iter = self._fit_discrete(images, transformations, rng)
        self._centers = centers
        # Back to the input's units in its own dtype, where a float64 input's large values fit.
        self.cluster_centers_ = centers.reshape((self.n_clusters, *self._out_shape)).astype(X.dtype) * scale
        self.n_iter_ = int(n_iter)
        self._n_features_out = self.n_clusters
        # The final assignment as predict computes it, so that labels_ is
        # predict(X) and inertia_ is -score(X) exactly.
        final = self._assignment(images)
        self.labels_ = final.labels.astype(np.int32)
        self.inertia_ = float(final.best.sum()) * scale * scale
        return self

    def _discrete_problem(self, images, rng):
        flat = images.reshape(len(images), -1)
        return Problem(flat, max_iter=self.max_iter, tol=self.tol, rng=rng, verbose=self.verbose)

    def _fit_discrete(self, images, transformations, rng):
        """The discrete solver over the curriculum of ``transformations``: (centers, n_iter)."""
        stages = curriculum(transformations, self._image_shape)
        solution = fit_discrete(self._discrete_problem(images, rng), stages, self.n_clusters, self.n_init, self.n_swaps)
        self._bank = stages[-1]
        return solution.centers, solution.n_iter

    def _fit_deep(self, images, transformations, rng, device):
        """The deep solver, warm-started by the discrete one: (centers, n_epochs); sets ``net_`` and ``history_``."""
        from sklearn_adv.cluster._deep import prototype_net

        shape = self._image_shape
        for transformation in transformations:
            if transformation.n_params(shape[0]) < 1:
                raise ValueError(f"The transformation {transformation!r} has no deep-solver form.")
        # Warm start: the discrete solver over the transformations that
        # have a grid, whose best maps also warm-start the network.
        gridded = [t for t in transformations if t.grid(shape) is not None] or [Translation()]
        stages = curriculum(gridded, shape)
        problem = self._discrete_problem(images, rng)
        initial = fit_discrete(problem, stages, self.n_clusters, self.n_init, self.n_swaps).centers
        ops = exact_assign(problem.X, stages[-1], initial).per_cluster_ops
        targets = head_targets(transformations, gridded, shape, ops)
        # torch's seed is the next draw of the generator the warm start drew from.
        self._fit_net(
            lambda: prototype_net(
                self._build_role("encoder", shape, None),
                images,
                initial,
                transformations,
                targets,
                max_epochs=self.n_epochs_,
                lr=self.lr,
                batch_size=min(self.batch_size, len(images)),
                callbacks=list(self.callbacks or []),
                device=device,
                verbose=self.verbose,
            ),
            images,
            None,
            rng,
        )
        net = self.net_
        centers = net.module_.prototypes.detach().cpu().numpy().reshape(self.n_clusters, shape[0], -1)
        return centers, len(self.history_)

    # ------------------------------------------------------------- predict

    def _assignment(self, images, with_aligned=False):
        """Squared distances (n, K) to each best-aligned prototype, labels, and what align needs."""
        if self.method == "deep":
            from sklearn_adv.cluster._deep import deep_distances

            return deep_distances(self.net_.module_, images, with_aligned=with_aligned)
        return exact_assign(images.reshape(len(images), -1), self._bank, self._centers)

    def _distances(self, X, with_aligned=False):
        """Validated ``X`` and the assignment of its images, in the solver's units (divided by ``_scale``)."""
        check_is_fitted(self)
        self._check_fitted_shape(X.shape if hasattr(X, "shape") else np.asarray(X).shape)
        X = validate_data(self, X, allow_nd=True, dtype=[np.float64, np.float32], reset=False)
        images, _ = _as_images(X, self.image_shape, self._scale)
        return X, self._assignment(images, with_aligned=with_aligned)

    def _check_fitted_shape(self, shape):
        """Refuse samples of another shape than in fit, speaking of images rather than of features."""
        fitted = tuple(self._input_shape)
        if len(shape) < 2 or tuple(shape[1:]) == fitted:
            return  # 1-D input gets scikit-learn's "Expected 2D array" from validate_data
        if len(shape) == 2 and len(fitted) == 1 and self.image_shape is None:
            return  # 1-D signals are rows of features: scikit-learn's own message says it
        hint = ""
        if tuple(shape) == fitted:
            hint = f" A single image? Pass it as a batch of one, X[np.newaxis] (shape {(1, *shape)})."
        raise ValueError(
            f"X holds {_describe_samples(shape[1:])}, but {type(self).__name__} was fitted on "
            f"{_describe_samples(fitted, self.image_shape)}: pass X of shape (n_samples, {', '.join(map(str, fitted))}).{hint}"
        )

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
        return np.sqrt(result.per_cluster).astype(X.dtype, copy=False) * self._scale

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
        return -float(result.best.sum()) * self._scale * self._scale

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
            aligned = aligned_prototypes(self._bank, self._centers, result)
        return aligned.reshape(X.shape).astype(X.dtype, copy=False) * self._scale

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


# Values whose float32 squares, summed over an image, neither overflow nor vanish.
_SAFE_MAGNITUDES = (2.0**-32, 2.0**32)


def _safe_scale(X):
    """1.0 for values of ordinary size, else the power of two the solver divides ``X`` by.

    The discrete solver computes squared norms and cross-correlations in
    float32, which overflow past about 1e38 (values past 1e19) and vanish
    below 1e-45. Out of :data:`_SAFE_MAGNITUDES`, the images are divided by
    the power of two nearest below their largest magnitude: an exact
    division (bar values far below the largest), which leaves the clustering
    as it would be on the images themselves.
    """
    peak = float(np.max(np.abs(X))) if X.size else 0.0
    low, high = _SAFE_MAGNITUDES
    if peak == 0.0 or low <= peak <= high:
        return 1.0
    return float(np.ldexp(1.0, np.frexp(peak)[1] - 1))


def _describe_samples(sample_shape, image_shape=None):
    """What samples of this shape are to TICKMeans, in words: images, flat images or flat rows."""
    sample_shape = tuple(int(s) for s in sample_shape)
    if len(sample_shape) > 1:
        return f"images of shape {sample_shape}"
    if image_shape is not None:
        return f"flat rows of {sample_shape[0]} values (image_shape={tuple(image_shape)})"
    return f"flat rows of {sample_shape[0]} values"


def _warn_if_rows_look_like_images(length):
    """Warn that rows of a square length are read as 1-D signals, naming the ``image_shape`` they may need."""
    side = math.isqrt(length)
    if side >= 5 and side * side == length:
        warnings.warn(
            f"TICKMeans reads rows of {length} values as 1-D signals (shifted along the row). If they are "
            f"{side}x{side} images, pass image_shape=({side}, {side}) or X reshaped to (n_samples, {side}, {side}); "
            f"if they are signals, pass image_shape=(1, {length}) to silence this warning.",
            UserWarning,
            stacklevel=4,  # the caller of fit, through _fit_context's wrapper
        )


def _as_images(X, image_shape, scale=1.0):
    """A validated array as ``(n, C, H, W)`` float32 divided by ``scale``, and its ``(C, H, W)``.

    Rows without ``image_shape`` are 1-D signals. ``X`` is divided in its
    own dtype, before the cast to float32 that its large values would not survive.
    """
    images, shape = as_network_input(X, image_shape, signals=True)
    if X.ndim > 2 and image_shape is not None and tuple(check_image_shape(image_shape)) != tuple(shape):
        raise ValueError(f"image_shape={image_shape!r} does not match X of shape {X.shape}.")
    if scale != 1.0:
        images = images / scale
    return np.ascontiguousarray(images, dtype=np.float32), tuple(int(s) for s in shape)
