"""Prototype learning on skorch: a module scores each sample against K prototypes, training minimises the best score.

Used by the deep solver of :class:`~sklearn_adv.TICKMeans` (Deep
Transformation-Invariant Clustering, Monnier et al. 2020), and usable for
any model of the same shape:

- the module's ``forward(X)`` returns a ``(batch, K)`` tensor of
  reconstruction errors of every sample by every prototype;
- the loss is the mean over the batch of the smallest error
  (:class:`MinimumError`), the k-means objective written for gradient descent;
- :class:`Curriculum` switches the module's transformations on one at a time
  (the module reads ``n_active``);
- :class:`ReseedPrototypes` gives a prototype that explains too few samples
  a copy of the busiest one (the module implements ``reseed(dst, src)``).

:class:`TransformedPrototypes` is such a module: K prototypes and a network
predicting, per sample, the parameters of transformations that align each
prototype with the sample. :func:`warm_start_heads` teaches its
transformation heads known parameters by regression (:class:`HeadRegressor`)
before the prototypes are trained.
"""

import numpy as np
import torch
from skorch import NeuralNetRegressor
from skorch.callbacks import Callback
from torch import nn

from sklearn_adv.nn.net import BaseNet

__all__ = [
    "Curriculum",
    "HeadRegressor",
    "MinimumError",
    "PrototypeNet",
    "ReseedPrototypes",
    "TransformationHeads",
    "TransformedPrototypes",
    "warm_start_heads",
]


class MinimumError(torch.nn.Module):
    """Mean over the batch of each row's smallest entry; ``y_true`` is ignored."""

    def forward(self, y_pred, y_true=None):
        return y_pred.min(dim=1).values.mean()


