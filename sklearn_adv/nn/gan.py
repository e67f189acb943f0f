"""Conditional GAN training on skorch: a generator against a discriminator, in alternating steps.

:class:`GANNet` is the engine of :class:`~sklearn_adv.GANAugmenter`: the
engine's :class:`~sklearn_adv.nn.AdversarialNet` whose main ``module`` is the
generator and whose ``adversary`` is the discriminator, its ``train_step``
alternating ``adversary_steps`` steps of the discriminator with one step of
the generator. The adversarial loss is a
``gan_loss`` plugin (see :mod:`sklearn_adv.augmentation.gan_losses`).

Conditioning, as the conditional GANs of tables and images do it:

- a class label (``n_classes > 0``): the generator reads its one-hot and the
  discriminator predicts it with an auxiliary head (AC-GAN, Odena et al.
  2017) learned on real rows; the generator is pushed to make rows the head
  classifies as their label;
- categorical columns of a table (``cond_spans``): at every batch each row
  draws one categorical column (training-by-sampling, Xu et al. 2019: the
  loader has already drawn rows so that the categories of that column appear
  with log-frequency), the generator and the discriminator read a one-hot of
  that column's category, and a cross-entropy term asks the generator to
  honour it;
- packing (``pac > 1``): the discriminator judges ``pac`` rows at once
  (PacGAN, Lin et al. 2018), which makes mode collapse visible to it.

Data contract: ``X`` is a dict with ``"real"`` (the encoded rows or images,
float32), optionally ``"label"`` (int64 class codes) and ``"cond_weights"``
(per row and categorical column, the probability that the row is conditioned
on that column); ``y`` is ``None``.
"""

import inspect
import math
from dataclasses import dataclass

import numpy as np
import torch
from skorch.callbacks import PassthroughScoring
from skorch.dataset import unpack_data
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader, Sampler

from sklearn_adv.nn.adversarial import AdversarialNet
from sklearn_adv.nn.callbacks import DivergenceGuard
from sklearn_adv.nn.dp_sgd import ClippedGradients, add_noise
from sklearn_adv.nn.gan_networks import (
    BoundedOutput,
    ConditionalDiscriminator,
    ConditionalGenerator,
    DCGANDiscriminator,
    DCGANGenerator,
    SemiSupervisedDiscriminator,
    SpanActivation,
    apply_spectral_norm,
)
from sklearn_adv.nn.net import BaseNet, weighted_mean
from sklearn_adv.nn.perturbations import ascent_direction

__all__ = [
    "BoundedOutput",
    "ConditionalDiscriminator",
    "ConditionalGenerator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "GANNet",
    "SemiSupervisedDiscriminator",
    "SemiSupervisedGANNet",
    "PrivateTraining",
    "SpanActivation",
    "apply_spectral_norm",
    "poisson_row_loader",
    "weighted_row_loader",
]


# -- loader ------------------------------------------------------------------


class _WeightedBatches(Sampler):
    """``n_batches`` batches of ``batch_size`` row indices drawn with replacement by ``weights``.

    Draws from ``generator`` (the fit's own), or from torch's global
    generator when it is None. Not ``BatchSampler(WeightedRandomSampler(...))``:
    that draws a whole epoch's indices up front, and since training draws the
    generator's noise from the same generator between batches, the batches
    after the first would differ for the same seed.
    """

    def __init__(self, weights, batch_size, n_batches, generator=None):
        self.weights = torch.as_tensor(np.asarray(weights, dtype=np.float64))
        self.batch_size = int(batch_size)
        self.n_batches = int(n_batches)
        self.generator = generator

    def __len__(self):
        return self.n_batches

    def __iter__(self):
        for _ in range(self.n_batches):
            yield torch.multinomial(self.weights, self.batch_size, replacement=True, generator=self.generator).numpy()


