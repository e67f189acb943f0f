"""Layers shared by the adversarial estimators."""

import torch
from torch import nn


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.scale * grad_output, None


def reverse_gradient(x, scale=1.0):
    """Identity on the way forward; multiplies the gradient by ``-scale`` on the way back.

    The gradient-reversal layer of Ganin & Lempitsky (2015): placed between a
    feature extractor and an adversary, one backward pass trains the adversary
    to succeed and the features to make it fail.

    Examples
    --------
    >>> import torch
    >>> x = torch.ones(3, requires_grad=True)
    >>> reverse_gradient(x, scale=0.5).sum().backward()
    >>> x.grad
    tensor([-0.5000, -0.5000, -0.5000])
    """
    return _ReverseGradient.apply(x, float(scale))


class GradientReversal(nn.Module):
    """Module form of :func:`reverse_gradient`; ``scale`` may change during training."""

    def __init__(self, scale=1.0):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return reverse_gradient(x, self.scale)

    def extra_repr(self):
        return f"scale={self.scale}"


class Dropout(nn.Dropout):
    """``torch.nn.Dropout`` drawing its masks from ``generator`` when one is set.

    The engine's nets set it to the fit's own generator while they train
    (:class:`~sklearn_adv.nn.BaseNet`), so that fits running in threads side
    by side do not draw from torch's global generator, and each gives what it
    gives alone. Without a generator it is ``torch.nn.Dropout``; with one, the
    same masks as ``torch.nn.Dropout`` from a global generator in that state.
    """

    generator = None

    def forward(self, input):
        if not (self.training and self.p > 0 and self.generator is not None):
            return super().forward(input)
        if self.p == 1:
            return input * 0.0
        mask = torch.empty_like(input).bernoulli_(1 - self.p, generator=self.generator).div_(1 - self.p)
        return input * mask


class GaussianNoise(nn.Module):
    """Adds ``N(0, std**2)`` noise to its input while training; the identity in evaluation mode.

    The regulariser of the semi-supervised GAN's discriminator (Salimans et
    al. 2016 add it to the input and to every hidden layer). Like
    :class:`Dropout`, it draws from ``generator`` when one is set (the
    engine's nets set the fit's own while they train), else from torch's
    global generator.

    Examples
    --------
    >>> import torch
    >>> layer = GaussianNoise(0.5).eval()
    >>> bool((layer(torch.ones(3)) == 1).all())
    True
    """

    generator = None

    def __init__(self, std=0.1):
        super().__init__()
        self.std = float(std)

    def forward(self, input):
        if not (self.training and self.std > 0):
            return input
        noise = torch.empty_like(input).normal_(0.0, self.std, generator=self.generator)
        return input + noise

    def extra_repr(self):
        return f"std={self.std}"


class WeightNormLinear(nn.Linear):
    """A linear layer with weight normalisation (Salimans & Kingma 2016): ``weight = scale * v / ||v||`` per output.

    The direction ``v`` (``weight``) and the length ``scale`` of each
    output unit's weights are learned apart, which speeds up and steadies
    the training of a GAN's discriminator. Not
    ``torch.nn.utils.parametrizations.weight_norm``: a parametrized module
    does not pickle, and the engine's models must. Initialised as
    ``nn.Linear`` (``scale`` starts at the norms of the initial weights, so
    the layer starts as that linear layer).

    Examples
    --------
    >>> import torch
    >>> layer = WeightNormLinear(3, 2)
    >>> torch.allclose(layer(torch.ones(1, 3)), torch.nn.functional.linear(torch.ones(1, 3), layer.weight, layer.bias))
    True
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__(in_features, out_features, bias)
        self.scale = nn.Parameter(self.weight.detach().norm(dim=1))

    def forward(self, input):
        weight = self.weight * (self.scale / self.weight.norm(dim=1)).unsqueeze(1)
        return nn.functional.linear(input, weight, self.bias)
