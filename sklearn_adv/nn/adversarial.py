"""Adversarial (min-max) training on skorch: a main module against an adversary.

DANN's domain classifier, FairClassifier's attribute predictor and, through
the same hooks, other adversaries are trained here: the main module learns
its task while making the adversary fail. Two ways of training are offered:

``training="reversal"``
    One optimizer, one backward pass: the adversary reads the main module's
    representation through a gradient-reversal layer scaled by the current
    adversary weight (Ganin et al. 2016).
``training="alternating"``
    Two optimizers: ``adversary_steps`` steps of the adversary on the
    detached representation, then one step of the main module on
    ``main_loss + weight * fooling_loss``, where the fooling loss is
    ``-adversary_loss`` unless a subclass overrides :meth:`AdversarialNet.get_fooling_loss`
    (Edwards & Storkey 2016; Zhang et al. 2018; fairlearn's adversarial classifier).

The weight follows ``adversary_weight * schedule(progress)``, where progress
runs from 0 to 1 over the fit (see :class:`~sklearn_adv.nn.callbacks.TrainingProgress`).

Data contract: ``X`` is what the main module's ``forward`` takes (a tensor or
a dict of tensors, as usual in skorch); ``y`` is a dict with

- ``"target"``: the main task's targets;
- ``"adversary"``: the adversary's targets;
- optionally ``"target_weight"`` and ``"adversary_weight"``: per-row
  weights (0 leaves a row out of that loss, e.g. unlabelled target-domain
  rows in DANN).

The main module returns ``(output, representation)``; the criteria must
return one loss per row (``reduction="none"``) so that the weights apply.
"""

import torch
from skorch.callbacks import PassthroughScoring
from skorch.dataset import unpack_data

from sklearn_adv.nn.callbacks import resolve_schedule
from sklearn_adv.nn.layers import reverse_gradient
from sklearn_adv.nn.net import BaseNet, weighted_mean


def prediction_accuracy(logits, target, weight=None):
    """Weighted accuracy of logits: one column means binary (logit > 0), more mean argmax."""
    if logits.ndim == 1 or logits.shape[1] == 1:
        correct = (logits.reshape(-1) > 0).to(target.dtype) == target.reshape(-1)
    else:
        correct = logits.argmax(dim=1) == target.reshape(-1)
    return weighted_mean(correct.float(), weight)


class EncoderHead(torch.nn.Module):
    """The main module of an adversarial net: ``x -> (head(encoder(x)), encoder(x))``.

    The encoder's output is flattened to one feature vector per row (a conv
    encoder's feature maps included), which the head and the adversary read.
    """

    def __init__(self, encoder, head):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, X):
        features = self.encoder(X).reshape(len(X), -1)
        return self.head(features), features


