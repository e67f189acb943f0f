"""Network builders: an MLP for rows, a small conv net for images.

Every network role of every estimator (encoder, head, adversary, generator,
discriminator, ...) is built by :func:`build_network` from a registered name,
a ``torch.nn.Module`` class or an instance. A class is called as
``cls(in_shape, out_features, **params)``: ``in_shape`` is ``(n_features,)``
for rows or ``(channels, height, width)`` for images, so a user's own network
only has to accept those two arguments first.
"""

import math

import torch
from torch import nn

from sklearn_adv import plugins
from sklearn_adv.nn.layers import Dropout, GaussianNoise, WeightNormLinear

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "selu": nn.SELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softplus": nn.Softplus,
}


def make_activation(activation):
    """An activation module from a name in ``_ACTIVATIONS`` or a module class."""
    if isinstance(activation, str):
        try:
            return _ACTIVATIONS[activation]()
        except KeyError:
            raise ValueError(
                f"Unknown activation {activation!r}; expected one of {sorted(_ACTIVATIONS)} "
                "or a torch.nn.Module class."
            ) from None
    return activation()


def _as_shape(in_shape):
    return (int(in_shape),) if isinstance(in_shape, int) else tuple(int(s) for s in in_shape)


@plugins.register("network", "mlp")
class MLP(nn.Module):
    """Fully connected network: ``hidden_units`` layers of Linear, [BatchNorm], activation, [Dropout], [noise].

    Parameters
    ----------
    in_shape : int or tuple of int
        Number of input features; an image shape is flattened.
    out_features : int or None
        Size of the output layer. ``None`` ends with the last hidden layer
        (activation included), for networks used as feature extractors.
    hidden_units : tuple of int, default=(64,)
    activation : str or nn.Module class, default="relu"
    dropout : float, default=0.0
    batch_norm : bool, default=False
    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to the input while training.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to every hidden layer's
        output while training (:class:`~sklearn_adv.nn.GaussianNoise`).
    weight_norm : bool, default=False
        Weight normalisation (Salimans & Kingma 2016) of the linear layers
        (:class:`~sklearn_adv.nn.WeightNormLinear`).

    Examples
    --------
    >>> import torch
    >>> MLP(4, 2, hidden_units=(8, 8))(torch.zeros(5, 4)).shape
    torch.Size([5, 2])
    """

    def __init__(self, in_shape, out_features, hidden_units=(64,), activation="relu", dropout=0.0, batch_norm=False,
                 input_noise=0.0, noise=0.0, weight_norm=False):
        super().__init__()
        in_features = math.prod(_as_shape(in_shape))
        layers = [nn.Flatten()] if not isinstance(in_shape, int) and len(_as_shape(in_shape)) > 1 else []
        if input_noise:
            layers.append(GaussianNoise(input_noise))

        def linear(n_in, n_out):
            return WeightNormLinear(n_in, n_out) if weight_norm else nn.Linear(n_in, n_out)

        for width in hidden_units:
            layers.append(linear(in_features, width))
            if batch_norm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(make_activation(activation))
            if dropout:
                layers.append(Dropout(dropout))
            if noise:
                layers.append(GaussianNoise(noise))
            in_features = width
        if out_features is not None:
            layers.append(linear(in_features, out_features))
        self.out_features = in_features if out_features is None else out_features
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


@plugins.register("network", "convnet")
class ConvNet(nn.Module):
    """Small conv net for images: blocks of Conv-[BatchNorm]-activation, pooling while the image is large.

    Each block halves the spatial size by max-pooling as long as it stays at
    least 2 pixels, so the same defaults work for 8x8 digits and 64x64 photos.
    The features are averaged over the remaining positions, then mapped to
    ``out_features`` (or returned as they are when it is ``None``).

    Parameters
    ----------
    in_shape : tuple of int
        ``(channels, height, width)``.
    out_features : int or None
    channels : tuple of int, default=(32, 64)
    kernel_size : int, default=3
    activation : str or nn.Module class, default="relu"
    batch_norm : bool, default=True
    dropout : float, default=0.0

    Examples
    --------
    >>> import torch
    >>> ConvNet((1, 8, 8), 10)(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    """

    def __init__(self, in_shape, out_features, channels=(32, 64), kernel_size=3, activation="relu", batch_norm=True, dropout=0.0):
        super().__init__()
        shape = _as_shape(in_shape)
        if len(shape) != 3:
            raise ValueError(f"ConvNet expects in_shape=(channels, height, width), got {shape}.")
        in_channels, height, width = shape
        layers = []
        for out_channels in channels:
            layers.append(nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(make_activation(activation))
            if min(height, width) >= 4:
                layers.append(nn.MaxPool2d(2))
                height, width = height // 2, width // 2
            in_channels = out_channels
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        if dropout:
            layers.append(Dropout(dropout))
        if out_features is not None:
            layers.append(nn.Linear(in_channels, out_features))
        self.out_features = in_channels if out_features is None else out_features
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


def default_network(in_shape):
    """The registered name of the default network for this input: ``"mlp"`` for rows, ``"convnet"`` for images."""
    return "convnet" if len(_as_shape(in_shape)) == 3 else "mlp"


def build_network(spec, in_shape, out_features, **params):
    """Build one network role from a name, a class, an instance or ``None`` (the default for the data).

    Parameters
    ----------
    spec : None, str, nn.Module class or nn.Module instance
    in_shape : int or tuple of int
        ``(n_features,)`` or ``(channels, height, width)``.
    out_features : int or None
    **params
        Keyword arguments for the class, e.g. ``hidden_units=(32,)``, as routed
        from an estimator's ``encoder__hidden_units``. Not allowed with an
        instance, which is used as given.

    Examples
    --------
    >>> build_network(None, (1, 8, 8), 3).__class__.__name__
    'ConvNet'
    >>> build_network("mlp", 5, 2, hidden_units=(4,)).out_features
    2
    """
    if isinstance(spec, nn.Module):
        if params:
            raise ValueError(
                f"Parameters {sorted(params)} cannot be applied to an already built "
                f"{type(spec).__name__} instance; pass the class instead."
            )
        return spec
    cls = plugins.resolve("network", default_network(in_shape) if spec is None else spec)
    if not callable(cls):
        raise TypeError(f"A network must be a registered name, a torch.nn.Module class or instance, got {spec!r}.")
    return cls(_as_shape(in_shape), out_features, **params)


def count_parameters(module):
    """Number of trainable parameters, for summaries and for choosing fair baselines."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def output_size(module, in_shape):
    """Size of the flattened output of ``module`` for one input of ``in_shape``."""
    was_training = module.training
    module.eval()
    with torch.no_grad():
        out = module(torch.zeros((1, *_as_shape(in_shape))))
    module.train(was_training)
    return out.reshape(1, -1).shape[1]
