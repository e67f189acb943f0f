"""The adversarial net of FairClassifier: the adversary's input, its loss and the encoder's fooling objective.

Kept apart from the estimator, whose module is its hyperparameters, data
contract and sklearn API; this one is the training objective of fair
learning on the engine's :class:`~sklearn_adv.nn.AdversarialNet`.
"""

import numpy as np
import torch
from torch import nn

from sklearn_adv.nn.adversarial import AdversarialNet


class _FairNet(AdversarialNet):
    """The engine's adversarial net, with the adversary's input, loss and fooling objective of fair learning.

    ``reads="prediction"`` gives the adversary the predicted probabilities
    (Zhang et al. 2018) instead of the representation; ``conditional=True``
    adds the true label one-hot (equalized odds, equal opportunity), or the
    predicted one when no label is at hand (:meth:`adversary_predict`), and
    measures the adversary's success within each class.

    Three choices make the adversary find the attribute where it hides:

    - it reads its input standardised over the batch, so that the encoder
      cannot hide the attribute by shrinking the direction that carries it
      (a downstream model rescales it at no cost);
    - it learns by cross-entropy plus the group-balanced error of LAFTR
      (Madras et al. 2018), which makes it commit to decisions, so that its
      success grows in step with the demographic-parity gap it can exploit;
    - the encoder does not maximise the adversary's loss, which rewards
      making the adversary *confidently wrong* (the attribute stays in the
      representation, flipped). It minimises a bounded fooling loss, zero
      when the adversary's output does not depend on the group: the gap
      between the adversary's mean probability of each group on that group's
      rows and on all rows, plus its divergence from the group frequencies.
    """

    def __init__(self, *args, reads="representation", conditional=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.reads = reads
        self.conditional = conditional

    def adversary_input(self, output, representation, y):
        features = representation if self.reads == "representation" else torch.softmax(output, dim=1)
        if len(features) > 1:
            # batch_norm without statistics or affine parameters: the same
            # standardisation as (x - mean) / std in one kernel, whose backward
            # costs a fraction of the composite's.
            features = nn.functional.batch_norm(features, None, None, training=True, eps=_STANDARDISE_EPS**2)
        if not self.conditional:
            return features
        labels = y["target"].to(output.device) if isinstance(y, dict) else output.argmax(dim=1)
        return torch.cat([features, nn.functional.one_hot(labels, output.shape[1]).to(features.dtype)], dim=1)

    def train_step(self, batch, **fit_params):
        try:
            return super().train_step(batch, **fit_params)
        finally:
            # The batch's groups are not kept past its step (nor pickled with the model).
            self._groups_of_batch = None

    def _batch_groups(self, adversary_pred, y_true):
        """The batch's :class:`_BatchGroups`, built once per batch: both losses of a step read the same targets."""
        cached = getattr(self, "_groups_of_batch", None)
        if cached is None or cached.key is not y_true["adversary"]:
            cached = self._groups_of_batch = _BatchGroups(y_true, adversary_pred, self.conditional)
        return cached

    def get_adversary_loss(self, adversary_pred, y_true):
        """Cross-entropy plus LAFTR's group-balanced error of the adversary."""
        batch = self._batch_groups(adversary_pred, y_true)
        log_proba = torch.log_softmax(adversary_pred, dim=1)
        cross_entropy = (
            (nn.functional.nll_loss(log_proba, batch.groups, reduction="none") * batch.weight).sum() / batch.weight_sum
        )
        miss = 1.0 - (log_proba.exp() * batch.onehot).sum(dim=1)  # probability not given to each row's own group
        # Per stratum and group: mean miss; averaged over the groups present, weighted by the strata's shares.
        group_error = (batch.strata @ (miss[:, None] * batch.onehot)) * batch.inverse_in_group
        return cross_entropy + (batch.share_per_group * group_error).sum()

    def get_fooling_loss(self, adversary_pred, y_true):
        """Zero when the adversary's output carries no information on the group (within each class)."""
        batch = self._batch_groups(adversary_pred, y_true)
        log_proba = torch.log_softmax(adversary_pred, dim=1)
        proba = log_proba.exp()
        mean_proba = (batch.strata @ proba) * batch.inverse_total
        group_proba = (batch.strata @ (proba * batch.onehot)) * batch.inverse_in_group
        parity_gap = ((group_proba - mean_proba).abs() * batch.present).sum(dim=1)
        # KL(group frequencies || adversary's output), averaged over the rows.
        confusion = -((batch.strata @ log_proba) * batch.frequency).sum(dim=1) * batch.inverse_total[:, 0] - batch.entropy
        return (batch.share * (parity_gap + confusion)).sum()


class _BatchGroups:
    """What the fairness losses need to know of a batch's groups: counts, shares and frequencies per stratum.

    One stratum over all rows, or one per class when ``conditional`` (a
    stratum with no row has a share of 0). Rows are weighted by
    ``y_true["adversary_weight"]`` when given (0 leaves a row out).
    """

    def __init__(self, y_true, like, conditional):
        self.key = y_true["adversary"]
        self.groups = self.key.to(like.device)
        self.weight = _row_weight(y_true, len(like), like)
        self.weight_sum = self.weight.sum().clamp_min(_TINY)
        if conditional:
            labels = y_true["target"].to(like.device)
            self.strata = nn.functional.one_hot(labels).to(like.dtype).T * self.weight[None, :]
        else:
            self.strata = self.weight[None, :]
        # scatter_ rather than one_hot, which reads the codes back to check their range.
        self.onehot = torch.zeros_like(like).scatter_(1, self.groups[:, None], 1.0)
        in_group = self.strata @ self.onehot  # (n_strata, n_groups): weighted rows
        total = in_group.sum(dim=1, keepdim=True)
        self.present = (in_group > 0).to(like.dtype)
        self.inverse_in_group = self.present / in_group.clamp_min(_TINY)
        self.inverse_total = 1.0 / total.clamp_min(_TINY)
        self.frequency = in_group * self.inverse_total
        self.entropy = -torch.special.xlogy(self.frequency, self.frequency).sum(dim=1)
        self.share = total[:, 0] / self.weight_sum  # 0 for a stratum without rows
        n_present = self.present.sum(dim=1, keepdim=True)
        self.share_per_group = self.share[:, None] * self.present / n_present.clamp_min(1)


# Batch standardisation of the adversary's input: floor of the standard
# deviation (its square is added to the variance), so that a constant (dead)
# unit is not blown up into noise.
_STANDARDISE_EPS = 1e-3

# Adam without momentum (beta1 = 0), as in GAN practice: with momentum the
# encoder and the adversary overshoot each other and circle, and the
# attribute moves around the representation instead of leaving it.
_ADAM_BETAS = (0.0, 0.999)


# Floor of the denominators of the losses' per-group means (the empty
# groups they guard are masked out of the result).
_TINY = 1e-12


def _row_weight(y_true, n_rows, like):
    if isinstance(y_true, dict) and "adversary_weight" in y_true:
        return y_true["adversary_weight"].to(device=like.device, dtype=like.dtype)
    return torch.ones(n_rows, device=like.device, dtype=like.dtype)


def _balanced_weights(groups, strata, row_weight):
    """Row weights under which every group weighs the same within its stratum, and each stratum keeps its share.

    A row of weight ``w`` (e.g. 1, or a sample weight) and group ``g`` in
    stratum ``c`` gets ``w * W_c / (k_c * W_cg)``, with ``W_c`` the
    stratum's total weight, ``k_c`` the number of groups of positive weight
    in it and ``W_cg`` the total weight of group ``g`` in it. Rows of weight
    0 keep 0.

    Examples
    --------
    >>> _balanced_weights(np.array([0, 0, 1, 1, 1, 1]), np.zeros(6, dtype=int), np.ones(6)).tolist()
    [1.5, 1.5, 0.75, 0.75, 0.75, 0.75]
    """
    weights = np.zeros(len(groups), dtype=np.float64)
    for stratum in np.unique(strata[row_weight > 0]):
        selected = (strata == stratum) & (row_weight > 0)
        totals = np.bincount(groups[selected], weights=row_weight[selected])
        present = np.count_nonzero(totals)
        weights[selected] = row_weight[selected] * totals.sum() / (present * totals[groups[selected]])
    return weights.astype(np.float32)
