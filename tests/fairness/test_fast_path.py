"""The training fast path: vectorised losses equal to their per-stratum definition, whole-batch dataset, fused optimizer."""

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_adv.fairness import FairClassifier
from sklearn_adv.fairness._net import _FairNet


def reference_strata(pred, y, conditional):
    weight = y.get("adversary_weight", torch.ones(len(pred)))
    if not conditional:
        return weight, [weight]
    return weight, [weight * (y["target"] == label) for label in torch.unique(y["target"])]


def reference_adversary_loss(pred, y, conditional):
    """Cross-entropy plus the group-balanced error, one stratum at a time (the loss's definition)."""
    weight, strata = reference_strata(pred, y, conditional)
    groups = y["adversary"]
    cross_entropy = (nn.functional.cross_entropy(pred, groups, reduction="none") * weight).sum() / weight.sum()
    proba = torch.softmax(pred, dim=1)
    balanced = 0.0
    for mask in strata:
        errors = []
        for group in range(pred.shape[1]):
            rows = mask * (groups == group)
            if rows.sum() > 0:
                errors.append(((1 - proba[:, group]) * rows).sum() / rows.sum())
        if errors:
            balanced = balanced + mask.sum() / weight.sum() * torch.stack(errors).mean()
    return cross_entropy + balanced


def reference_fooling_loss(pred, y, conditional):
    """Parity gap of the adversary's output plus its divergence from the group frequencies, per stratum."""
    weight, strata = reference_strata(pred, y, conditional)
    groups = y["adversary"]
    proba, log_proba = torch.softmax(pred, dim=1), torch.log_softmax(pred, dim=1)
    loss = 0.0
    for mask in strata:
        total = mask.sum()
        if total == 0:
            continue
        term = 0.0
        for group in range(pred.shape[1]):
            rows = mask * (groups == group)
            frequency = rows.sum() / total
            if rows.sum() > 0:
                term = term + ((proba[:, group] * rows).sum() / rows.sum() - (proba[:, group] * mask).sum() / total).abs()
                term = term + frequency * (frequency.log() - (log_proba[:, group] * mask).sum() / total)
        loss = loss + total / weight.sum() * term
    return loss


def bare_net(conditional):
    net = _FairNet.__new__(_FairNet)
    net.conditional = conditional
    net.adversary_criterion_ = nn.CrossEntropyLoss(reduction="none")
    return net


@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("n_groups", [2, 5])
@pytest.mark.parametrize("positives_only", [False, True])
def test_vectorised_losses_equal_their_per_stratum_definition(conditional, n_groups, positives_only):
    generator = torch.Generator().manual_seed(n_groups + 10 * conditional + 100 * positives_only)
    pred = torch.randn(40, n_groups, generator=generator, requires_grad=True)
    # Group n_groups - 1 is absent from the batch: the losses skip empty groups.
    y = {
        "adversary": torch.randint(n_groups - 1, (40,), generator=generator),
        "target": torch.randint(3, (40,), generator=generator),
    }
    if positives_only:
        y["adversary_weight"] = (y["target"] == 1).float()
    net = bare_net(conditional)
    for ours, reference in (
        (net.get_adversary_loss, reference_adversary_loss),
        (net.get_fooling_loss, reference_fooling_loss),
    ):
        value = ours(pred, y)
        (gradient,) = torch.autograd.grad(value, pred)
        expected = reference(pred, y, conditional)
        (expected_gradient,) = torch.autograd.grad(expected, pred)
        torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(gradient, expected_gradient, rtol=1e-5, atol=1e-6)


def test_fooling_loss_vanishes_when_the_adversary_output_ignores_the_group():
    y = {"adversary": torch.tensor([0, 0, 0, 1]), "target": torch.tensor([0, 1, 0, 1])}
    frequencies = torch.tensor([0.75, 0.25]).log().expand(4, 2)
    assert abs(float(bare_net(False).get_fooling_loss(frequencies, y))) < 1e-6


def test_early_stopping_scores_held_out_rows_and_keeps_the_best_epoch():
    rng = np.random.RandomState(0)
    X, s = rng.randn(200, 3), rng.randint(2, size=200)
    y = (X[:, 0] > 0).astype(int)
    clf = FairClassifier(
        max_epochs=30, batch_size=64, early_stopping=True, validation_fraction=0.2, n_iter_no_change=2, random_state=0
    )
    clf.fit(X, y, sensitive_features=s)
    assert np.isfinite(clf.history_[:, "valid_loss"]).all()
    assert clf.history_[-1, "train_batch_count"] == 3  # 160 training rows in batches of 64
    # Labels that the inputs do not predict: the held-out loss stops improving at once.
    clf.fit(X, rng.randint(2, size=200), sensitive_features=s)
    assert len(clf.history_) < 30


def test_alternating_step_fools_the_updated_adversary_and_leaves_it_no_gradient():
    rng = np.random.RandomState(0)
    X, s = rng.randn(100, 3).astype(np.float32), rng.randint(2, size=100)
    y = (X[:, 0] > 0).astype(int)
    clf = FairClassifier(max_epochs=1, batch_size=32, random_state=0).fit(X, y, sensitive_features=s)
    net = clf.net_
    Xb = torch.as_tensor(X[:32])
    yb = {"target": torch.as_tensor(y[:32]), "adversary": torch.as_tensor(s[:32])}
    adversary_before = [p.detach().clone() for p in net.adversary_.parameters()]

    # Run a step with the main module's update held back, to read its gradient.
    net.optimizer_.step = lambda *args, **kwargs: None
    net.train_step((Xb, yb))
    adversary_params, main_params = list(net.adversary_.parameters()), list(net.module_.parameters())
    assert any(not torch.equal(p, q) for p, q in zip(adversary_params, adversary_before))  # the adversary stepped first
    assert all(p.requires_grad and p.grad is None for p in adversary_params)

    # The main module's gradient is that of its objective against the adversary as updated.
    output, representation = net.module_(Xb)
    adversary_pred = net.adversary_(net.adversary_input(output, representation, yb))
    objective = (
        net.get_loss((output, representation), yb) + net.current_adversary_weight() * net.get_fooling_loss(adversary_pred, yb)
    )
    for parameter, expected in zip(main_params, torch.autograd.grad(objective, main_params)):
        torch.testing.assert_close(parameter.grad, expected, rtol=1e-5, atol=1e-6)
