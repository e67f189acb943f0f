"""Adversarial training on skorch: each batch is attacked inside the training step, then learned from.

:class:`RobustNet` is a :class:`~sklearn_adv.nn.BaseNet` whose training step
first perturbs the batch within an ``eps``-ball (with the engine's gradient
attacks, :mod:`sklearn_adv.nn.perturbations`), then takes one optimizer step
on the loss of the method:

``"pgd"`` (Madry et al. 2018)
    Cross-entropy of the adversarial examples found by ``attack_steps``
    steps of projected gradient ascent on the cross-entropy, from a random
    start.
``"fgsm"`` (Wong et al. 2020)
    The same with one step of ``1.25 * eps`` from a random start: the fast
    recipe.
``"trades"`` (Zhang et al. 2019)
    Cross-entropy of the clean rows plus ``beta`` times the KL divergence
    between the clean and the adversarial predictions; the attack raises
    that divergence.
``"vat"`` (Miyato et al. 2018)
    Cross-entropy of the labelled rows plus ``beta`` times the KL divergence
    between the clean prediction (held fixed) and the prediction at the
    virtual adversarial point, found by one finite-difference power
    iteration from a random probe of radius ``xi``. It needs no labels:
    rows of weight 0 in the cross-entropy (unlabelled rows) still count in
    the divergence.

``eps`` ramps up linearly from 0 over the first ``eps_warmup`` fraction of
training (``net.progress_``, see :class:`~sklearn_adv.nn.TrainingProgress`).

Data contract: ``X`` is what the module takes; ``y`` is a dict with
``"target"`` (class indices; -1 for an unlabelled row) and optionally
``"target_weight"`` (per-row weights; 0 for an unlabelled row). The module
returns ``(logits, features)``.
"""

import contextlib

import torch
import torch.nn.functional as F
from skorch.callbacks import PassthroughScoring
from skorch.dataset import unpack_data
from torch import nn

from sklearn_adv.nn.net import BaseNet, weighted_mean
from sklearn_adv.nn.perturbations import ascent_direction, clip, gradient_attack, random_start

__all__ = ["METHODS", "RobustNet"]

METHODS = ("pgd", "fgsm", "trades", "vat")


def kl_divergence(logits, reference_probs):
    """Per-row KL(reference || softmax(logits)): how far a prediction moved from the reference."""
    log_probs = F.log_softmax(logits, dim=1)
    return (reference_probs * (torch.log(reference_probs.clamp_min(1e-12)) - log_probs)).sum(dim=1)


@contextlib.contextmanager
def attack_mode(module):
    """Run ``module`` for an attack: batch statistics without updating them, dropout off.

    The attack looks for the worst input of the function the optimizer step
    trains: with batch normalisation that is the function of the batch's own
    statistics (in eval mode, early running statistics lag far behind the
    weights and the attack would target another network). It must not move
    the running statistics, though, which would then describe the
    adversarial batches twice and the clean ones once. Dropout is switched
    off so that every attack step ascends the same function rather than a
    fresh random sub-network, which makes few-step attacks weak.
    """
    changed = []
    for layer in module.modules():
        if isinstance(layer, nn.modules.batchnorm._BatchNorm) and layer.training and layer.track_running_stats:
            layer.track_running_stats = False
            changed.append((layer, "stats"))
        elif isinstance(layer, nn.Dropout) and layer.training:
            layer.eval()
            changed.append((layer, "dropout"))
    try:
        yield
    finally:
        for layer, what in changed:
            if what == "stats":
                layer.track_running_stats = True
            else:
                layer.train()


