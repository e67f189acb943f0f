"""DP-SGD's clipped per-row gradients: exact against one backward pass per row, bounded, and refusing networks that mix rows."""

import pytest
import torch
from torch import nn

from sklearn_adv.nn.dp_sgd import ClippedGradients, add_noise


def _squared_error(out):
    return out.pow(2).flatten(1).sum(1)


def _row_by_row(net, x, max_grad_norm):
    """The definition: one backward pass per row, each gradient clipped, then summed."""
    total = {p: torch.zeros_like(p) for p in net.parameters()}
    norms = []
    for i in range(len(x)):
        net.zero_grad()
        _squared_error(net(x[i:i + 1])).sum().backward()
        grads = [p.grad.clone() for p in net.parameters()]
        norm = torch.sqrt(sum(g.pow(2).sum() for g in grads))
        norms.append(norm)
        for p, g in zip(net.parameters(), grads):
            total[p] += min(1.0, max_grad_norm / norm.item()) * g
    return total, torch.stack(norms)


NETWORKS = {
    "mlp": lambda: (nn.Sequential(nn.Linear(10, 32), nn.LeakyReLU(0.2, inplace=True), nn.Linear(32, 1)), (10,)),
    "conv": lambda: (
        nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(4, 8, 3, padding=1),
                      nn.Flatten(), nn.Linear(8 * 4 * 4, 1)),
        (1, 8, 8),
    ),
    "packs": lambda: (nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2)), (3, 6)),  # a linear layer on (n, 3, 6)
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("max_grad_norm", [0.05, 1e6])
def test_clipped_sums_equal_one_backward_pass_per_row(name, max_grad_norm):
    torch.manual_seed(0)
    net, shape = NETWORKS[name]()
    x = torch.randn(12, *shape)
    clipped = ClippedGradients(net)
    with clipped.recording():
        losses = _squared_error(net(x))
    grads, norms = clipped.clipped_sum(losses, max_grad_norm)
    expected, expected_norms = _row_by_row(net, x, max_grad_norm)
    torch.testing.assert_close(norms, expected_norms, rtol=1e-4, atol=1e-5)
    assert set(grads) == set(net.parameters())
    for param in net.parameters():
        torch.testing.assert_close(grads[param], expected[param], rtol=1e-4, atol=1e-5)


def test_no_row_moves_the_sum_by_more_than_the_clipping_norm():
    torch.manual_seed(1)
    net, _ = NETWORKS["mlp"]()
    x = torch.randn(30, 10) * 100  # large gradients, all clipped
    clipped = ClippedGradients(net)

    def clipped_sum(rows):
        with clipped.recording():
            losses = _squared_error(net(rows))
        return torch.cat([g.flatten() for g in clipped.clipped_sum(losses, 0.5)[0].values()])

    assert (clipped_sum(x) - clipped_sum(x[1:])).norm() <= 0.5 + 1e-4


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (nn.BatchNorm1d(4), "mixes the rows"),
        (nn.utils.parametrizations.spectral_norm(nn.Linear(4, 4)), "parametrized"),
        (nn.LayerNorm(4), "Linear and Conv2d layers only"),
    ],
)
def test_networks_whose_row_gradients_are_not_their_own_are_refused(layer, message):
    with pytest.raises(ValueError, match=message):
        ClippedGradients(nn.Sequential(nn.Linear(3, 4), layer, nn.Linear(4, 1)))


def test_a_layer_run_twice_in_one_recording_is_refused():
    net = nn.Linear(3, 1)
    clipped = ClippedGradients(net)
    with pytest.raises(RuntimeError, match="ran twice"):
        with clipped.recording():
            net(torch.randn(2, 3))
            net(torch.randn(2, 3))


def test_frozen_parameters_are_left_alone():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    net[0].requires_grad_(False)
    clipped = ClippedGradients(net)
    with clipped.recording():
        losses = _squared_error(net(torch.randn(5, 3)))
    grads, _ = clipped.clipped_sum(losses, 1.0)
    assert set(grads) == {net[2].weight, net[2].bias}


def test_the_noise_has_the_calibrated_scale_and_follows_the_generator():
    grads = {"w": torch.zeros(200, 200)}
    noisy = add_noise(grads, max_grad_norm=2.0, noise_multiplier=1.5, generator=torch.Generator().manual_seed(0))
    assert noisy["w"].std().item() == pytest.approx(3.0, rel=0.02)
    again = add_noise(grads, max_grad_norm=2.0, noise_multiplier=1.5, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(noisy["w"], again["w"])
