"""The engine's parts for learning from few labels: noise and weight-normalised layers, the semi-supervised discriminator."""

import io
import pickle

import pytest
import torch

from sklearn_adv import plugins
from sklearn_adv.nn import MLP, GaussianNoise, WeightNormLinear
from sklearn_adv.nn.gan import BoundedOutput, ConditionalGenerator, GANNet, SemiSupervisedDiscriminator


def test_gaussian_noise_is_the_identity_in_evaluation_and_draws_from_its_generator_while_training():
    layer = GaussianNoise(0.5)
    x = torch.zeros(1000)
    assert torch.equal(layer.eval()(x), x)
    layer.train()
    layer.generator = torch.Generator().manual_seed(0)
    first = layer(x)
    layer.generator = torch.Generator().manual_seed(0)
    assert torch.equal(first, layer(x))
    assert 0.45 < float(first.std()) < 0.55


def test_weight_norm_linear_starts_as_its_linear_layer_learns_a_length_per_unit_and_pickles():
    torch.manual_seed(0)
    layer = WeightNormLinear(4, 3)
    x = torch.randn(5, 4)
    torch.testing.assert_close(layer(x), torch.nn.functional.linear(x, layer.weight, layer.bias))
    with torch.no_grad():
        layer.scale.mul_(2.0)
        layer.weight.mul_(10.0)  # the direction alone counts: the norm is divided out
    torch.testing.assert_close(layer(x) - layer.bias, 2.0 * (torch.nn.functional.linear(x, layer.weight) / 10.0))
    buffer = io.BytesIO()
    torch.save(layer, buffer)
    loaded = pickle.loads(pickle.dumps(layer))
    torch.testing.assert_close(loaded(x), layer(x))


def test_mlp_noise_and_weight_norm_options_add_their_layers_and_change_nothing_when_off():
    torch.manual_seed(0)
    plain = MLP(4, 2, hidden_units=(8,))
    torch.manual_seed(0)
    off = MLP(4, 2, hidden_units=(8,), input_noise=0.0, noise=0.0, weight_norm=False)
    x = torch.randn(3, 4)
    assert torch.equal(plain(x), off(x))
    on = MLP(4, 2, hidden_units=(8,), input_noise=0.3, noise=0.5, weight_norm=True)
    kinds = [type(layer).__name__ for layer in on.layers]
    assert kinds == ["GaussianNoise", "WeightNormLinear", "ReLU", "GaussianNoise", "WeightNormLinear"]
    assert torch.equal(on.eval()(x), on.eval()(x))


def test_semi_supervised_discriminator_realness_is_the_logsumexp_of_its_class_logits():
    disc = SemiSupervisedDiscriminator(torch.nn.Identity(), 3, 4)
    realness, logits, features = disc(torch.randn(6, 3))
    torch.testing.assert_close(realness, torch.logsumexp(logits, dim=1))
    # The "fake" logit is 0: P(real) = Z / (Z + 1) with Z the sum of the class exponentials.
    torch.testing.assert_close(torch.sigmoid(realness), logits.exp().sum(1) / (logits.exp().sum(1) + 1))
    assert features.shape == (6, 3)


def test_bounded_output_keeps_each_feature_within_its_range():
    out = BoundedOutput(low=[0.0, -2.0], high=[1.0, 2.0])
    values = out(torch.randn(100, 2) * 50)
    assert (values[:, 0] >= 0).all() and (values[:, 0] <= 1).all()
    assert (values[:, 1] >= -2).all() and (values[:, 1] <= 2).all()


def test_gannet_refuses_discriminator_mixup_with_a_loss_without_targets():
    net = GANNet(
        ConditionalGenerator(torch.nn.Linear(4, 3)),
        SemiSupervisedDiscriminator(torch.nn.Identity(), 3, 2),
        criterion=plugins.resolve("gan_loss", "wgan_gp"),
        noise_dim=4,
        discriminator_mixup=0.2,
        max_epochs=1,
    )
    with pytest.raises(ValueError, match="discriminator_mixup"):
        net.initialize()
