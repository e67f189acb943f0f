"""The skorch net every estimator of the engine trains: what their nets share.

:class:`BaseNet` is skorch's ``NeuralNet`` with the engine's defaults: the
training progress that schedules read, the divergence guard, one
registration mechanism for extra modules and optimizers, and predictions
that do not depend on the order of the rows, and a loss that weights rows.
:class:`~sklearn_adv.nn.AdversarialNet` and the GAN's net build on it; a
plain network classifier uses it as it is, with a main module returning
``(logits, features)`` and a criterion returning one loss per row.
"""

import inspect
import io

import numpy as np
import torch
from skorch import NeuralNet
from skorch.utils import get_map_location
from torch.utils.data import DataLoader

from sklearn_adv.nn.callbacks import DivergenceGuard, TrainingProgress
from sklearn_adv.nn.layers import Dropout, GaussianNoise

__all__ = ["BaseNet"]


def weighted_mean(losses, weight=None):
    """Mean of per-row ``losses`` under per-row ``weight``; 0 when every weight is 0."""
    if losses.ndim > 1:
        losses = losses.reshape(len(losses), -1).mean(dim=1)
    if weight is None:
        return losses.mean()
    weight = weight.to(losses.dtype)
    return (losses * weight).sum() / weight.sum().clamp_min(torch.finfo(losses.dtype).eps)


