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
"""

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback

from sklearn_adv.nn.callbacks import DivergenceGuard

__all__ = ["Curriculum", "MinimumError", "PrototypeNet", "ReseedPrototypes"]


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
                net.module_.reseed(int(dst), src)
                # Split the busiest prototype's samples between the two copies.
                counts[src] = counts[dst] = counts[src] // 2
                reseeded += 1
        net.history.record("n_reseeded", reseeded)


class PrototypeNet(NeuralNet):
    """A skorch ``NeuralNet`` whose module returns per-prototype errors and whose loss is the smallest.

    Trains on ``X`` alone (``fit(X)``); the criterion defaults to
    :class:`MinimumError`, and a :class:`~sklearn_adv.nn.callbacks.DivergenceGuard`
    stops training with a clear error when the loss stops being finite.

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

    @property
    def _default_callbacks(self):
        return [*super()._default_callbacks, ("divergence_guard", DivergenceGuard())]