class Curriculum(Callback):
    """Switch the module's transformations on one at a time, at evenly spaced epochs.

    The first ``initially`` transformations are on from the start; the
    ``m = n_transformations - initially`` others switch on one by one, the
    ``j``-th (1-based) at epoch ``j * max_epochs // (m + 1)``, so that the
    last is on for the final ``1 / (m + 1)`` of training. Sets
    ``net.module_.n_active`` at the start of every epoch and records it in
    the history as ``n_active``.

    Examples
    --------
    >>> [Curriculum(3).active_at(epoch, 6) for epoch in range(6)]
    [1, 1, 2, 2, 3, 3]
    """

    def __init__(self, n_transformations, initially=1):
        self.n_transformations = n_transformations
        self.initially = initially

    def active_at(self, epoch, max_epochs):
        """How many transformations are on during ``epoch`` (0-based)."""
        n = int(self.n_transformations)
        first = min(int(self.initially), n)
        later = n - first
        return first + sum(1 for j in range(1, later + 1) if epoch >= j * max_epochs // (later + 1))

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1
        net.module_.n_active = self.active_at(epoch, net.max_epochs)
        net.history.record("n_active", net.module_.n_active)


class ReseedPrototypes(Callback):
    """At the end of each epoch, re-seed prototypes that won under ``threshold / K`` of the samples.

    Each such prototype becomes a copy of the one that won the most samples
    that epoch (``net.module_.reseed(dst, src)``), as DTI clustering does;
    the number re-seeded is recorded in the history as ``n_reseeded``.

    Parameters
    ----------
    threshold : float, default=0.2
        A prototype is re-seeded when it wins fewer than ``threshold / K`` of
        the training samples of the epoch.
    """

    def __init__(self, threshold=0.2):
        self.threshold = threshold

    def on_epoch_begin(self, net, **kwargs):
        self.counts_ = None

    def on_batch_end(self, net, training=False, y_pred=None, **kwargs):
        if not training or y_pred is None:
            return
        winners = y_pred.detach().argmin(dim=1).cpu().numpy()
        counts = np.bincount(winners, minlength=y_pred.shape[1])
        self.counts_ = counts if self.counts_ is None else self.counts_ + counts

    def on_epoch_end(self, net, **kwargs):
        counts = self.counts_
        reseeded = 0
        if counts is not None and counts.sum() > 0:
            n_clusters = len(counts)
            limit = self.threshold / n_clusters * counts.sum()
            for dst in np.flatnonzero(counts < limit):
                src = int(counts.argmax())
                net.module_.reseed(int(dst), src, generator=net.device_generator_)
                # Split the busiest prototype's samples between the two copies.
                counts[src] = counts[dst] = counts[src] // 2
                reseeded += 1
        net.history.record("n_reseeded", reseeded)


class PrototypeNet(BaseNet):
    """The engine's net (:class:`~sklearn_adv.nn.BaseNet`) for per-prototype errors: the loss is the smallest.

    Trains on ``X`` alone (``fit(X)``); the criterion defaults to
    :class:`MinimumError`. As every net of the engine, it stops training
    with a clear error when the loss stops being finite
    (:class:`~sklearn_adv.nn.callbacks.DivergenceGuard`).

    Examples
    --------
    >>> import numpy as np, torch
    >>> class Centres(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.centres = torch.nn.Parameter(torch.tensor([[0.0], [1.0]]))
    ...     def forward(self, X):
    ...         return ((X[:, None, :] - self.centres[None]) ** 2).sum(-1)
    >>> X = np.r_[np.zeros(20), np.full(20, 3.0)].astype("float32")[:, None]
    >>> net = PrototypeNet(Centres, max_epochs=200, lr=0.1, batch_size=40,
    ...                    optimizer=torch.optim.Adam, verbose=0).fit(X)
    >>> np.round(net.module_.centres.detach().numpy().ravel(), 1)
    array([0., 3.], dtype=float32)
    """

    def __init__(self, module, *args, criterion=MinimumError, train_split=None, **kwargs):
        super().__init__(module, *args, criterion=criterion, train_split=train_split, **kwargs)


class TransformedPrototypes(nn.Module):
    """Errors of each sample against each prototype, transformed as the encoder predicts.

    The module holds K image-shaped prototypes, a shared encoder of the
    sample and, per transformation, a linear head predicting that
    transformation's parameters for every prototype. The heads start at
    zero, so every transformation starts as the identity. It implements what
    :class:`PrototypeNet`, :class:`Curriculum` and :class:`ReseedPrototypes`
    need: ``forward``, ``n_active`` and ``reseed``.

    Parameters
    ----------
    prototypes : ndarray of shape (K, C, H, W)
        Initial prototypes.
    transformations : list of transformations
        Objects with ``n_params(n_channels)`` and a differentiable
        ``apply(images, params)``, such as those of
        :mod:`sklearn_adv.cluster.transformations`. Applied to a prototype in
        the order listed, except that translations (those whose
        ``translational`` attribute is true) are applied last (outermost).
    encoder : nn.Module
        Maps a batch ``(B, C, H, W)`` to features ``(B, F)``; ``F`` is read
        from its ``out_features``.

    Attributes
    ----------
    n_active : int
        How many transformations are on, counted along ``curriculum``.
    curriculum : list of int
        The order in which transformations switch on (indices into
        ``transformations``); defaults to the order listed.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_adv.cluster.transformations import Colour
    >>> from sklearn_adv.nn import build_network
    >>> module = TransformedPrototypes(np.ones((3, 1, 4, 4)), [Colour()], build_network("mlp", (1, 4, 4), None))
    >>> tuple(module(torch.zeros(5, 1, 4, 4)).shape)
    (5, 3)
    """

    def __init__(self, prototypes, transformations, encoder):
        super().__init__()
        K, C = prototypes.shape[:2]
        prototypes = np.asarray(prototypes, dtype=np.float32)
        # Prototypes are learned in units of their spread, so that the
        # optimizer's step size means the same whatever the pixel range.
        scale = float(prototypes.std()) or 1.0
        self.register_buffer("scale", torch.tensor(scale))
        self.normalised_prototypes = nn.Parameter(torch.as_tensor(prototypes / scale))
        # Stable sort: translations last, the others in the order listed.
        self.order = sorted(range(len(transformations)), key=lambda t: getattr(transformations[t], "translational", False))
        self.transformations = transformations
        self.encoder = encoder
        features = encoder.out_features
        self.heads = nn.ModuleList()
        for transformation in transformations:
            head = nn.Linear(features, K * transformation.n_params(C))
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)
            self.heads.append(head)
        self.n_active = len(transformations)
        # The order in which the curriculum switches transformations on.
        self.curriculum = list(range(len(transformations)))

    @property
    def prototypes(self):
        """The prototypes in pixel units: (K, C, H, W)."""
        return self.normalised_prototypes * self.scale

    def aligned(self, X):
        """Every prototype transformed to match every sample: (B, K, C, H, W)."""
        B = len(X)
        K, C, H, W = self.prototypes.shape
        features = self.encoder(X)
        images = self.prototypes[None].expand(B, K, C, H, W).reshape(B * K, C, H, W)
        active = set(self.curriculum[: self.n_active])
        for t in self.order:
            if t not in active:
                continue
            params = self.heads[t](features).reshape(B * K, -1)
            images = self.transformations[t].apply(images, params)
        return images.reshape(B, K, C, H, W)

    def forward(self, X):
        """Mean squared error per pixel of each sample against each aligned prototype: (B, K)."""
        aligned = self.aligned(X)
        return ((aligned - X[:, None]) ** 2).flatten(2).mean(dim=2)

    @torch.no_grad()
    def reseed(self, dst, src, noise=0.01, generator=None):
        """Make prototype ``dst`` (and its heads) a slightly perturbed copy of prototype ``src``.

        The noise is drawn from ``generator`` (the fit's own, on the
        prototypes' device), or from torch's global generator when it is None.
        """
        proto = self.normalised_prototypes[src]
        draw = torch.randn(proto.shape, generator=generator, device=proto.device, dtype=proto.dtype)
        self.normalised_prototypes[dst] = proto + noise * draw
        K = self.normalised_prototypes.shape[0]
        for head in self.heads:
            n = head.out_features // K
            head.weight[dst * n : (dst + 1) * n] = head.weight[src * n : (src + 1) * n]
            head.bias[dst * n : (dst + 1) * n] = head.bias[src * n : (src + 1) * n]


