"""Label shift in domain adaptation: the target's class proportions, estimated from unlabelled rows.

DANN aligns the distribution of the features of all source rows with that
of all target rows. When the classes are not equally frequent in the two
domains (label shift), that alignment moves rows of one class onto another.
IWDAN (Combes, Zhao, Wang & Gordon 2020) weights each source row by
``w[y] = p_target(y) / p_source(y)``, in the domain loss, so that the
features of the reweighted source are aligned with the target class for
class, and in the label loss, so that the label head learns the target's
class proportions. It estimates ``w`` during training from the label
head's own predictions: with ``C[i, j]`` the source rows'
probability of predicting ``i`` when the class is ``j`` and ``mu[i]`` the
mean predicted probability of ``i`` on the target rows, ``C @ w = mu``
under label shift (the moment matching of black-box shift estimation,
Lipton, Wang & Smola 2018).

The moment equation holds when a class looks the same in both domains.
Under a covariate shift (rotated images) the label head errs differently on
the target, the estimate is biased, and a class weighted near zero is no
longer learnt: reweighting is for label shift.
"""

import numpy as np
import torch
from scipy.optimize import nnls
from skorch.callbacks import Callback

from sklearn_adv.nn.sampling import RowsDataset

__all__ = ["estimate_class_weights", "class_shift", "LabelShiftWeights"]

# Weight of the equation sum_y p_source(y) w[y] = 1 against the moment
# equations, relative to the largest entry of the confusion matrix.
_CONSTRAINT_WEIGHT = 100.0


def estimate_class_weights(source_proba, source_labels, target_proba, source_weight=None, target_weight=None):
    """Class weights ``p_target(y) / p_source(y)`` matching predicted class proportions.

    Solves ``min ||C w - mu||^2`` over ``w >= 0`` with ``sum_y p_source(y) w[y] = 1``
    (the weighted source is a distribution; held as a heavily weighted extra
    equation, then exactly by rescaling), where ``C[i, j]`` is the mean
    over source rows of ``source_proba[:, i] * (source_labels == j)`` and
    ``mu`` the mean of ``target_proba`` (means, and ``p_source``, under the
    row weights when given).

    Parameters
    ----------
    source_proba : ndarray of shape (n_source, n_classes)
        Predicted class probabilities of labelled source rows.
    source_labels : ndarray of int of shape (n_source,)
        Their classes, ``0 .. n_classes - 1``.
    target_proba : ndarray of shape (n_target, n_classes)
        Predicted class probabilities of target rows.
    source_weight, target_weight : ndarray of shape (n_source,) and (n_target,), default=None
        Row weights (sample weights); ``None`` weights every row alike.

    Returns
    -------
    weights : ndarray of shape (n_classes,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_adv.domain.label_shift import estimate_class_weights
    >>> # A perfect classifier: the weights are the ratio of class frequencies.
    >>> source_labels = np.array([0, 0, 1, 1])
    >>> target_labels = np.array([0, 1, 1, 1])
    >>> w = estimate_class_weights(np.eye(2)[source_labels], source_labels, np.eye(2)[target_labels])
    >>> np.round(w, 3).tolist()
    [0.5, 1.5]
    """
    source_proba = np.asarray(source_proba, dtype=np.float64)
    target_proba = np.asarray(target_proba, dtype=np.float64)
    n_classes = source_proba.shape[1]
    onehot = np.eye(n_classes)[np.asarray(source_labels)]
    source_weight = _row_weights(source_weight, len(onehot))
    target_weight = _row_weights(target_weight, len(target_proba))
    # Weighted means; with unit weights, the plain means to the last bit.
    confusion = (source_proba * source_weight[:, None]).T @ onehot / source_weight.sum()
    target_mean = (target_proba * target_weight[:, None]).sum(axis=0) / target_weight.sum()
    source_prior = (onehot * source_weight[:, None]).sum(axis=0) / source_weight.sum()
    present = source_prior > 0
    # A class absent from the source rows has no rows to weight: it keeps 0.
    confusion, prior = confusion[:, present], source_prior[present]
    # Non-negative least squares with the constraint as one more, heavily
    # weighted, equation (an exact active-set solver: the residuals are tiny
    # numbers, which stop a general-purpose optimizer at its first step),
    # then rescaled to meet the constraint exactly.
    scale = _CONSTRAINT_WEIGHT * max(np.abs(confusion).max(), 1e-12)
    solution, _ = nnls(np.vstack([confusion, scale * prior]), np.r_[target_mean, scale])
    total = prior @ solution
    weights = np.zeros(n_classes)
    weights[present] = solution / total if total > 0 else 1.0
    return weights


