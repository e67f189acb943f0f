"""The GAN's networks: output activations of tabular generators, conditional wrappers, DCGAN bodies for images.

:class:`~sklearn_adv.nn.gan.GANNet` trains them; the DCGAN bodies are
registered as the ``network`` plugins ``"dcgan_generator"`` and
``"dcgan_discriminator"``.
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from sklearn_adv import plugins
from sklearn_adv.nn.layers import Dropout, WeightNormLinear
from sklearn_adv.nn.networks import make_activation

__all__ = [
    "BoundedOutput",
    "ConditionalDiscriminator",
    "ConditionalGenerator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "SemiSupervisedDiscriminator",
    "SpanActivation",
    "apply_spectral_norm",
]


class SpanActivation(nn.Module):
    """Output activations of a tabular generator, span by span of a TabularEncoder layout.

    ``tanh`` on numeric scalars (mode-specific normalisation keeps them in
    [-1, 1]), a Gumbel-softmax with temperature ``tau`` on every one-hot
    block (modes and categories), and a sigmoid on missing-value indicators.
    The Gumbel noise is drawn in evaluation mode too, so sampled rows draw
    their categories and modes rather than take the most probable ones.

    Parameters
    ----------
    spans : list of (start, stop, kind)
        ``kind`` as in :class:`~sklearn_adv.preprocessing.Span`: ``"numeric"``,
        ``"mode"``, ``"onehot"`` or ``"missing"``.
    tau : float, default=0.2
    standard_numeric : bool, default=False
        Leave numeric scalars unbounded (``numeric="standard"`` encodings).

    Calling it with ``soft=False`` skips the softmax: every one-hot block
    then holds Gumbel-perturbed logits, whose argmax is a category (or mode)
    drawn with the same probabilities as the argmax of the softmax output
    (the temperature does not change an argmax). That is all that decoding
    a row reads (an argmax per block), for less work; the noise is drawn
    from uniform numbers, faster, so that the categories drawn differ from
    those of ``soft=True`` for the same generator state.
    """

    def __init__(self, spans, tau=0.2, standard_numeric=False):
        super().__init__()
        self.spans = [(int(a), int(b), str(kind)) for a, b, kind in spans]
        self.tau = tau
        self.standard_numeric = standard_numeric

    def forward(self, raw, generator=None, soft=True):
        # One draw of Gumbel noise for all blocks: argmax(logits + noise) samples
        # a category, so generated rows draw their categories, in training and
        # after; from ``generator`` when given, else torch's global generator.
        if not soft:
            return self._scores(raw, generator)
        gumbel = -torch.empty_like(raw).exponential_(generator=generator).log()
        parts = []
        for start, stop, kind in self.spans:
            block = raw[:, start:stop]
            if kind == "numeric":
                parts.append(block if self.standard_numeric else torch.tanh(block))
            elif kind == "missing":
                parts.append(torch.sigmoid(block))
            else:
                parts.append(F.softmax((block + gumbel[:, start:stop]) / self.tau, dim=1))
        return torch.cat(parts, dim=1)

    def _scores(self, raw, generator):
        """The output with Gumbel-perturbed logits in place of every softmax: one pass, then the few scalars.

        The Gumbel noise is ``-log(-log(U))`` of uniform numbers ``U``: the
        distribution of ``-log(E)`` for ``E ~ Exp(1)``, which the softmax
        path draws, at a fraction of the cost of torch's ``exponential_`` on
        a CPU (about a quarter of a sample's time otherwise), from other
        numbers. ``U = 0`` gives ``-inf``, the limit of the lower tail.
        """
        out = raw - torch.empty_like(raw).uniform_(generator=generator).log_().neg_().log_()
        for start, stop, kind in self.spans:
            if kind == "numeric":
                out[:, start:stop] = raw[:, start:stop] if self.standard_numeric else torch.tanh(raw[:, start:stop])
            elif kind == "missing":
                out[:, start:stop] = torch.sigmoid(raw[:, start:stop])
        return out


class ConditionalGenerator(nn.Module):
    """``output(body(cat(z, cond)))``: a body network on noise and condition, then output activations."""

    def __init__(self, body, output=None):
        super().__init__()
        self.body = body
        self.output = output if output is not None else nn.Identity()

    def forward(self, z, cond=None, return_raw=False, generator=None, soft=True):
        """Fake rows; ``generator`` is what random output activations draw from (None: torch's global one).

        ``soft=False`` gives a :class:`SpanActivation` output its one-hot
        blocks as Gumbel-perturbed logits, not probabilities: an argmax
        drawn as the softmax's is, for rows that are only decoded.
        """
        inputs = z if cond is None or cond.shape[1] == 0 else torch.cat([z, cond], dim=1)
        raw = self.body(inputs)
        if isinstance(self.output, SpanActivation):
            out = self.output(raw, generator=generator, soft=soft)
        else:
            out = self.output(raw)
        return (out, raw) if return_raw else out


class ConditionalDiscriminator(nn.Module):
    """Realness of packs of ``pac`` rows (or images) and, optionally, the class of each row.

    ``body`` maps a pack (``pac`` rows concatenated with their conditions, or
    ``pac`` images stacked along the channels) to features; a linear head
    gives one realness logit per pack, and an auxiliary head ``pac * n_classes``
    class logits (AC-GAN).

    ``forward(x, cond)`` takes ``x`` of shape ``(n, ...)`` with ``n`` a
    multiple of ``pac`` and returns ``(realness of shape (n // pac,),
    class logits of shape (n, n_classes) or None)``.
    """

    def __init__(self, body, n_features, pac=1, n_classes=0):
        super().__init__()
        self.body = body
        self.pac = int(pac)
        self.n_classes = int(n_classes)
        self.realness = nn.Linear(n_features, 1)
        self.classes = nn.Linear(n_features, self.pac * self.n_classes) if self.n_classes else None

    def pack(self, x, cond=None):
        n = x.shape[0]
        if n % self.pac:
            raise ValueError(f"The discriminator packs {self.pac} rows; got a batch of {n} rows.")
        if x.ndim == 2:
            if cond is not None and cond.shape[1]:
                x = torch.cat([x, cond], dim=1)
            return x.reshape(n // self.pac, -1)
        # Images: a pack stacks its images along the channels.
        return x.reshape(n // self.pac, self.pac * x.shape[1], *x.shape[2:])

    def forward(self, x, cond=None):
        features = self.body(self.pack(x, cond))
        features = features.reshape(features.shape[0], -1)
        realness = self.realness(features).reshape(-1)
        logits = self.classes(features).reshape(x.shape[0], self.n_classes) if self.classes is not None else None
        return realness, logits


class SemiSupervisedDiscriminator(nn.Module):
    """A discriminator that is a classifier: ``n_classes`` class logits, the "fake" logit fixed at 0.

    The parametrisation of Salimans et al. (2016): a K-class classifier
    read as a (K + 1)-class one whose extra, "fake", logit is 0, so that the
    probability that ``x`` is real is ``Z / (Z + 1)`` with
    ``Z = sum_k exp(logit_k)``: the realness logit is ``logsumexp(logits)``.
    A binary GAN loss on the realness and a cross-entropy on the class
    logits of labelled rows then train one network.

    ``forward(x, cond=None)`` returns ``(realness of shape (n,), class
    logits of shape (n, n_classes), features of shape (n, n_features))``;
    the features (the body's output) are what feature matching compares.

    Parameters
    ----------
    body : nn.Module
        Maps ``x`` to features.
    n_features : int
        Size of the flattened features.
    n_classes : int
    weight_norm : bool, default=True
        Weight normalisation of the class layer, as of the body's layers in
        the paper.

    Examples
    --------
    >>> import torch
    >>> disc = SemiSupervisedDiscriminator(torch.nn.Linear(4, 8), 8, 3)
    >>> realness, logits, features = disc(torch.zeros(5, 4))
    >>> realness.shape, logits.shape, features.shape
    (torch.Size([5]), torch.Size([5, 3]), torch.Size([5, 8]))
    """

    pac = 1

    def __init__(self, body, n_features, n_classes, weight_norm=True):
        super().__init__()
        self.body = body
        self.n_classes = int(n_classes)
        linear = WeightNormLinear if weight_norm else nn.Linear
        self.classes = linear(int(n_features), self.n_classes)

    def forward(self, x, cond=None):
        features = self.body(x).reshape(x.shape[0], -1)
        logits = self.classes(features)
        return torch.logsumexp(logits, dim=1), logits, features


class BoundedOutput(nn.Module):
    """``low + (high - low) * sigmoid(x)``, feature by feature: a generator's output within the data's range.

    Parameters
    ----------
    low, high : array-like of the output's shape (one row, or one image)
        The range of each feature, e.g. its minimum and maximum in fit;
        a feature with ``low == high`` is that constant.

    Examples
    --------
    >>> import torch
    >>> out = BoundedOutput([0.0, 1.0], [1.0, 1.0])
    >>> out(torch.zeros(1, 2))
    tensor([[0.5000, 1.0000]])
    """

    def __init__(self, low, high):
        super().__init__()
        low = torch.as_tensor(np.asarray(low, dtype=np.float32))
        self.register_buffer("low", low)
        self.register_buffer("span", torch.as_tensor(np.asarray(high, dtype=np.float32)) - low)

    def forward(self, x):
        return self.low + self.span * torch.sigmoid(x.reshape(x.shape[0], *self.low.shape))


@plugins.register("network", "dcgan_generator")
class DCGANGenerator(nn.Module):
    """DCGAN-style generator: a linear map to a small feature map, then upsampling convolutions.

    Parameters
    ----------
    in_shape : int or tuple of int
        Size of the input (noise and condition together).
    out_features : tuple of int
        ``(channels, height, width)`` of the images made.
    channels : tuple of int, default=(64, 32)
        Channels of the feature maps, one upsampling (x2) block each; the
        first map is ``ceil(H / 2**len(channels))`` by ``ceil(W / ...)``.

    The output is ``tanh``: images in [-1, 1], cropped to ``(H, W)``.

    Examples
    --------
    >>> import torch
    >>> DCGANGenerator(16, (1, 8, 8))(torch.zeros(3, 16)).shape
    torch.Size([3, 1, 8, 8])
    """

    def __init__(self, in_shape, out_features, channels=(64, 32), activation="relu"):
        super().__init__()
        in_features = int(in_shape) if isinstance(in_shape, int) else int(np.prod(in_shape))
        self.image_shape = tuple(int(s) for s in out_features)
        n_channels, height, width = self.image_shape
        factor = 2 ** len(channels)
        self.start = (channels[0], math.ceil(height / factor), math.ceil(width / factor))
        self.project = nn.Sequential(
            nn.Linear(in_features, int(np.prod(self.start))),
            nn.BatchNorm1d(int(np.prod(self.start))),
            make_activation(activation),
        )
        layers = []
        widths = list(channels) + [channels[-1]]
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.BatchNorm2d(c_out),
                make_activation(activation),
            ]
        layers += [nn.Conv2d(widths[-1], n_channels, 3, padding=1), nn.Tanh()]
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        maps = self.project(x).reshape(x.shape[0], *self.start)
        images = self.layers(maps)
        _, height, width = self.image_shape
        return images[:, :, :height, :width]


@plugins.register("network", "dcgan_discriminator")
class DCGANDiscriminator(nn.Module):
    """DCGAN-style discriminator body: strided convolutions with LeakyReLU, then flattening.

    Parameters
    ----------
    in_shape : tuple of int
        ``(channels, height, width)``.
    out_features : int or None
        ``None`` (as a GAN uses it) returns the flattened features.
    channels : tuple of int, default=(32, 64)
    dropout : float, default=0.25

    Examples
    --------
    >>> import torch
    >>> DCGANDiscriminator((1, 8, 8), None)(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 256])
    """

    def __init__(self, in_shape, out_features=None, channels=(32, 64), dropout=0.25):
        super().__init__()
        c_in, height, width = (int(s) for s in in_shape)
        layers = []
        for c_out in channels:
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
            if dropout:
                layers.append(Dropout(dropout))
            c_in, height, width = c_out, (height + 1) // 2, (width + 1) // 2
        layers.append(nn.Flatten())
        if out_features is not None:
            layers.append(nn.Linear(c_in * height * width, out_features))
        self.out_features = c_in * height * width if out_features is None else out_features
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


def apply_spectral_norm(module):
    """Put spectral normalisation (Miyato et al. 2018) on every linear and convolution layer of ``module``."""
    for name, child in list(module.named_children()):
        if isinstance(child, (nn.Linear, nn.Conv2d, nn.Conv1d, nn.ConvTranspose2d)):
            setattr(module, name, nn.utils.parametrizations.spectral_norm(child))
        else:
            apply_spectral_norm(child)
    return module
