"""skorch callbacks shared by the estimators: training progress, schedules, divergence, mixup."""

import math

import numpy as np
import torch
from skorch.callbacks import Callback


class TrainingProgress(Callback):
    """Keep ``net.progress_``, the fraction of training done, in [0, 1], up to date at every batch.

    Schedules that follow the DANN paper are functions of this fraction (the
    adversary's weight, the learning rate), so they stay the same whatever
    the number of epochs or the batch size.
    """

    def on_train_begin(self, net, **kwargs):
        self.done_epochs_ = len(net.history) - 1 if len(net.history) else 0
        net.progress_ = 0.0

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        batch_size = net.get_params().get("iterator_train__batch_size", net.batch_size)
        n_rows = len(dataset_train) if dataset_train is not None else 1
        self.batches_per_epoch_ = max(1, math.ceil(n_rows / batch_size)) if batch_size > 0 else 1
        self.batch_ = 0
        self.epoch_ = len(net.history) - 1 - self.done_epochs_

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training:
            return
        done = self.epoch_ + min(self.batch_ / self.batches_per_epoch_, 1.0)
        net.progress_ = min(done / max(net.max_epochs, 1), 1.0)
        self.batch_ += 1


def ganin_schedule(progress):
    """The DANN paper's ramp 2 / (1 + exp(-10 p)) - 1: from 0 at the start to about 1 at the end."""
    return 2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0


def constant_schedule(progress):
    """A schedule that keeps the full weight from the first batch."""
    return 1.0


SCHEDULES = {"constant": constant_schedule, "ganin": ganin_schedule}


def resolve_schedule(schedule):
    """A schedule from a name in ``SCHEDULES`` or a callable ``progress -> factor``."""
    if callable(schedule):
        return schedule
    try:
        return SCHEDULES[schedule]
    except KeyError:
        raise ValueError(f"Unknown schedule {schedule!r}; expected one of {sorted(SCHEDULES)} or a callable.") from None


class AnnealLR(Callback):
    """The DANN paper's learning-rate annealing, lr = lr0 / (1 + alpha p) ** beta, updated every batch.

    ``p`` is ``net.progress_`` (see :class:`TrainingProgress`, which must run
    first). Applies to every optimizer of the net.
    """

    def __init__(self, alpha=10.0, beta=0.75):
        self.alpha = alpha
        self.beta = beta

    def on_train_begin(self, net, **kwargs):
        self.base_lrs_ = {
            name: [group["lr"] for group in getattr(net, name + "_").param_groups] for name in net._optimizers
        }

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training:
            return
        factor = (1.0 + self.alpha * getattr(net, "progress_", 0.0)) ** -self.beta
        for name, base_lrs in self.base_lrs_.items():
            for group, base_lr in zip(getattr(net, name + "_").param_groups, base_lrs):
                group["lr"] = base_lr * factor


class DivergenceGuard(Callback):
    """Stop training with a clear error as soon as a batch's loss is not finite or has exploded.

    A diverged net would otherwise go on and return a model that predicts
    garbage (often one class for every row) without a word. Exploded means
    over ``explosion_factor`` times the first training batch's loss (taken
    as at least 1, so that a loss starting near 0 may still move): the first
    batch is scored before any update, and a trained model's loss is not
    orders of magnitude above an untrained one's unless the steps are far too
    large.

    Parameters
    ----------
    explosion_factor : float, default=1e4
        How many times the first batch's loss (at least 1) a batch's loss may
        reach; ``inf`` checks only that it is finite.
    monitor : tuple of str, default=("loss",)
        What is watched: ``"loss"``, the loss a training step returns, and
        any per-batch entry of the history the step records (e.g. a GAN's
        ``"discriminator_loss"``, scored before its first update where the
        generator's loss is scored after it).
    """

    def __init__(self, explosion_factor=1e4, monitor=("loss",)):
        self.explosion_factor = explosion_factor
        self.monitor = monitor

    def on_train_begin(self, net, **kwargs):
        self.first_values_ = {}

    def on_batch_end(self, net, batch=None, training=False, loss=None, **kwargs):
        if not training:
            return
        for name in self.monitor:
            value = loss if name == "loss" else net.history[-1, "batches", -1].get(name)
            if value is not None:
                self._check(net, name, float(torch.as_tensor(value).detach().float().abs().max()))

    def _check(self, net, name, value):
        what = "the loss" if name == "loss" else f"the {name.replace('_', ' ')}"
        if not np.isfinite(value):
            raise FloatingPointError(
                f"Training diverged: {what} became {value} in epoch {len(net.history)}. {_REMEDY.format(lr=net.lr)}"
            )
        first = self.first_values_.setdefault(name, value)
        if value > self.explosion_factor * max(first, 1.0):
            raise FloatingPointError(
                f"Training diverged: {what} grew from {first:.3g} at the first batch to {value:.3g} in "
                f"epoch {len(net.history)}. {_REMEDY.format(lr=net.lr)}"
            )


_REMEDY = (
    "Lower the learning rate (lr={lr:g}; try 10 to 100 times lower), or the adversary's weight for an "
    "adversarial model, or scale the inputs (standardise rows, bring images to [0, 1])."
)


