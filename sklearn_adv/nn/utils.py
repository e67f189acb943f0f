"""Devices, seeds and tensors: the small utilities every estimator's fit uses."""

import functools
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.utils import check_random_state


def resolve_device(device):
    """Turn ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"auto"`` or a torch.device into a device string.

    ``"auto"`` picks CUDA when torch sees a GPU, else the CPU. Asking for CUDA
    on a machine without it is an error here, before any training starts.

    Examples
    --------
    >>> resolve_device("cpu")
    'cpu'
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'cpu', 'cuda' or 'auto', got {device!r}.")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but torch sees no CUDA device; use 'cpu' or 'auto'.")
    if device.startswith("mps") and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was requested but torch sees no MPS device; use 'cpu' or 'auto'.")
    return device


def seed_from(random_state):
    """An integer seed drawn from a scikit-learn ``random_state`` (None, int or RandomState)."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextmanager
def torch_seed(seed):
    """Run a block with torch's global generators seeded, restoring them afterwards.

    skorch draws weight initialisation and batch shuffling from torch's global
    generator; seeding it inside this block makes a fit reproducible on the
    CPU without disturbing the caller's own torch random state.
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def to_float32(X):
    """A validated array or DataFrame as a contiguous float32 numpy array.

    numpy rather than a tensor: skorch moves batches to the net's device
    itself, so the data stays on the host until it is needed.
    """
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    return np.ascontiguousarray(X, dtype=np.float32)


def fused_adam_options(device="cpu"):
    """``{"fused": True}`` where this torch has the fused Adam for ``device``, else ``{}``.

    On small networks the per-tensor loop of torch's default Adam costs more
    than the forward and backward passes; the fused kernel runs the same
    update rule over all parameters at once (on the CPU from torch 2.4).
    Pass the result as ``optimizer__<key>`` parameters of a skorch net.
    """
    return {"fused": True} if _has_fused_adam(torch.device(resolve_device(device)).type) else {}


@functools.cache
def _has_fused_adam(device_type):
    if device_type not in ("cpu", "cuda"):
        return False
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True, device=device_type)], fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True
