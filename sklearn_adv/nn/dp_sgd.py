"""DP-SGD's gradient: per-row gradients clipped to a norm, summed, and noised (Abadi et al. 2016).

A row's gradient with respect to a linear layer's weight is the outer
product of the gradient at the layer's output and the layer's input. Both
are at hand after one ordinary backward pass, so the norm of every row's
gradient and the sum of the clipped gradients come from a few matrix
products, without materialising a gradient per row for linear layers (the
"ghost norm" of Goodfellow 2015 and Li et al. 2022). Convolutions unfold
their input and form each row's gradient explicitly, which is cheap for the
small discriminators this serves. The cost is about one backward pass,
where per-row gradients by hooks or by ``vmap`` cost many.

Supported networks have their trainable parameters in ``nn.Linear`` and
``nn.Conv2d`` layers only, each called once per forward pass, and nothing
that mixes rows (no batch normalisation): otherwise a row's gradient is not
its own, and no clipping bounds its influence. :class:`ClippedGradients`
refuses other networks with an error that names the layer.
"""

from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

_ROW_MIXING = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.InstanceNorm1d, nn.InstanceNorm2d)


class ClippedGradients:
    """Per-row clipped gradients of ``module``'s parameters, summed over rows.

    Use :meth:`recording` around the forward pass of the private rows, then
    :meth:`clipped_sum` with each row's loss.

    Parameters
    ----------
    module : torch.nn.Module
        A network whose trainable parameters all sit in ``nn.Linear`` or
        ``nn.Conv2d`` layers (zero padding, one group), without
        parametrizations such as spectral normalisation and without batch
        normalisation.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_adv.nn.dp_sgd import ClippedGradients
    >>> net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    >>> clipped = ClippedGradients(net)
    >>> x = torch.randn(5, 3)
    >>> with clipped.recording():
    ...     losses = net(x).squeeze(1) ** 2
    >>> grads, norms = clipped.clipped_sum(losses, max_grad_norm=1.0)
    >>> norms.shape, grads[net[0].weight].shape
    (torch.Size([5]), torch.Size([8, 3]))
    """

    def __init__(self, module):
        self.module = module
        self.layers = []
        for name, layer in module.named_modules():
            if isinstance(layer, _ROW_MIXING):
                raise ValueError(
                    f"Layer {name!r} ({type(layer).__name__}) mixes the rows of a batch, so no row's gradient is its "
                    "own and clipping cannot bound it; use a network without batch normalisation (e.g. layer "
                    "normalisation or none) for differentially private training."
                )
            own = [p for p in layer.parameters(recurse=False) if p.requires_grad]
            if parametrize.is_parametrized(layer):
                raise ValueError(
                    f"Layer {name!r} has parametrized weights (e.g. spectral normalisation), whose per-row gradients "
                    "this engine does not compute; turn it off for differentially private training."
                )
            if not own:
                continue
            if isinstance(layer, nn.Conv2d) and (layer.groups != 1 or layer.padding_mode != "zeros"
                                                 or isinstance(layer.padding, str)):
                raise ValueError(f"Convolution {name!r}: only zero padding given as numbers, with one group, is supported.")
            if not isinstance(layer, (nn.Linear, nn.Conv2d)):
                raise ValueError(
                    f"Layer {name!r} ({type(layer).__name__}) has trainable parameters; differentially private "
                    "training supports networks whose parameters are in Linear and Conv2d layers only."
                )
            self.layers.append(layer)
        self._records = None

    @contextmanager
    def recording(self):
        """Record each layer's input and output during the forward passes inside the block."""
        records = {}

        def hook(layer, args, output):
            if layer in records:
                raise RuntimeError("A layer ran twice in one recorded forward pass; record one pass of the private rows.")
            records[layer] = (args[0].detach(), output)
            # The network goes on with a copy, so that an in-place operation
            # after the layer cannot rewrite the recorded output.
            return output.clone()

        handles = [layer.register_forward_hook(hook) for layer in self.layers]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()
        self._records = records

    def clipped_sum(self, row_losses, max_grad_norm):
        """The sum over rows of each row's gradient, scaled down to norm at most ``max_grad_norm``.

        Parameters
        ----------
        row_losses : tensor of shape (n,)
            Each row's loss, computed from the recorded forward pass.
        max_grad_norm : float
            The clipping norm: each row's gradient over all parameters is
            scaled to at most this L2 norm.

        Returns
        -------
        grads : dict
            Parameter -> summed clipped gradient, for every trainable parameter.
        norms : tensor of shape (n,)
            Each row's gradient norm before clipping.
        """
        if not self._records:
            raise RuntimeError("Call clipped_sum after a forward pass inside recording().")
        layers = list(self._records)
        outputs = [self._records[layer][1] for layer in layers]
        output_grads = torch.autograd.grad(row_losses.sum(), outputs, allow_unused=True)
        parts, squared = [], torch.zeros_like(row_losses.detach())
        for layer, grad_out in zip(layers, output_grads):
            if grad_out is None:  # a layer the losses do not depend on
                continue
            weight_part, bias_part = _per_row_parts(layer, self._records[layer][0], grad_out)
            squared = squared + weight_part.sq_norms + (bias_part.pow(2).sum(1) if bias_part is not None else 0)
            parts.append((layer, weight_part, bias_part))
        norms = squared.sqrt()
        scale = (max_grad_norm / norms.clamp_min(1e-12)).clamp(max=1.0)
        grads = {}
        for layer, weight_part, bias_part in parts:
            grads[layer.weight] = weight_part.weighted_sum(scale).reshape(layer.weight.shape)
            if bias_part is not None:
                grads[layer.bias] = scale @ bias_part
        self._records = None
        return grads, norms