def cutmix_box(height, width, lam, rng):
    """Corners ``(top, bottom, left, right)`` of a CutMix box covering about ``1 - lam`` of the image.

    The box's centre is uniform over the image and its sides are
    ``sqrt(1 - lam)`` times the image's, clipped at the border (Yun et al. 2019).

    Parameters
    ----------
    height, width : int
        The image's size.
    lam : float or ndarray
        The share of the image to keep; an array gives one box per entry.
    rng : numpy Generator
        Draws the centre (its row, then its column).

    Returns
    -------
    top, bottom, left, right : int, or ndarray of int of ``lam``'s shape
    """
    lam = np.asarray(lam, dtype=np.float64)
    ratio = np.sqrt(1.0 - lam)
    cut_h, cut_w = np.round(height * ratio).astype(int), np.round(width * ratio).astype(int)
    cy, cx = rng.integers(0, height, lam.shape), rng.integers(0, width, lam.shape)
    top, bottom = np.clip(cy - cut_h // 2, 0, height), np.clip(cy - cut_h // 2 + cut_h, 0, height)
    left, right = np.clip(cx - cut_w // 2, 0, width), np.clip(cx - cut_w // 2 + cut_w, 0, width)
    if lam.ndim == 0:
        return int(top), int(bottom), int(left), int(right)
    return top, bottom, left, right


class _MixedCriterion(torch.nn.Module):
    """``lam * loss(pred, y) + (1 - lam) * loss(pred, y[perm])`` for the batch the callback just mixed."""

    def __init__(self, criterion, callback):
        super().__init__()
        self.criterion = criterion
        self.callback = callback

    def forward(self, y_pred, y_true):
        lam, perm = self.callback.lam_, self.callback.perm_
        if perm is None:
            return self.criterion(y_pred, y_true)
        return lam * self.criterion(y_pred, y_true) + (1.0 - lam) * self.criterion(y_pred, y_true[perm])


class Mixup(Callback):
    """In-batch mixup (or CutMix) for any skorch net, as image practitioners train with it.

    At each training batch, draws ``lam ~ Beta(alpha, alpha)`` and a
    permutation of the batch, replaces the inputs by
    ``lam * x + (1 - lam) * x[perm]`` (CutMix: pastes a box of ``x[perm]``
    covering ``1 - lam`` of the image) and trains on
    ``lam * loss(y) + (1 - lam) * loss(y[perm])``. For losses linear in the
    target (cross-entropy, and squared error up to a constant) this is exactly
    the loss on mixed soft targets. Validation batches and prediction are left
    alone.

    Parameters
    ----------
    alpha : float, default=0.2
        Beta distribution parameter; 0 switches mixing off.
    method : {"mixup", "cutmix"}, default="mixup"
        CutMix needs image batches ``(n, C, H, W)`` or ``(n, H, W)``.
    random_state : int or None, default=None

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skorch import NeuralNetClassifier
    >>> X = np.random.RandomState(0).randn(64, 4).astype("float32")
    >>> y = (X[:, 0] > 0).astype("int64")
    >>> net = NeuralNetClassifier(torch.nn.Linear(4, 2), criterion=torch.nn.CrossEntropyLoss,
    ...                           max_epochs=2, verbose=0, callbacks=[Mixup(alpha=0.4, random_state=0)])
    >>> net.fit(X, y).predict(X).shape
    (64,)
    """

    def __init__(self, alpha=0.2, method="mixup", random_state=None):
        self.alpha = alpha
        self.method = method
        self.random_state = random_state

    def initialize(self):
        if self.method not in ("mixup", "cutmix"):
            raise ValueError(f"method must be 'mixup' or 'cutmix', got {self.method!r}.")
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}.")
        self.rng_ = np.random.default_rng(self.random_state)
        self.lam_, self.perm_ = 1.0, None
        return self

    def on_train_begin(self, net, **kwargs):
        if not isinstance(net.criterion_, _MixedCriterion):
            net.criterion_ = _MixedCriterion(net.criterion_, self)

    def on_train_end(self, net, **kwargs):
        if isinstance(net.criterion_, _MixedCriterion):
            net.criterion_ = net.criterion_.criterion
        self.lam_, self.perm_ = 1.0, None

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        self.lam_, self.perm_ = 1.0, None
        if not training or self.alpha == 0:
            return
        X = batch[0]
        tensors = list(X.values()) if isinstance(X, dict) else [X]
        n = len(tensors[0])
        lam = float(self.rng_.beta(self.alpha, self.alpha))
        perm = torch.as_tensor(self.rng_.permutation(n), device=tensors[0].device)
        if self.method == "cutmix":
            if tensors[0].ndim < 3:
                raise ValueError(f"CutMix needs image batches (n, [C,] H, W), got shape {tuple(tensors[0].shape)}.")
            height, width = tensors[0].shape[-2:]
            top, bottom, left, right = cutmix_box(height, width, lam, self.rng_)
            lam = 1.0 - (bottom - top) * (right - left) / (height * width)
        # The loader builds fresh tensors for every batch, so mixing in place is safe.
        with torch.no_grad():
            for x in tensors:
                partner = x[perm]
                if self.method == "cutmix":
                    x[..., top:bottom, left:right] = partner[..., top:bottom, left:right]
                else:
                    x.mul_(lam).add_(partner, alpha=1.0 - lam)
        self.lam_, self.perm_ = lam, perm