class BaseNet(NeuralNet):
    """skorch's ``NeuralNet`` with the engine's callbacks, registration and order-independent predictions.

    Parameters
    ----------
    module : nn.Module class or instance
        Returns ``(output, features)`` for :meth:`predict_outputs`, or any
        output for skorch's own methods.
    criterion : loss class or instance
        With ``reduction="none"`` (one loss per row) where the targets carry
        row weights; see :meth:`get_loss`.
    **kwargs
        Everything :class:`skorch.NeuralNet` takes.
    """

    @property
    def _default_callbacks(self):
        return [
            ("training_progress", TrainingProgress()),
            ("divergence_guard", DivergenceGuard()),
            *super()._default_callbacks,
        ]

    def initialize_module(self):
        super().initialize_module()
        self._training_mode = None
        return self

    def _set_training(self, training=True):
        # skorch switches every module's mode at every batch, which costs a
        # good part of a small network's step; switching only when the mode
        # changes (at the first batch after a validation pass) does not.
        if getattr(self, "_training_mode", None) is not training:
            super()._set_training(training)
            self._training_mode = training

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion's loss on the main output, averaged under the rows' weights.

        ``y_pred`` is the main module's output, or its ``(output, features)``.
        ``y_true`` is the targets, or a dict with ``"target"`` and, for
        weighted rows, ``"target_weight"`` (a row of weight 0 takes no part;
        the criterion must then return one loss per row). Training,
        validation and scoring all use this loss.
        """
        output = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        target = y_true["target"] if isinstance(y_true, dict) else y_true
        weight = y_true.get("target_weight") if isinstance(y_true, dict) else None
        losses = self.criterion_(output, target.to(self.device))
        return weighted_mean(losses, None if weight is None else weight.to(self.device))

    # -- the fit's own random generator ----------------------------------------

    #: The fit's own torch generators, set for one fit by :meth:`set_generator`
    #: (None otherwise, when draws come from torch's global generator):
    #: ``generator_`` on the CPU, for batches of row indices, and
    #: ``device_generator_`` on the net's device, for dropout masks and noise.
    generator_ = None
    device_generator_ = None

    def set_generator(self, generator):
        """Make training draw from the CPU ``torch.Generator`` ``generator`` (None: torch's global generator).

        On another device, draws made there come from a generator of that
        device seeded from ``generator``.
        """
        self.generator_ = generator
        device = torch.device(self.device)
        if generator is None or device.type == "cpu":
            self.device_generator_ = generator
        else:
            self.device_generator_ = torch.Generator(device=device)
            self.device_generator_.manual_seed(int(torch.randint(2**62, (1,), generator=generator)))
        return self

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        # Layers that draw random numbers while training: from the fit's own generator.
        random_layers = [
            m for module in self._training_modules() for m in module.modules() if isinstance(m, (Dropout, GaussianNoise))
        ]
        for layer in random_layers:
            layer.generator = self.device_generator_
        try:
            return super().partial_fit(X, y, classes=classes, **fit_params)
        finally:
            for layer in random_layers:
                layer.generator = None  # a module holds no generator past its fit (nor pickles one)

    def _training_modules(self):
        """The net's built modules (``module_``, ``adversary_``, ...), by the names skorch registered."""
        modules = (getattr(self, name + "_", None) for name in self._modules)
        return [module for module in modules if isinstance(module, torch.nn.Module)]

    def get_iterator(self, dataset, training=False):
        """skorch's iterator, drawing its shuffles from the fit's own generator where the iterator takes one."""
        iterator = self.iterator_train if training else self.iterator_valid
        if not (training and self.generator_ is not None and _takes_generator(iterator)):
            return super().get_iterator(dataset, training=training)
        original = self.iterator_train
        try:
            self.iterator_train = _with_generator(original, self.generator_)
            return super().get_iterator(dataset, training=training)
        finally:
            self.iterator_train = original

    def register_once(self, name, attr):
        """Register a module or optimizer of a known prefix with skorch, once.

        Registered, a module is trained by the default optimizer, it and an
        optimizer's state follow ``device``, and a net trained on a GPU
        unpickles on a CPU-only machine. The one mechanism for every extra
        module and optimizer of the engine's nets (skorch registers on its
        own only the attributes whose prefix it does not know).
        """
        if name not in self.cuda_dependent_attributes_:
            self._register_attribute(name, attr, prefixes=False)

    # -- pickling -----------------------------------------------------------

    def __getstate__(self):
        """skorch's state, with no tensor pickled where its device would stick to it.

        skorch maps the devices of the attributes it built (``module_``,
        ``optimizer_``, ...) when a net is loaded, but pickles its parameters
        as they are: a module given as an instance (``module=EncoderHead(...)``)
        would be pickled with its tensors on the device it was trained on, and
        a net trained on a GPU could not be loaded on a CPU-only machine. Such
        an instance is the built attribute itself: it is pickled as a pointer
        to it; any other module or tensor among the parameters goes through
        ``torch.save``, and is loaded onto an available device.
        """
        state = super().__getstate__()
        for name, value in list(state.items()):
            if not isinstance(value, (torch.nn.Module, torch.Tensor)):
                continue
            if getattr(self, name + "_", None) is value and name + "_" in self.cuda_dependent_attributes_:
                state[name] = _BuiltAttribute(name + "_")
            else:
                buffer = io.BytesIO()
                torch.save(value, buffer)
                state[name] = _SavedTensors(buffer.getvalue())
        return state

    def __setstate__(self, state):
        pointers = {name: value for name, value in state.items() if isinstance(value, _BuiltAttribute)}
        saved = {name: value for name, value in state.items() if isinstance(value, _SavedTensors)}
        for name in [*pointers, *saved]:
            state[name] = None
        super().__setstate__(state)
        map_location = get_map_location(self.device)
        for name, pointer in pointers.items():
            setattr(self, name, getattr(self, pointer.attribute))
        for name, value in saved.items():
            setattr(self, name, torch.load(io.BytesIO(value.data), map_location=map_location, weights_only=False))

    def predict_outputs(self, X):
        """The main module's outputs for the rows of array ``X``, on the CPU, as a tuple.

        CPU matrix kernels take different paths for different numbers of
        rows, so in float32 a row's output depends, in its last bits, on the
        size of the batch it is computed in. The last, shorter, batch is
        therefore padded to the full size (and the padding dropped): each
        row's output is then the same whatever the order of the rows.
        """
        batch_size = self.get_params_for("iterator_valid").get("batch_size", self.batch_size)
        n_rows = len(X)
        padding = -n_rows % batch_size if 0 < batch_size < n_rows else 0
        if padding:
            X = np.concatenate([X, X[:padding]])
        outputs = self.forward(X, training=False, device="cpu")
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        return tuple(output[:n_rows] for output in outputs)


class _BuiltAttribute:
    """Pickled in place of a parameter that is the very module skorch built from it (``module`` is ``module_``)."""

    def __init__(self, attribute):
        self.attribute = attribute


class _SavedTensors:
    """Pickled in place of a parameter holding tensors: ``torch.save`` bytes, loaded with a device map."""

    def __init__(self, data):
        self.data = data


def _takes_generator(iterator):
    if iterator is DataLoader or (isinstance(iterator, type) and issubclass(iterator, DataLoader)):
        return True
    try:
        return "generator" in inspect.signature(iterator).parameters
    except (TypeError, ValueError):
        return False


def _with_generator(iterator, generator):
    def make(dataset, **kwargs):
        return iterator(dataset, generator=generator, **kwargs)

    return make