def class_shift(weights, source_counts):
    """The total-variation distance between the source's class proportions and the target's, ``p_source * weights``.

    Half the sum of ``|p_target(y) - p_source(y)|``: 0 when the classes are
    as frequent in both domains, 1 when no class of the source occurs in the
    target. ``source_counts`` may be counts or proportions (sums of row
    weights per class).

    Examples
    --------
    >>> from sklearn_adv.domain.label_shift import class_shift
    >>> round(class_shift([1.7, 0.3], [0.5, 0.5]), 3)  # target 85% / 15%, source 50% / 50%
    0.35
    """
    prior = np.asarray(source_counts, dtype=np.float64)
    prior = prior / prior.sum()
    return float(0.5 * np.abs(prior * np.asarray(weights, dtype=np.float64) - prior).sum())


def _row_weights(weight, n_rows):
    """Row weights as floats: all 1 when ``weight`` is None or sums to 0."""
    weight = None if weight is None else np.asarray(weight, dtype=np.float64)
    return np.ones(n_rows) if weight is None or not weight.sum() > 0 else weight


class LabelShiftWeights(Callback):
    """Re-estimate the class weights of IWDAN after every epoch and apply them to the source rows.

    The weights multiply the source rows' label loss and domain loss (their
    ``target_weight`` and ``adversary_weight`` in the training dataset, a
    :class:`~sklearn_adv.nn.sampling.RowsDataset`); target rows keep weight 1
    in the domain loss. New estimates enter through a moving average, as in
    the paper's code, so that one poor epoch does not swing them. With
    ``row_weight`` (sample weights), the estimate reads the rows under those
    weights and the class weights multiply them.

    Parameters
    ----------
    source : ndarray of bool of shape (n_train,)
        Which training rows are labelled source rows.
    labels : ndarray of int of shape (n_train,)
        Class codes (read on source rows only).
    n_classes : int
    momentum : float, default=0.5
        Weight of the previous estimate in the moving average.
    row_weight : ndarray of shape (n_train,) or None, default=None
        Sample weights of the training rows; ``None``: all 1.

    Attributes
    ----------
    weights_ : ndarray of shape (n_classes,)
        The current weights; also recorded per epoch as ``class_weights``
        in the net's history.
    """

    def __init__(self, source, labels, n_classes, momentum=0.5, row_weight=None):
        self.source = source
        self.labels = labels
        self.n_classes = n_classes
        self.momentum = momentum
        self.row_weight = row_weight

    def initialize(self):
        self.weights_ = np.ones(self.n_classes)
        return self

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        source, target = np.asarray(self.source), ~np.asarray(self.source)
        if not target.any():
            return
        logits = net.forward(RowsDataset(dataset_train.X), training=False)[0]
        proba = torch.softmax(logits.float(), dim=1).numpy()
        base = np.ones(len(source)) if self.row_weight is None else np.asarray(self.row_weight, dtype=np.float64)
        estimate = estimate_class_weights(proba[source], self.labels[source], proba[target], base[source], base[target])
        self.weights_ = self.momentum * self.weights_ + (1.0 - self.momentum) * estimate
        class_weight = np.where(source, self.weights_[self.labels], 1.0)
        dataset_train.y["target_weight"] = torch.as_tensor(np.where(source, class_weight * base, 0.0), dtype=torch.float32)
        dataset_train.y["adversary_weight"] = torch.as_tensor(class_weight * base, dtype=torch.float32)
        net.history.record("class_weights", self.weights_.tolist())
