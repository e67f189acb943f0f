"""GAN losses, registered as ``gan_loss`` plugins.

A GAN loss is a ``torch.nn.Module`` (without parameters) with two methods,
called by :class:`~sklearn_adv.nn.gan.GANNet` at every step:

``discriminator_loss(real_realness, fake_realness, *, real, fake, discriminate[, generator])``
    The discriminator's loss from its realness scores of real and fake rows
    (one score per pack); ``discriminate(x)`` scores other rows, for
    penalties on interpolates. A loss that draws random numbers takes a
    ``generator`` keyword too: the fit's own ``torch.Generator``, to draw
    from instead of torch's global generator, so that fits in threads side
    by side stay reproducible.
``generator_loss(fake_realness)``
    The generator's adversarial loss.
``mixup_loss(realness, real_share)`` (optional)
    The discriminator's loss on packs mixing real and generated rows, whose
    target is the real rows' share; a loss with it supports mixup for the
    discriminator (``GANAugmenter(discriminator_mixup=...)``).

A loss with targets takes a ``label_smoothing`` parameter: one-sided label
smoothing of the real targets (``GANAugmenter(discriminator_label_smoothing=...)``).

The auxiliary-classifier (AC-GAN) and condition terms are added by the net
for every loss, so any loss here conditions on labels. Register your own
with ``sklearn_adv.plugins.register("gan_loss", "name", cls)`` and pass
``loss="name"`` to :class:`~sklearn_adv.GANAugmenter`.

Examples
--------
>>> import torch
>>> from sklearn_adv import plugins
>>> loss = plugins.resolve("gan_loss", "bce")()
>>> float(loss.generator_loss(torch.zeros(4)))  # log 2
0.6931...
"""

import torch
from torch import nn
from torch.nn import functional as F

from sklearn_adv import plugins

__all__ = ["BCELoss", "WGANGPLoss"]


@plugins.register("gan_loss", "bce")
@plugins.register("gan_loss", "acgan")
class BCELoss(nn.Module):
    """The non-saturating GAN loss (Goodfellow et al. 2014) with an auxiliary classifier (AC-GAN).

    The discriminator minimises the binary cross-entropy of real (1) against
    fake (0) packs; the generator minimises ``-log D(G(z))`` rather than
    ``log(1 - D(G(z)))``, whose gradient vanishes while the discriminator wins.
    Registered as ``"bce"`` and ``"acgan"``; the class terms of AC-GAN
    (Odena et al. 2017) are added when the GAN is conditioned on a label.

    Parameters
    ----------
    label_smoothing : float, default=0.0
        Real targets are ``1 - label_smoothing`` (one-sided smoothing,
        Salimans et al. 2016).
    """

    def __init__(self, label_smoothing=0.0):
        super().__init__()
        self.label_smoothing = label_smoothing

    def discriminator_loss(self, real_realness, fake_realness, *, real=None, fake=None, discriminate=None):
        real_target = torch.full_like(real_realness, 1.0 - self.label_smoothing)
        return F.binary_cross_entropy_with_logits(real_realness, real_target) + F.binary_cross_entropy_with_logits(
            fake_realness, torch.zeros_like(fake_realness)
        )

    def generator_loss(self, fake_realness):
        return F.binary_cross_entropy_with_logits(fake_realness, torch.ones_like(fake_realness))

    def mixup_loss(self, realness, real_share):
        """Binary cross-entropy of the realness of mixed packs to their real share, smoothed as the real targets."""
        return F.binary_cross_entropy_with_logits(realness, real_share * (1.0 - self.label_smoothing))


@plugins.register("gan_loss", "wgan_gp")
class WGANGPLoss(nn.Module):
    """The Wasserstein loss with gradient penalty (Gulrajani et al. 2017), as CTGAN trains.

    The critic maximises ``E[D(real)] - E[D(fake)]`` while the norm of its
    gradient at random interpolates of real and fake packs is held near 1 by
    ``penalty * (||grad|| - 1) ** 2``; the generator maximises ``E[D(fake)]``.

    Parameters
    ----------
    penalty : float, default=10.0
    """

    def __init__(self, penalty=10.0):
        super().__init__()
        self.penalty = penalty

    def discriminator_loss(self, real_realness, fake_realness, *, real, fake, discriminate, generator=None):
        loss = fake_realness.mean() - real_realness.mean()
        if self.penalty:
            penalty = gradient_penalty(discriminate, real, fake, pac=_pac(real, real_realness), generator=generator)
            loss = loss + self.penalty * penalty
        return loss

    def generator_loss(self, fake_realness):
        return -fake_realness.mean()


def _pac(real, realness):
    return max(1, real.shape[0] // max(realness.shape[0], 1))


def gradient_penalty(discriminate, real, fake, pac=1, generator=None):
    """Mean of ``(||grad D(x_hat)|| - 1) ** 2`` over packs of interpolates ``x_hat`` of real and fake rows.

    One mixing weight per pack, drawn from ``generator`` (torch's global
    generator when None), and the gradient norm taken over the whole pack,
    as the critic sees it.
    """
    n_packs = real.shape[0] // pac
    alpha = torch.rand(n_packs, 1, device=real.device, generator=generator).repeat_interleave(pac, dim=0)
    alpha = alpha.reshape(-1, *([1] * (real.ndim - 1)))
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = discriminate(mixed)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = grad.reshape(n_packs, -1).norm(2, dim=1)
    return ((norms - 1.0) ** 2).mean()