def weighted_row_loader(dataset, batch_size, weights=None, pac=1, generator=None, **kwargs):
    """A skorch ``iterator_train`` drawing fixed-size batches of rows with probabilities ``weights``.

    An epoch has ``ceil(n_rows / batch_size)`` batches; every batch has
    ``batch_size`` rows (rounded down to a multiple of ``pac``, at least
    ``pac``), so packed discriminators always see whole packs. Each batch is
    fetched with one ``dataset[indices]`` call.

    Parameters
    ----------
    dataset : skorch Dataset
    batch_size : int
    weights : array-like of shape (len(dataset),) or None
        Unnormalised row probabilities; None draws rows uniformly.
    pac : int, default=1
    generator : torch.Generator or None, default=None
        Source of the batches (the fit's own); None: torch's global generator.
    **kwargs
        Passed to :class:`torch.utils.data.DataLoader`.
    """
    n_rows = len(dataset)
    weights = np.ones(n_rows) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(weights) != n_rows:
        raise ValueError(f"weights has {len(weights)} entries but the dataset has {n_rows} rows.")
    size = max(pac, (int(batch_size) // pac) * pac)
    sampler = _WeightedBatches(weights, size, max(1, math.ceil(n_rows / size)), generator)
    kwargs.pop("shuffle", None)
    # The loader draws a seed of its own at every epoch: from the same generator.
    return DataLoader(dataset, sampler=sampler, batch_size=None, generator=generator, **kwargs)



class _PoissonBatches(Sampler):
    """``n_batches`` batches of row indices, each row in each batch independently with probability ``sample_rate``.

    Poisson sampling, which DP-SGD's privacy analysis assumes: batch sizes
    vary (a batch may be empty), and no row is drawn twice in a batch.
    Draws from ``generator`` (the fit's own), or torch's global generator.
    """

    def __init__(self, n_rows, sample_rate, n_batches, generator=None):
        self.n_rows = int(n_rows)
        self.sample_rate = float(sample_rate)
        self.n_batches = int(n_batches)
        self.generator = generator

    def __len__(self):
        return self.n_batches

    def __iter__(self):
        for _ in range(self.n_batches):
            chosen = torch.rand(self.n_rows, generator=self.generator) < self.sample_rate
            yield torch.nonzero(chosen).reshape(-1).numpy()


def poisson_row_loader(dataset, sample_rate, n_batches, generator=None, **kwargs):
    """A skorch ``iterator_train`` of ``n_batches`` Poisson-sampled batches per epoch (DP-SGD's sampling).

    Parameters
    ----------
    dataset : skorch Dataset
    sample_rate : float in (0, 1]
        Probability that a row takes part in a batch.
    n_batches : int
        Batches per epoch.
    generator : torch.Generator or None, default=None
        Source of the batches (the fit's own); None: torch's global generator.
    **kwargs
        Passed to :class:`torch.utils.data.DataLoader` (``batch_size`` and
        ``shuffle`` are ignored).
    """
    sampler = _PoissonBatches(len(dataset), sample_rate, n_batches, generator)
    kwargs.pop("shuffle", None)
    kwargs.pop("batch_size", None)
    return DataLoader(dataset, sampler=sampler, batch_size=None, generator=generator, **kwargs)


@dataclass
class PrivateTraining:
    """How :class:`GANNet` trains its discriminator with DP-SGD (Abadi et al. 2016).

    The real rows' part of the discriminator's gradient is the sum of each
    row's gradient clipped to ``max_grad_norm``, plus Gaussian noise of
    standard deviation ``noise_multiplier * max_grad_norm``, over
    ``expected_batch_size``; the fake rows' part is the ordinary gradient,
    since fakes depend on the private data only through the discriminator.
    To keep it so, the fakes' class labels and column conditions are drawn
    from given (already private) frequencies, never copied from the real
    rows of the batch, and their number is ``expected_batch_size``, not the
    batch's.

    Parameters
    ----------
    noise_multiplier : float
    max_grad_norm : float
    expected_batch_size : int
        ``sample_rate * n_rows`` of the Poisson sampling.
    class_probabilities : array of shape (n_classes,) or None
        Frequencies of the fakes' class labels.
    category_probabilities : list or None
        Per class (or one group without labels), per categorical column: the
        frequencies of the fakes' categories.
    generator_average : float in [0, 1), default=0.0
        Decay of an exponential moving average of the generator's weights,
        which the trained generator takes at the end (0: the last weights).
        Few noisy steps leave the last weights wandering; their average is
        steadier, and costs no privacy (it reads no data).
    """

    noise_multiplier: float
    max_grad_norm: float
    expected_batch_size: int
    class_probabilities: object = None
    category_probabilities: object = None
    generator_average: float = 0.0


# The adversarial net's scores, which the GAN's replace.
_ADVERSARIAL_SCORES = ("main_loss", "adversary_loss", "adversary_accuracy")


class GANNet(AdversarialNet):
    """The engine's adversarial net training a conditional generator against a discriminator, its adversary.

    An :class:`~sklearn_adv.nn.AdversarialNet` in alternating training: the
    main ``module`` is the generator, the ``adversary`` is the
    discriminator, and ``optimizer`` and ``adversary_optimizer`` are theirs.
    One ``gan_loss`` (``criterion``) gives both players' losses.

    Parameters
    ----------
    module : nn.Module class or instance
        The generator: ``forward(z, cond)`` returns fake rows (or images).
    adversary : nn.Module class or instance
        The discriminator: a :class:`ConditionalDiscriminator` (or any module
        with its ``forward(x, cond) -> (realness, class_logits)`` and ``pac``).
    criterion : gan_loss plugin class or instance
        Gives ``discriminator_loss(real_realness, fake_realness, real=,
        fake=, discriminate=)`` and ``generator_loss(fake_realness)``.
    noise_dim : int, default=64
    n_classes : int, default=0
        Number of classes of the label the GAN is conditioned on (0: none).
    cond_spans : list of (start, stop), default=()
        One-hot blocks of the categorical columns in the encoded rows.
    auxiliary_weight : float, default=1.0
        Weight of the AC-GAN class terms.
    cond_weight : float, default=1.0
        Weight of the generator's cross-entropy to its column condition.
    privacy : PrivateTraining or None, default=None
        Train the discriminator with DP-SGD (see :class:`PrivateTraining`);
        use it with :func:`poisson_row_loader`. ``steps_`` counts the
        private steps taken.
    adversary_steps : int, default=1
        Discriminator steps per generator step.
    adversary_optimizer : optimizer class or None, default=None
        The discriminator's optimizer; ``None`` uses ``optimizer``. When it
        is the same class as ``optimizer``, it takes the generator's
        settings (``lr``, ``optimizer__*``) except those given as
        ``adversary_optimizer__<param>``; another class takes only ``lr``
        and its own ``adversary_optimizer__*``.
    adversary_weight : float, default=1.0
        Weight of the generator's adversarial loss, following
        ``adversary_schedule`` as in :class:`~sklearn_adv.nn.AdversarialNet`.
    discriminator_mixup : float, default=0.0
        Mixup for the discriminator (Zhang et al. 2018): at every step it
        also scores packs mixing real and generated rows, ``lam * real +
        (1 - lam) * fake`` with ``lam ~ Beta(alpha, alpha)`` per pack, and
        learns ``lam`` as their target through the loss's
        ``mixup_loss(realness, lam)``. 0 (the default) switches it off.
    **kwargs
        Everything :class:`skorch.NeuralNet` takes, and ``adversary_schedule``.

    Attributes
    ----------
    module_, adversary_ : nn.Module
        Both registered with skorch: they follow ``device`` and a net
        trained on a GPU unpickles on a CPU-only machine.
    discriminator_ : nn.Module
        ``adversary_``, under the GAN's name.
    optimizer_, adversary_optimizer_ : torch optimizers
    discriminator_optimizer_ : torch optimizer
        ``adversary_optimizer_``, under the GAN's name.
    history : skorch History
        Per epoch: ``train_loss`` (the generator's loss as optimised),
        ``generator_loss``, ``discriminator_loss`` and, when conditioned on
        a label, ``auxiliary_accuracy`` (the auxiliary head on real rows).
    """

    def __init__(
        self,
        module,
        adversary,
        *args,
        criterion,
        noise_dim=64,
        n_classes=0,
        cond_spans=(),
        auxiliary_weight=1.0,
        cond_weight=1.0,
        discriminator_mixup=0.0,
        privacy=None,
        **kwargs,
    ):
        kwargs.setdefault("train_split", None)
        kwargs.setdefault("iterator_train", weighted_row_loader)
        # The players take turns, and the gan_loss is both players' criterion.
        kwargs.setdefault("training", "alternating")
        kwargs.setdefault("adversary_criterion", None)
        super().__init__(module, adversary, *args, criterion=criterion, **kwargs)
        self.noise_dim = noise_dim
        self.n_classes = n_classes
        self.cond_spans = cond_spans
        self.auxiliary_weight = auxiliary_weight
        self.cond_weight = cond_weight
        self.discriminator_mixup = discriminator_mixup
        self.privacy = privacy

    @property
    def _default_callbacks(self):
        # The GAN's scores in place of the adversarial net's (main and adversary loss and accuracy).
        *callbacks, print_log = [
            (name, callback) for name, callback in super()._default_callbacks if name not in _ADVERSARIAL_SCORES
        ]
        # The generator's first loss is scored after the discriminator's first
        # step, which may already have diverged: the discriminator's is watched too.
        guard = ("divergence_guard", DivergenceGuard(monitor=("loss", "discriminator_loss")))
        callbacks = [guard if name == "divergence_guard" else (name, callback) for name, callback in callbacks]
        callbacks += [
            ("generator_loss", PassthroughScoring(name="generator_loss", on_train=True)),
            ("discriminator_loss", PassthroughScoring(name="discriminator_loss", on_train=True, lower_is_better=None)),
        ]
        if self.n_classes:
            callbacks.append(
                ("auxiliary_accuracy", PassthroughScoring(name="auxiliary_accuracy", on_train=True, lower_is_better=None))
            )
        return [*callbacks, print_log]

    @property
    def discriminator_(self):
        """The discriminator: ``adversary_``, under the GAN's name."""
        return self.adversary_

    @property
    def discriminator_optimizer_(self):
        """The discriminator's optimizer: ``adversary_optimizer_``, under the GAN's name."""
        return self.adversary_optimizer_

    # -- initialisation -------------------------------------------------

    def initialize_module(self):
        if self.training != "alternating":
            raise ValueError(f"A GANNet trains its players in turns: training must be 'alternating', got {self.training!r}.")
        return super().initialize_module()

    def initialize_criterion(self):
        # The gan_loss gives the discriminator's loss too: the adversary has no criterion of its own to build.
        BaseNet.initialize_criterion(self)
        # A loss that draws random numbers takes the fit's generator as a keyword.
        try:
            self._loss_takes_generator = "generator" in inspect.signature(self.criterion_.discriminator_loss).parameters
        except (TypeError, ValueError):
            self._loss_takes_generator = False
        if self.discriminator_mixup and not hasattr(self.criterion_, "mixup_loss"):
            raise ValueError(
                f"discriminator_mixup needs a GAN loss with targets (a mixup_loss method, as the 'bce' loss has); "
                f"{type(self.criterion_).__name__} has none."
            )
        return self

    def initialize_optimizer(self, *_, **__):
        args, kwargs = self.get_params_for_optimizer("optimizer", self.module_.named_parameters())
        self.optimizer_ = self.optimizer(*args, **kwargs)
        d_args, d_kwargs = self.get_params_for_optimizer("adversary_optimizer", self.adversary_.named_parameters())
        d_class = self.adversary_optimizer or self.optimizer
        if d_class is self.optimizer:
            # The same optimizer: the generator's settings (optimizer__*, lr)
            # unless adversary_optimizer__* says otherwise.
            shared = {k: v for k, v in kwargs.items() if k != "param_groups"}
            d_kwargs = {**shared, **self.get_params_for("adversary_optimizer")}
            d_kwargs.pop("param_groups", None)
        self.adversary_optimizer_ = d_class(*d_args, **d_kwargs)
        self.register_once("adversary_optimizer_", self.adversary_optimizer_)
        return self

    def on_train_end(self, net, X=None, y=None, **kwargs):
        # Trained, the players serve inference: batch norm on its running statistics, no dropout.
        self._set_training(False)
        self.__dict__.pop("_clipped_", None)  # it holds the discriminator: not to be pickled beside the net
        average = self.__dict__.pop("_averages", {}).get("generator")
        if average is not None:
            with torch.no_grad():
                for param, averaged in zip(self.module_.parameters(), average.module.parameters()):
                    param.copy_(averaged)

    # -- conditions -------------------------------------------------------

    def label_condition(self, label):
        """One-hot of the class codes (an empty block when the GAN has no label)."""
        if not self.n_classes or label is None:
            return None
        return F.one_hot(label.long(), self.n_classes).float()

    def column_condition(self, real, cond_weights):
        """Draw one categorical column per row; return its one-hot condition and the column drawn."""
        if not self.cond_spans or cond_weights is None:
            return None, None
        column = torch.multinomial(cond_weights.float(), 1, generator=self.device_generator_).reshape(-1)
        columns, span_of = self._cond_layout(real.device)
        mask = span_of[None, :] == column[:, None]
        return real[:, columns] * mask, column

    @property
    def cond_dim(self):
        return sum(stop - start for start, stop in self.cond_spans)

    def _cond_layout(self, device):
        """Columns of the encoded rows that the condition copies, and the span each belongs to."""
        key = str(device)
        cached = getattr(self, "_cond_layout_cache", None)
        if cached is None or cached[0] != key:
            columns = np.concatenate([np.arange(a, b) for a, b in self.cond_spans])
            span_of = np.concatenate([np.full(b - a, j) for j, (a, b) in enumerate(self.cond_spans)])
            cached = (key, torch.as_tensor(columns, device=device), torch.as_tensor(span_of, device=device))
            self._cond_layout_cache = cached
        return cached[1], cached[2]

    def generator_input(self, label_cond, column_cond):
        parts = [c for c in (label_cond, column_cond) if c is not None]
        return torch.cat(parts, dim=1) if parts else None

    def noise(self, n, generator=None):
        """``n`` noise vectors, from ``generator``, else the fit's own device generator, else torch's global one."""
        generator = self.device_generator_ if generator is None else generator
        return torch.randn(n, self.noise_dim, device=self.device, generator=generator)

    def generate(self, n, label=None, column_cond=None, generator=None, soft=True):
        """Fake rows for ``n`` noise draws, conditioned on class codes ``label`` and column conditions.

        In evaluation mode (batch norm on its running statistics), as after
        training; the noise is drawn from ``generator`` when given.
        ``soft=False``: one-hot blocks as Gumbel-perturbed logits, whose
        argmax is drawn as the softmax's is, for rows that are only decoded
        (see :class:`SpanActivation`).
        """
        self._set_training(False)
        z = self.noise(n, generator)
        cond = self.generator_input(self.label_condition(label), column_cond)
        return self._run_generator(z, cond, generator, soft=soft)[0]

    # -- losses -----------------------------------------------------------

    def _condition_loss(self, fake, raw, column_cond, column):
        """Cross-entropy of the generator's logits of each row's drawn column to its condition.

        Read from the logits before the Gumbel-softmax when the generator
        returns them (``return_raw``), else from the log of its outputs.
        """
        if column is None or not self.cond_weight:
            return fake.new_zeros(())
        source = raw if raw is not None else torch.log(fake.clamp_min(1e-8))
        log_p = torch.cat([F.log_softmax(source[:, a:b], dim=1) for a, b in self.cond_spans], dim=1)
        return self.cond_weight * -(column_cond * log_p).sum(dim=1).mean()

    def _loss_generator(self):
        """``{"generator": ...}`` for a GAN loss that draws random numbers (it takes that keyword), else ``{}``."""
        return {"generator": self.device_generator_} if self._loss_takes_generator else {}

    def _run_generator(self, z, cond, generator=None, soft=True):
        """``(fake, raw logits or None)``; our generators' random activations draw from ``generator``.

        ``None`` uses the fit's own device generator while training, else
        torch's global one. A user's generator module is called as ``module(z, cond)``.
        """
        generator = self.device_generator_ if generator is None else generator
        if isinstance(self.module_, ConditionalGenerator):
            return self.module_(z, cond, return_raw=True, generator=generator, soft=soft)
        return self.module_(z, cond), None

    def realness(self, x, cond=None):
        """The discriminator's realness of the packs of rows (or images) ``x``, in evaluation mode."""
        self._set_training(False)
        return self.adversary_(x, cond)[0]

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The generator's adversarial loss on ``y_pred``, the discriminator's realness of fakes."""
        return self.criterion_.generator_loss(y_pred)

    def _mixup_loss(self, real, fake, cond):
        """The discriminator's loss on packs mixing ``real`` and ``fake`` rows, the real share as target.

        One ``lam ~ Beta(alpha, alpha)`` per pack, drawn from the fit's own
        generator (a numpy generator seeded from it: torch's Beta sampler
        takes no generator).
        """
        pac = int(getattr(self.adversary_, "pac", 1))
        n_packs = real.shape[0] // pac
        seed = int(torch.randint(2**31 - 1, (1,), generator=self.generator_))
        lam = np.random.default_rng(seed).beta(self.discriminator_mixup, self.discriminator_mixup, size=n_packs)
        lam = torch.as_tensor(lam, dtype=real.dtype, device=real.device)
        share = lam.repeat_interleave(pac).reshape(-1, *([1] * (real.ndim - 1)))
        mixed = share * real + (1.0 - share) * fake
        return self.criterion_.mixup_loss(self.adversary_(mixed, cond)[0], lam)

    # -- training step ----------------------------------------------------

    def train_step(self, batch, **fit_params):
        if self.privacy is not None:
            return self._private_train_step(batch)
        self._set_training(True)
        Xi, _ = unpack_data(batch)
        self.adversary_weight_ = self.current_adversary_weight()
        real = Xi["real"].to(self.device)
        label = Xi["label"].to(self.device) if "label" in Xi else None
        weights = Xi["cond_weights"].to(self.device) if "cond_weights" in Xi else None
        n = real.shape[0]
        label_cond = self.label_condition(label)
        column_cond, column = self.column_condition(real, weights)
        gen_input_cond = self.generator_input(label_cond, column_cond)

        def discriminate(x):
            return self.adversary_(x, column_cond)[0]

        # One batch of fakes serves the first discriminator step (detached) and
        # the generator step; further discriminator steps draw fresh ones.
        fake, raw = self._run_generator(self.noise(n), gen_input_cond)
        for step in range(self.adversary_steps):
            if step == 0:
                fake_d = fake.detach()
            else:
                with torch.no_grad():
                    fake_d = self._run_generator(self.noise(n), gen_input_cond)[0]
            self.adversary_optimizer_.zero_grad()
            real_realness, real_logits = self.adversary_(real, column_cond)
            fake_realness, _ = self.adversary_(fake_d, column_cond)
            d_loss = self.criterion_.discriminator_loss(
                real_realness, fake_realness, real=real, fake=fake_d, discriminate=discriminate, **self._loss_generator()
            )
            if real_logits is not None and label is not None and self.auxiliary_weight:
                d_loss = d_loss + self.auxiliary_weight * F.cross_entropy(real_logits, label.long())
            if self.discriminator_mixup:
                d_loss = d_loss + self._mixup_loss(real, fake_d, column_cond)
            d_loss.backward()
            self.adversary_optimizer_.step()

        self.optimizer_.zero_grad()
        fake_realness, fake_logits = self.adversary_(fake, column_cond)
        g_adv = self.get_loss(fake_realness, None, X=Xi, training=True)
        g_loss = self.adversary_weight_ * g_adv + self._condition_loss(fake, raw, column_cond, column)
        if fake_logits is not None and label is not None and self.auxiliary_weight:
            g_loss = g_loss + self.auxiliary_weight * F.cross_entropy(fake_logits, label.long())
        g_loss.backward()
        self.optimizer_.step()
        self.adversary_optimizer_.zero_grad()  # drop the gradients the generator step left there

        self.history.record_batch("generator_loss", g_adv.item())
        self.history.record_batch("discriminator_loss", d_loss.item())
        if real_logits is not None and label is not None:
            # From the last discriminator step: no extra forward pass.
            accuracy = (real_logits.detach().argmax(dim=1) == label.long()).float().mean().item()
            self.history.record_batch("auxiliary_accuracy", accuracy)
        return {"loss": g_loss, "y_pred": fake}

    # -- differentially private training -----------------------------------

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        if self.privacy is not None:
            # The engine refuses a discriminator whose rows' gradients it cannot clip.
            self._clipped_ = ClippedGradients(self.adversary_)
            self.steps_ = getattr(self, "steps_", 0)
            # In a plain dict: skorch registers any module set as an attribute.
            self._averages = {}
            if self.privacy.generator_average:
                self._averages["generator"] = AveragedModel(
                    self.module_, multi_avg_fn=get_ema_multi_avg_fn(self.privacy.generator_average)
                )

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        if self.privacy is not None and training:
            # skorch recorded the Poisson batch's size, which private training does not release.
            self.history.record_batch("train_batch_size", self.privacy.expected_batch_size)

    def _fake_conditions(self, n):
        """Class codes and column conditions of ``n`` fakes, drawn from the private frequencies."""
        settings, gen = self.privacy, self.device_generator_
        label = None
        if self.n_classes:
            p = torch.as_tensor(settings.class_probabilities, dtype=torch.float32, device=self.device)
            label = torch.multinomial(p, n, replacement=True, generator=gen)
        if not self.cond_spans:
            return label, None, None
        column = torch.randint(len(self.cond_spans), (n,), device=self.device, generator=gen)
        cond = torch.zeros(n, self.cond_dim, device=self.device)
        groups = label if label is not None else torch.zeros(n, dtype=torch.long, device=self.device)
        offset = 0
        for j, (start, stop) in enumerate(self.cond_spans):
            for group, per_column in enumerate(settings.category_probabilities):
                rows = torch.nonzero((column == j) & (groups == group)).reshape(-1)
                if len(rows):
                    p = torch.as_tensor(per_column[j], dtype=torch.float32, device=self.device)
                    cond[rows, offset + torch.multinomial(p, len(rows), replacement=True, generator=gen)] = 1.0
            offset += stop - start
        return label, cond, column

    def _private_train_step(self, batch):
        """One DP-SGD step of the discriminator, then one ordinary step of the generator.

        The discriminator's gradient: the real rows' per-row gradients,
        each clipped, summed and noised, plus the fakes' per-row gradients,
        clipped alike, over the expected batch size. Nothing computed on the
        real rows is recorded in the history, which is released with the
        model: its ``discriminator_loss`` and ``auxiliary_accuracy`` are
        those on the fakes.
        """
        settings = self.privacy
        self._set_training(True)
        Xi, _ = unpack_data(batch)
        real = Xi["real"].to(self.device)
        real_label = Xi["label"].to(self.device).long() if "label" in Xi else None
        n_fake = max(2, settings.expected_batch_size)  # the generator's batch norm needs two rows
        self.adversary_weight_ = self.current_adversary_weight()
        # Each real row is conditioned on one of its own categorical columns, drawn uniformly.
        uniform = torch.ones(real.shape[0], len(self.cond_spans), device=self.device) if self.cond_spans else None
        real_cond, _ = self.column_condition(real, uniform)
        fake_label, fake_cond, fake_column = self._fake_conditions(n_fake)
        gen_input_cond = self.generator_input(self.label_condition(fake_label), fake_cond)
        fake, raw = self._run_generator(self.noise(n_fake), gen_input_cond)

        discriminator = self.adversary_
        self.adversary_optimizer_.zero_grad()
        if real.shape[0]:
            with self._clipped_.recording():
                real_realness, real_logits = discriminator(real, real_cond)
            row_losses = F.binary_cross_entropy_with_logits(
                real_realness, torch.full_like(real_realness, 1.0 - self._label_smoothing()), reduction="none"
            )
            if real_logits is not None and real_label is not None and self.auxiliary_weight:
                row_losses = row_losses + self.auxiliary_weight * F.cross_entropy(real_logits, real_label, reduction="none")
            real_grads, _ = self._clipped_.clipped_sum(row_losses, settings.max_grad_norm)
        else:  # an empty Poisson batch: the noise alone
            real_grads = {p: torch.zeros_like(p) for p in discriminator.parameters() if p.requires_grad}
        real_grads = add_noise(real_grads, settings.max_grad_norm, settings.noise_multiplier, self.device_generator_)
        # The fakes' gradients are clipped alike (and not noised): else the
        # unclipped fake side outweighs the clipped real side, and the
        # discriminator learns to call every row fake.
        with self._clipped_.recording():
            fake_realness, _ = discriminator(fake.detach(), fake_cond)
        fake_rows = F.binary_cross_entropy_with_logits(fake_realness, torch.zeros_like(fake_realness), reduction="none")
        fake_grads, _ = self._clipped_.clipped_sum(fake_rows, settings.max_grad_norm)
        fake_loss = fake_rows.detach().mean()
        for param in set(real_grads) | set(fake_grads):
            grad = real_grads.get(param, 0.0) + fake_grads.get(param, 0.0) * (settings.expected_batch_size / n_fake)
            param.grad = grad / settings.expected_batch_size
        self.adversary_optimizer_.step()
        self.steps_ += 1

        self.optimizer_.zero_grad()
        fake_realness, fake_logits = discriminator(fake, fake_cond)
        g_adv = self.get_loss(fake_realness, None, training=True)
        g_loss = self.adversary_weight_ * g_adv + self._condition_loss(fake, raw, fake_cond, fake_column)
        if fake_logits is not None and fake_label is not None and self.auxiliary_weight:
            g_loss = g_loss + self.auxiliary_weight * F.cross_entropy(fake_logits, fake_label)
        g_loss.backward()
        self.optimizer_.step()
        self.adversary_optimizer_.zero_grad()
        if "generator" in self._averages:
            self._averages["generator"].update_parameters(self.module_)

        self.history.record_batch("generator_loss", g_adv.item())
        self.history.record_batch("discriminator_loss", fake_loss.item())
        if fake_logits is not None and fake_label is not None:
            accuracy = (fake_logits.detach().argmax(dim=1) == fake_label).float().mean().item()
            self.history.record_batch("auxiliary_accuracy", accuracy)
        return {"loss": g_loss, "y_pred": fake}

    def _label_smoothing(self):
        return float(getattr(self.criterion_, "label_smoothing", 0.0) or 0.0)

    def validation_step(self, batch, **fit_params):
        raise NotImplementedError("GANNet has no validation step; use train_split=None.")


class SemiSupervisedGANNet(GANNet):
    """The GAN net of semi-supervised learning: a (K + 1)-class discriminator against a feature-matching generator.

    Salimans et al. (2016)'s recipe, as a :class:`GANNet` whose adversary is
    a :class:`~sklearn_adv.nn.gan_networks.SemiSupervisedDiscriminator`
    (class logits, the "fake" logit fixed at 0, realness
    ``logsumexp(logits)``). At every step:

    - the discriminator minimises the cross-entropy of the class logits on
      a batch of labelled rows (with ``label_smoothing``, weighted by the
      rows' weights), plus ``unsupervised_weight`` times the GAN loss
      (``criterion``, a ``gan_loss`` such as ``"bce"``) of the realness of a
      batch of all rows against that of generated rows, plus
      ``entropy_weight`` times the entropy of its class probabilities on
      that batch (entropy minimisation, Grandvalet & Bengio 2005);
    - the generator minimises feature matching: the squared distance
      between the mean discriminator features of the real batch and of the
      generated one.

    Data contract: ``X`` is a dict with ``"real"`` (every row, float32),
    ``"label"`` (int64 class codes, -1 for unlabelled rows) and optionally
    ``"weight"`` (float32 row weights of the classification loss); ``y`` is
    None. The loader draws the batches of all rows; each step draws its
    labelled batch (``batch_size`` labelled rows, with replacement) from the
    fit's own generator. Predictions (``forward``, ``predict_outputs``) are
    the discriminator's ``(class logits, features)``.

    Parameters
    ----------
    module, adversary
        The generator and the semi-supervised discriminator.
    criterion : gan_loss plugin class or instance
        The unsupervised loss of the realness (``"bce"``: the paper's).
    label_smoothing : float, default=0.0
        Of the labelled rows' class targets, in their cross-entropy.
    unsupervised_weight : float, default=1.0
    entropy_weight : float, default=0.0
    vat_weight : float, default=0.0
        Weight of virtual adversarial training (Miyato et al. 2018) on the
        batch of all rows: the KL divergence between the class probabilities
        of a row and of the row moved by ``vat_eps`` (Euclidean norm) in the
        direction that changes them most, found by one power iteration from
        a random direction of length ``vat_xi``. 0 switches it off.
    vat_eps : float, default=0.5
    vat_xi : float, default=1.0
        The finite-difference step of the power iteration; the paper's 1e-6
        vanishes in float32.
    balance_weight : float, default=0.0
        Weight of the KL divergence from the labelled rows' class
        frequencies (weighted) to the mean class probabilities of the batch
        of all rows: the class balance term of CatGAN (Springenberg 2016),
        which keeps a class from taking over the rows of its neighbour.
    classifier_average : float in [0, 1), default=0.0
        Decay of an exponential moving average of the discriminator's
        weights, which replaces them at the end of the fit (the "mean
        teacher" of Tarvainen & Valpola 2017, as an estimate for
        prediction). At step ``t`` the decay is ``min(classifier_average,
        (1 + t) / (10 + t))``, so short fits are not held at the initial
        weights. 0 switches it off.
    **kwargs
        As :class:`GANNet`.
    """

    def __init__(self, module, adversary, *args, label_smoothing=0.0, unsupervised_weight=1.0, entropy_weight=0.0,
                 vat_weight=0.0, vat_eps=0.5, vat_xi=1.0, balance_weight=0.0, classifier_average=0.0, **kwargs):
        super().__init__(module, adversary, *args, **kwargs)
        self.label_smoothing = label_smoothing
        self.unsupervised_weight = unsupervised_weight
        self.entropy_weight = entropy_weight
        self.vat_weight = vat_weight
        self.vat_eps = vat_eps
        self.vat_xi = vat_xi
        self.balance_weight = balance_weight
        self.classifier_average = classifier_average

    @property
    def _default_callbacks(self):
        *callbacks, print_log = super()._default_callbacks
        callbacks += [
            ("classifier_loss", PassthroughScoring(name="classifier_loss", on_train=True)),
            ("labelled_accuracy", PassthroughScoring(name="labelled_accuracy", on_train=True, lower_is_better=False)),
        ]
        return [*callbacks, print_log]

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        # The labelled rows, from which each step draws its labelled batch; kept for this fit only.
        rows = np.flatnonzero(np.asarray(X["label"]) >= 0)
        weight = X.get("weight")
        self._labelled = (
            torch.as_tensor(np.asarray(X["real"])[rows]),
            torch.as_tensor(np.asarray(X["label"])[rows]),
            None if weight is None else torch.as_tensor(np.asarray(weight)[rows]),
        )
        labels = torch.as_tensor(np.asarray(X["label"])[rows])
        frequencies = torch.bincount(labels, weights=self._labelled[2], minlength=self.adversary_.n_classes).float()
        self._class_prior = (frequencies / frequencies.sum()).to(self.device)
        # The moving average of the discriminator's weights, in a plain list (not a registered module).
        self._classifier_average = None
        if self.classifier_average:
            params = [p.detach().clone() for p in self.adversary_.parameters()]
            self._classifier_average = (params, torch.zeros((), dtype=torch.long))

    def _update_classifier_average(self):
        averaged, steps = self._classifier_average
        decay = min(float(self.classifier_average), (1.0 + float(steps)) / (10.0 + float(steps)))
        get_ema_multi_avg_fn(decay)(averaged, [p.detach() for p in self.adversary_.parameters()], steps)
        steps += 1  # in place: the step count is the tensor kept in self._classifier_average

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self._labelled = None
        average = self.__dict__.pop("_classifier_average", None)
        if average is not None:
            with torch.no_grad():
                for param, averaged in zip(self.adversary_.parameters(), average[0]):
                    param.copy_(averaged)
        super().on_train_end(net, X=X, y=y, **kwargs)

    def _vat_loss(self, real, logits):
        """Virtual adversarial loss of the rows ``real`` whose class logits are ``logits`` (Miyato et al. 2018)."""
        target = F.softmax(logits.detach(), dim=1)
        start = torch.randn(real.shape, device=real.device, dtype=real.dtype, generator=self.device_generator_)
        probe = (self.vat_xi * ascent_direction(start, "2")).requires_grad_(True)
        divergence = F.kl_div(F.log_softmax(self.adversary_(real + probe)[1], dim=1), target, reduction="batchmean")
        (grad,) = torch.autograd.grad(divergence, probe)
        moved = real + self.vat_eps * ascent_direction(grad, "2")
        return F.kl_div(F.log_softmax(self.adversary_(moved)[1], dim=1), target, reduction="batchmean")

    def infer(self, x, **fit_params):
        """The discriminator's ``(class logits, features)`` of ``x``: what the classifier predicts with."""
        x = x["real"] if isinstance(x, dict) else x
        _, logits, features = self.adversary_(x.to(self.device))
        return logits, features

    def _labelled_batch(self, n):
        real, label, weight = self._labelled
        rows = torch.randint(len(label), (n,), generator=self.generator_)
        return tuple(None if values is None else values[rows].to(self.device) for values in (real, label, weight))

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        Xi, _ = unpack_data(batch)
        real = Xi["real"].to(self.device)
        labelled, label, weight = self._labelled_batch(len(real))
        fake, _ = self._run_generator(self.noise(len(real)), None)

        # One pass of the discriminator over the labelled, real and generated
        # batches together (its rows are independent: no batch norm).
        self.adversary_optimizer_.zero_grad()
        fake_d = fake.detach()
        n_labelled, n_real = len(labelled), len(real)
        realness, all_logits, all_features = self.adversary_(torch.cat([labelled, real, fake_d]))
        logits, real_logits = all_logits[:n_labelled], all_logits[n_labelled : n_labelled + n_real]
        real_realness, fake_realness = realness[n_labelled : n_labelled + n_real], realness[n_labelled + n_real :]
        real_features = all_features[n_labelled : n_labelled + n_real]
        losses = F.cross_entropy(logits, label.long(), reduction="none", label_smoothing=float(self.label_smoothing))
        classifier_loss = weighted_mean(losses, weight)
        gan_loss = self.criterion_.discriminator_loss(
            real_realness, fake_realness, real=real, fake=fake_d, discriminate=lambda x: self.adversary_(x)[0],
            **self._loss_generator(),
        )
        d_loss = classifier_loss + self.unsupervised_weight * gan_loss
        if self.entropy_weight:
            log_p = F.log_softmax(real_logits, dim=1)
            d_loss = d_loss + self.entropy_weight * -(log_p.exp() * log_p).sum(dim=1).mean()
        if self.balance_weight:
            mean_p = F.softmax(real_logits, dim=1).mean(dim=0)
            log_ratio = mean_p.clamp_min(1e-8).log() - self._class_prior.clamp_min(1e-8).log()
            d_loss = d_loss + self.balance_weight * (mean_p * log_ratio).sum()
        if self.vat_weight:
            d_loss = d_loss + self.vat_weight * self._vat_loss(real, real_logits)
        if self.discriminator_mixup:
            d_loss = d_loss + self._mixup_loss(real, fake_d, None)
        d_loss.backward()
        self.adversary_optimizer_.step()
        if self._classifier_average is not None:
            self._update_classifier_average()

        # Feature matching: the generated batch's mean features towards the real batch's.
        self.optimizer_.zero_grad()
        _, _, fake_features = self.adversary_(fake)
        g_loss = (real_features.detach().mean(dim=0) - fake_features.mean(dim=0)).pow(2).mean()
        g_loss.backward()
        self.optimizer_.step()
        self.adversary_optimizer_.zero_grad()  # drop the gradients the generator step left there

        self.history.record_batch("generator_loss", g_loss.item())
        self.history.record_batch("discriminator_loss", d_loss.item())
        self.history.record_batch("classifier_loss", classifier_loss.item())
        accuracy = (logits.detach().argmax(dim=1) == label).float().mean().item()
        self.history.record_batch("labelled_accuracy", accuracy)
        return {"loss": d_loss, "y_pred": fake}