class _LinearWeight:
    """A linear layer's per-row weight gradients ``b_i a_i^T``, held as the factors ``a`` and ``b``."""

    def __init__(self, inputs, grad_out):
        self.inputs, self.grad_out = inputs, grad_out
        self.sq_norms = inputs.pow(2).sum(1) * grad_out.pow(2).sum(1)

    def weighted_sum(self, scale):
        return (self.grad_out * scale[:, None]).T @ self.inputs


class _ExplicitWeight:
    """Per-row weight gradients formed explicitly, shaped ``(n, out, in)``."""

    def __init__(self, per_row):
        self.per_row = per_row
        self.sq_norms = per_row.pow(2).flatten(1).sum(1)

    def weighted_sum(self, scale):
        return torch.einsum("n,noi->oi", scale, self.per_row)


def _per_row_parts(layer, inputs, grad_out):
    """``(weight part, per-row bias gradients or None)`` of one layer's call."""
    has_bias = layer.bias is not None and layer.bias.requires_grad
    if isinstance(layer, nn.Linear):
        if inputs.dim() == 2:
            return _LinearWeight(inputs, grad_out), (grad_out if has_bias else None)
        # Extra dimensions (sequences, packs): each row's gradient sums over them.
        a, b = inputs.flatten(1, -2), grad_out.flatten(1, -2)
        return _ExplicitWeight(torch.einsum("nto,nti->noi", b, a)), (b.sum(1) if has_bias else None)
    a = F.unfold(inputs, layer.kernel_size, dilation=layer.dilation, padding=layer.padding, stride=layer.stride)
    b = grad_out.flatten(2)
    return _ExplicitWeight(torch.einsum("nol,nil->noi", b, a)), (b.sum(2) if has_bias else None)


def add_noise(grads, max_grad_norm, noise_multiplier, generator=None):
    """Gaussian noise of standard deviation ``noise_multiplier * max_grad_norm`` added to each summed gradient."""
    return {
        param: grad + torch.randn(grad.shape, generator=generator, device=grad.device, dtype=grad.dtype)
        * (noise_multiplier * max_grad_norm)
        for param, grad in grads.items()
    }