class RobustNet(BaseNet):
    """A skorch net trained on adversarial examples of its own batches.

    Parameters
    ----------
    module : nn.Module class or instance
        Returns ``(logits, features)``.
    criterion : loss class or instance with ``reduction="none"``
        The cross-entropy of the labels (``ignore_index=-1`` for unlabelled
        rows), label smoothing included.
    method : {"pgd", "fgsm", "trades", "vat"}, default="trades"
    eps : float, default=0.1
        Radius of the perturbation ball at the end of the warm-up.
    norm : {"inf", "2"}, default="inf"
    attack_steps : int, default=1
        Gradient steps of the attack (``"pgd"``, ``"trades"``; ``"fgsm"``
        and ``"vat"`` take one).
    attack_step_size : float, default=1.25
        Size of a step, as a fraction of the current ``eps``.
    beta : float, default=1.0
        Weight of the divergence term (``"trades"``, ``"vat"``).
    xi : float, default=1.0
        Radius of VAT's random probe (relative to nothing: an input-space
        distance); large enough for the finite difference to survive float32.
    eps_warmup : float, default=0.0
        Fraction of training over which ``eps`` ramps up from 0.
    lower, upper : float or tensor, optional
        Bounds of valid inputs; adversarial examples are clipped to them.
    **kwargs
        Everything :class:`~sklearn_adv.nn.BaseNet` takes.

    Attributes
    ----------
    eps_ : float
        The radius used at the last training batch.
    history : skorch History
        Per epoch, beside ``train_loss``: ``adversarial_accuracy``, the
        accuracy on the attacked labelled training rows (on the clean rows
        while ``eps`` is 0); per batch ``eps`` and ``adversarial_accuracy``.
    """

    def __init__(self, module, *args, method="trades", eps=0.1, norm="inf", attack_steps=1, attack_step_size=1.25,
                 beta=1.0, xi=1.0, eps_warmup=0.0, lower=None, upper=None, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.method = method
        self.eps = eps
        self.norm = norm
        self.attack_steps = attack_steps
        self.attack_step_size = attack_step_size
        self.beta = beta
        self.xi = xi
        self.eps_warmup = eps_warmup
        self.lower = lower
        self.upper = upper

    @property
    def _default_callbacks(self):
        return [
            *super()._default_callbacks[:-1],
            ("adversarial_accuracy", PassthroughScoring(name="adversarial_accuracy", on_train=True, lower_is_better=False)),
            super()._default_callbacks[-1],  # print_log last, so that it shows the score above
        ]

    def current_eps(self):
        """``eps`` scaled by the warm-up: linear from 0 over the first ``eps_warmup`` of training."""
        progress = getattr(self, "progress_", 1.0)
        if self.eps_warmup <= 0 or progress >= self.eps_warmup:
            return float(self.eps)
        return float(self.eps) * progress / self.eps_warmup

    def _bounds(self, x):
        as_tensor = lambda b: b if b is None or not isinstance(b, torch.Tensor) else b.to(x.device, x.dtype)  # noqa: E731
        return as_tensor(self.lower), as_tensor(self.upper)

    def _logits(self, x):
        return self.module_(x)[0]

    def adversarial_examples(self, x, target, clean_logits, eps):
        """The batch's adversarial examples for the method, at radius ``eps``, detached."""
        lower, upper = self._bounds(x)
        generator = self.device_generator_
        with attack_mode(self.module_):
            if self.method == "vat":
                # One power iteration from a random probe (Miyato et al. 2018), the finite
                # difference taken at radius xi so that it survives float32.
                reference = F.softmax(clean_logits.detach(), dim=1)
                probe = random_start(x, self.xi, self.norm, generator).requires_grad_(True)
                with torch.enable_grad():
                    divergence = kl_divergence(self._logits(x.detach() + probe), reference).sum()
                    grad, = torch.autograd.grad(divergence, probe)
                return clip(x.detach() + eps * ascent_direction(grad, self.norm), lower, upper).detach()
            steps = 1 if self.method == "fgsm" else self.attack_steps
            if self.method == "trades":
                loss, attack_target = kl_divergence, F.softmax(clean_logits.detach(), dim=1)
            else:
                loss, attack_target = _cross_entropy, target
            return gradient_attack(
                self._logits, x, attack_target, eps=eps, norm=self.norm, steps=steps,
                step_size=self.attack_step_size * eps, random_init=True, lower=lower, upper=upper, loss=loss,
                success=None, generator=generator, keep_best=False,
            )

    def train_step_single(self, batch, **fit_params):
        """Attack the batch, then compute the method's loss and its gradients."""
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        x = Xi.to(self.device)
        target = yi["target"].to(self.device)
        weight = yi["target_weight"].to(self.device) if "target_weight" in yi else None
        labelled = (target >= 0).to(x.dtype) if weight is None else weight * (target >= 0).to(weight.dtype)
        self.eps_ = eps = self.current_eps()

        clean_logits = self.module_(x)[0] if self.method in ("trades", "vat") else None
        x_adv = self.adversarial_examples(x, target, clean_logits, eps) if eps > 0 else x
        adv_logits = self.module_(x_adv)[0] if (eps > 0 or clean_logits is None) else clean_logits

        if self.method in ("pgd", "fgsm"):
            loss = weighted_mean(self.criterion_(adv_logits, target), labelled)
        else:
            supervised = weighted_mean(self.criterion_(clean_logits, target), labelled)
            reference = F.softmax(clean_logits if self.method == "trades" else clean_logits.detach(), dim=1)
            # VAT's divergence counts every row, unlabelled ones included; TRADES's the labelled rows.
            rows = labelled if self.method == "trades" else (torch.ones_like(labelled) if weight is None else weight)
            loss = supervised + self.beta * weighted_mean(kl_divergence(adv_logits, reference), rows)
        loss.backward()
        self._record(target, adv_logits)
        return {"loss": loss, "y_pred": adv_logits}

    def _record(self, target, adv_logits):
        self.history.record_batch("eps", self.eps_)
        known = target >= 0
        correct = (adv_logits.detach().argmax(1) == target)[known]
        self.history.record_batch("adversarial_accuracy", correct.float().mean().item() if len(correct) else float("nan"))


def _cross_entropy(logits, target):
    return F.cross_entropy(logits, target, reduction="none", ignore_index=-1)
