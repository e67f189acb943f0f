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