class TransformationHeads(nn.Module):
    """Some heads of a :class:`TransformedPrototypes` on its shared encoder, concatenated: ``(B, sum of sizes)``.

    Shares its parameters with ``module``: training it trains the encoder
    and those heads of ``module`` (see :func:`warm_start_heads`).
    """

    def __init__(self, module, indices):
        super().__init__()
        self.module = module
        self.indices = list(indices)

    def forward(self, X):
        features = self.module.encoder(X)
        return torch.cat([self.module.heads[t](features) for t in self.indices], dim=1)


class HeadRegressor(BaseNet, NeuralNetRegressor):
    """A skorch ``NeuralNetRegressor`` on the engine's net (:class:`~sklearn_adv.nn.BaseNet`).

    The net :func:`warm_start_heads` trains; without a validation split by
    default. It stops with a clear error when the loss stops being finite.
    """

    def __init__(self, module, *args, train_split=None, **kwargs):
        super().__init__(module, *args, train_split=train_split, **kwargs)


def warm_start_heads(module, X, targets, **net_params):
    """Teach the heads of ``module`` given parameters for each sample and prototype, by regression.

    Trains ``TransformationHeads(module, sorted(targets))`` (the shared
    encoder and those heads) in a :class:`HeadRegressor` on the mean squared
    error to the targets; the prototypes are left alone.

    Parameters
    ----------
    module : TransformedPrototypes
        Trained in place.
    X : ndarray of shape (n, C, H, W)
        The samples, float32.
    targets : dict
        Maps the index of a transformation to its parameters for every
        sample and prototype, ``(n, K, n_params)``.
    **net_params
        Passed to :class:`HeadRegressor` (``lr``, ``batch_size``,
        ``max_epochs``, ``callbacks``, ``device``, ...).

    Returns
    -------
    net : HeadRegressor or None
        The fitted net; ``None`` when ``targets`` is empty (nothing trained).
    """
    if not targets:
        return None
    indices = sorted(targets)
    y = np.concatenate([targets[t].reshape(len(X), -1) for t in indices], axis=1).astype(np.float32)
    params = {"criterion": nn.MSELoss, "optimizer": torch.optim.Adam, "iterator_train__shuffle": True, **net_params}
    return HeadRegressor(TransformationHeads(module, indices), **params).fit(X, y)
