"""Devices, seeds and tensors: the small utilities every estimator's fit uses."""

import functools
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.utils import check_random_state


def resolve_device(device):
    """Turn ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"auto"`` or a torch.device into a device string.

    Every network estimator's ``device`` parameter goes through this function
    at the start of ``fit``.

    ``"auto"`` picks ``"cuda"`` (torch's current GPU) when
    ``torch.cuda.is_available()``, else ``"cpu"``; it never picks MPS, and it
    does not weigh the size of the data or of the network. Asking for CUDA or
    MPS on a machine without it is an error here, before any training starts.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:<index>"``, ``"mps"``, ``"auto"``, or
        a :class:`torch.device`.

    Returns
    -------
    device : str
        The device to train on, as torch spells it.

    Raises
    ------
    TypeError
        When ``device`` is neither a string nor a torch.device.
    ValueError
        When CUDA or MPS is requested and torch does not see it.

    Notes
    -----
    The GPU pays where each step has much work: large tables and images,
    large batches, wide networks. Small networks trained on small data in
    small batches are bound by the host's work per step (Python, the
    optimizer's launch, the copies of each batch), which a GPU does not
    shorten: on one NVIDIA H200 against 16 CPU cores (one run each),
    DomainAdversarialClassifier on rotated digits took 4.6 s on the GPU and
    2.5 s on the CPU, FairClassifier on Adult 6.5 s against 5.0 s, and
    TICKMeans's deep solver on 12x12 digits 10.8 s against 10.3 s, while
    GANAugmenter on Adult gained (1.0 s per epoch at batch 500). There,
    ``"auto"`` makes such fits slower than ``"cpu"``. ``benchmarks/bench_gpu.py``
    measures every network estimator on both devices of a machine, on
    small data and on a table of a million rows. See the :ref:`GPU section
    of the user guide <gpu>`.

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