class AdversarialNet(BaseNet):
    """A skorch ``NeuralNet`` training ``module`` against ``adversary``.

    Parameters
    ----------
    module : nn.Module class or instance
        Returns ``(output, representation)`` for a batch ``X``.
    adversary : nn.Module class or instance
        Reads :meth:`adversary_input` and predicts ``y["adversary"]``.
    criterion : loss class or instance with ``reduction="none"``
        The main task's loss.
    adversary_criterion : loss class or instance with ``reduction="none"``
    training : {"reversal", "alternating"}, default="reversal"
    adversary_weight : float, default=1.0
        The adversary's weight at the end of its schedule.
    adversary_schedule : {"constant", "ganin"} or callable, default="constant"
        ``progress -> factor`` in [0, 1] multiplying ``adversary_weight``.
    adversary_steps : int, default=1
        Adversary steps per main step when ``training="alternating"``.
    adversary_optimizer : optimizer class or None, default=None
        Optimizer of the adversary when alternating; ``None`` uses ``optimizer``.
        Set its parameters with ``adversary_optimizer__lr=...``.
    **kwargs
        Everything :class:`skorch.NeuralNet` takes (``max_epochs``, ``lr``,
        ``batch_size``, ``callbacks``, ``device``, ``train_split``, ...) and
        routed parameters such as ``module__hidden_units`` or ``adversary__hidden_units``.

    Attributes
    ----------
    module_, adversary_ : nn.Module
    adversary_weight_ : float
        The weight used at the last training batch.
    history : skorch History
        Per epoch: ``train_loss`` (main plus adversary terms as optimised),
        ``main_loss``, ``adversary_loss`` and ``adversary_accuracy``.
    """

    # Known prefixes, so that ``adversary`` may be a module instance and
    # ``adversary__param`` reaches the adversary's class; known, the built
    # attributes are registered by :meth:`register_once` (skorch registers
    # only the attributes it does not know).
    prefixes_ = BaseNet.prefixes_ + ["adversary", "adversary_criterion", "adversary_optimizer"]

    def __init__(
        self,
        module,
        adversary,
        *args,
        criterion,
        adversary_criterion,
        training="reversal",
        adversary_weight=1.0,
        adversary_schedule="constant",
        adversary_steps=1,
        adversary_optimizer=None,
        **kwargs,
    ):
        super().__init__(module, *args, criterion=criterion, **kwargs)
        self.adversary = adversary
        self.adversary_criterion = adversary_criterion
        self.training = training
        self.adversary_weight = adversary_weight
        self.adversary_schedule = adversary_schedule
        self.adversary_steps = adversary_steps
        self.adversary_optimizer = adversary_optimizer

    @property
    def _default_callbacks(self):
        return [
            *super()._default_callbacks[:-1],
            ("main_loss", PassthroughScoring(name="main_loss", on_train=True)),
            ("adversary_loss", PassthroughScoring(name="adversary_loss", on_train=True, lower_is_better=None)),
            ("adversary_accuracy", PassthroughScoring(name="adversary_accuracy", on_train=True, lower_is_better=None)),
            super()._default_callbacks[-1],  # print_log last, so that it shows the scores above
        ]

    # -- initialisation -------------------------------------------------

    def initialize_module(self):
        if self.training not in ("reversal", "alternating"):
            raise ValueError(f"training must be 'reversal' or 'alternating', got {self.training!r}.")
        super().initialize_module()
        self.adversary_ = self.initialized_instance(self.adversary, self.get_params_for("adversary"))
        self.register_once("adversary_", self.adversary_)
        return self

    def initialize_criterion(self):
        super().initialize_criterion()
        params = self.get_params_for("adversary_criterion")
        self.adversary_criterion_ = self.initialized_instance(self.adversary_criterion, params)
        return self

    def initialize_optimizer(self, *_, **__):
        if self.training == "reversal":
            # One optimizer over the main module and the adversary together.
            return super().initialize_optimizer()
        args, kwargs = self.get_params_for_optimizer("optimizer", self.module_.named_parameters())
        self.optimizer_ = self.optimizer(*args, **kwargs)
        args, kwargs = self.get_params_for_optimizer("adversary_optimizer", self.adversary_.named_parameters())
        self.adversary_optimizer_ = (self.adversary_optimizer or self.optimizer)(*args, **kwargs)
        self.register_once("adversary_optimizer_", self.adversary_optimizer_)
        return self

    # -- hooks a subclass may override -----------------------------------

    def adversary_input(self, output, representation, y):
        """What the adversary reads: the representation by default.

        Override to let it read the prediction, or the prediction together
        with the true label (equalized odds).
        """
        return representation

    def current_adversary_weight(self):
        return float(self.adversary_weight) * resolve_schedule(self.adversary_schedule)(getattr(self, "progress_", 1.0))

    # -- losses ------------------------------------------------------------

    def get_adversary_loss(self, adversary_pred, y_true):
        losses = self.adversary_criterion_(adversary_pred, y_true["adversary"].to(self.device))
        return weighted_mean(losses, _weight(y_true, "adversary_weight", self.device))

    def get_fooling_loss(self, adversary_pred, y_true):
        """What the main module minimises against the adversary when alternating: ``-adversary_loss`` by default.

        Override with a bounded objective (e.g. the adversary's confusion) when
        maximising the adversary's loss would reward making it confidently
        wrong, which keeps the information the adversary looks for.
        """
        return -self.get_adversary_loss(adversary_pred, y_true)

    def _record_adversary(self, main_loss, adversary_loss, adversary_pred, y_true):
        accuracy = prediction_accuracy(
            adversary_pred.detach(), y_true["adversary"].to(self.device), _weight(y_true, "adversary_weight", self.device)
        )
        self.history.record_batch("main_loss", main_loss.item())
        self.history.record_batch("adversary_loss", adversary_loss.item())
        self.history.record_batch("adversary_accuracy", accuracy.item())
        self.history.record_batch("adversary_weight", self.adversary_weight_)

    # -- training steps ----------------------------------------------------

    def train_step_single(self, batch, **fit_params):
        """One reversal step: main loss plus the adversary's loss through gradient reversal."""
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        self.adversary_weight_ = self.current_adversary_weight()
        output, representation = self.infer(Xi, **fit_params)
        main_loss = self.get_loss((output, representation), yi, X=Xi, training=True)
        reversed_input = reverse_gradient(self.adversary_input(output, representation, yi), self.adversary_weight_)
        adversary_pred = self.adversary_(reversed_input)
        adversary_loss = self.get_adversary_loss(adversary_pred, yi)
        loss = main_loss + adversary_loss
        loss.backward()
        self._record_adversary(main_loss, adversary_loss, adversary_pred, yi)
        return {"loss": loss, "y_pred": output}

    def train_step(self, batch, **fit_params):
        if self.training == "reversal":
            return super().train_step(batch, **fit_params)
        return self._alternating_step(batch, **fit_params)

    def _alternating_step(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        self.adversary_weight_ = self.current_adversary_weight()
        output, representation = self.infer(Xi, **fit_params)
        adversary_input = self.adversary_input(output, representation, yi)

        # The adversary learns on the main module's current, frozen, representation.
        detached = adversary_input.detach()
        for _ in range(self.adversary_steps):
            self.adversary_optimizer_.zero_grad()
            adversary_loss = self.get_adversary_loss(self.adversary_(detached), yi)
            adversary_loss.backward()
            self.adversary_optimizer_.step()

        # The main module learns its task while making the adversary, as just
        # updated, fail. (Both steps from one backward pass, against the
        # adversary before its step, are a little faster but leave the
        # attribute more visible.) The adversary's parameters are frozen
        # meanwhile: the main step needs gradients through the adversary, not
        # of its weights.
        self.optimizer_.zero_grad()
        main_loss = self.get_loss((output, representation), yi, X=Xi, training=True)
        frozen = [p for p in self.adversary_.parameters() if p.requires_grad]
        for parameter in frozen:
            parameter.requires_grad_(False)
        try:
            adversary_pred = self.adversary_(adversary_input)
            loss = main_loss + self.adversary_weight_ * self.get_fooling_loss(adversary_pred, yi)
            loss.backward()
        finally:
            for parameter in frozen:
                parameter.requires_grad_(True)
        self.optimizer_.step()
        self.adversary_optimizer_.zero_grad()  # as after the adversary's own steps: no gradient left behind
        self._record_adversary(main_loss, adversary_loss.detach(), adversary_pred, yi)
        return {"loss": loss, "y_pred": output}

    def adversary_predict(self, X):
        """The adversary's logits on ``X``, read from the representation as in training, for diagnostics."""
        self._set_training(False)
        outputs = []
        with torch.no_grad():
            for output, representation in self.forward_iter(X, training=False, device=self.device):
                outputs.append(self.adversary_(self.adversary_input(output, representation, None)))
        return torch.cat(outputs).cpu()


def _weight(y, key, device):
    if isinstance(y, dict) and key in y:
        return y[key].to(device)
    return None
