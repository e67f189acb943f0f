"""Batch samplers and loaders: balanced groups per batch, whole-batch fetching.

DANN trains on batches holding as many source rows as target rows (Ganin et
al. 2016); :class:`BalancedBatchSampler` draws such batches for any number of
groups. Both loaders below fetch each batch with one indexing call on the
skorch dataset (``dataset[indices]``) instead of one call per row followed by
a collate, which is what makes small networks train fast on the CPU.
"""

import math

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Sampler, SequentialSampler


class BalancedBatchSampler(Sampler):
    """Index batches with the same number of rows from every group.

    An epoch has ``ceil(n_rows / batch_size)`` batches, as an ordinary
    loader over the same rows would, so epoch-based schedules keep their
    meaning. Each batch takes ``batch_size // n_groups`` rows (at least one)
    from every group; a group walks through a fresh random permutation of its
    rows, and starts another one when it runs out, so a small group is
    revisited more often than a large one.

    Parameters
    ----------
    groups : array-like of shape (n_rows,)
        The group of each row of the dataset (e.g. 0 for source, 1 for target).
    batch_size : int
        Rows per batch, over all groups together.
    shuffle : bool, default=True
        If False, each group is walked in order (useful for tests).
    generator : torch.Generator or None, default=None
        Source of randomness; None draws a seed from torch's global generator
        at each epoch, so that ``torch.manual_seed`` makes epochs reproducible.

    Examples
    --------
    >>> sampler = BalancedBatchSampler([0, 0, 0, 0, 0, 0, 1, 1], batch_size=4, shuffle=False)
    >>> [batch.tolist() for batch in sampler]
    [[0, 1, 6, 7], [2, 3, 6, 7]]
    """

    def __init__(self, groups, batch_size, shuffle=True, generator=None):
        groups = np.asarray(groups).reshape(-1)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator
        self.n_rows = len(groups)
        self.group_indices = [np.flatnonzero(groups == g) for g in np.unique(groups)]
        self.per_group = max(1, self.batch_size // max(len(self.group_indices), 1))

    def __len__(self):
        return math.ceil(self.n_rows / self.batch_size) if self.n_rows else 0

    def _rng(self):
        if self.generator is not None:
            seed = int(torch.randint(2**31 - 1, (1,), generator=self.generator))
        else:
            seed = int(torch.randint(2**31 - 1, (1,)))
        return np.random.default_rng(seed)

    def __iter__(self):
        rng = self._rng()
        streams = [_Stream(indices, self.shuffle, rng) for indices in self.group_indices]
        for _ in range(len(self)):
            yield np.concatenate([stream.take(self.per_group) for stream in streams])


class _Stream:
    """Endless walk over a group's rows, one permutation after another."""

    def __init__(self, indices, shuffle, rng):
        self.indices, self.shuffle, self.rng = indices, shuffle, rng
        self.order, self.position = self._new_order(), 0

    def _new_order(self):
        return self.rng.permutation(self.indices) if self.shuffle else self.indices

    def take(self, n):
        parts = []
        while n > 0:
            if self.position == len(self.order):
                self.order, self.position = self._new_order(), 0
            chunk = self.order[self.position : self.position + n]
            self.position += len(chunk)
            n -= len(chunk)
            parts.append(chunk)
        return np.concatenate(parts)


def balanced_loader(dataset, batch_size, groups, shuffle=True, generator=None, **kwargs):
    """A DataLoader over ``dataset`` drawing :class:`BalancedBatchSampler` batches.

    Meant as a skorch ``iterator_train``: pass the groups as
    ``iterator_train__groups`` (one entry per training row). The dataset must
    accept an array of indices (skorch's ``Dataset`` does).

    Parameters
    ----------
    dataset : skorch Dataset
    batch_size : int
    groups : array-like of shape (len(dataset),)
    shuffle : bool, default=True
    generator : torch.Generator or None, default=None
        Source of the batches' randomness (the fit's own, passed by
        :class:`~sklearn_adv.nn.BaseNet`); None draws from torch's global one.
    **kwargs
        Passed to :class:`torch.utils.data.DataLoader` (``num_workers``, ...).
    """
    if len(groups) != len(dataset):
        raise ValueError(f"groups has {len(groups)} entries but the dataset has {len(dataset)} rows.")
    sampler = BalancedBatchSampler(groups, batch_size, shuffle=shuffle, generator=generator)
    # The loader draws a seed of its own at every epoch: from the same generator.
    return DataLoader(dataset, sampler=sampler, batch_size=None, generator=generator, **kwargs)


def batched_loader(dataset, batch_size, shuffle=False, generator=None, **kwargs):
    """Batches of rows, each fetched whole: one ``dataset[indices]`` call, or a slice.

    A drop-in skorch ``iterator_valid`` (or ``iterator_train``) for datasets
    that accept an array of indices, such as skorch's ``Dataset``. A
    :class:`RowsDataset` with no loader options is walked in contiguous
    slices instead (of the rows shuffled once per epoch when ``shuffle``):
    the same batches without a gather per batch. Shuffled orders are drawn
    from ``generator`` (the fit's own, passed by :class:`~sklearn_adv.nn.BaseNet`),
    or from torch's global generator when it is None.
    """
    if isinstance(dataset, RowsDataset) and not kwargs:
        return _SlicedEpochs(dataset, max(int(batch_size), 1), shuffle, generator)
    if shuffle:
        base = torch.utils.data.RandomSampler(dataset, generator=generator)
    else:
        base = SequentialSampler(dataset)
    sampler = BatchSampler(base, batch_size=max(int(batch_size), 1), drop_last=False)
    return DataLoader(dataset, sampler=_AsArrays(sampler), batch_size=None, generator=generator, **kwargs)


class _AsArrays(Sampler):
    """Yield a BatchSampler's index lists as integer arrays (what skorch's indexing expects)."""

    def __init__(self, batch_sampler):
        self.batch_sampler = batch_sampler

    def __len__(self):
        return len(self.batch_sampler)

    def __iter__(self):
        for batch in self.batch_sampler:
            yield np.asarray(batch, dtype=np.int64)


class _SlicedEpochs:
    """Batches of a :class:`RowsDataset` as slices: one gather per epoch when shuffled, none otherwise.

    The order is drawn from ``generator``, or from torch's global generator
    when it is None, as a shuffling ``DataLoader`` does, so that a seeded fit
    stays reproducible.
    """

    def __init__(self, dataset, batch_size, shuffle, generator=None):
        self.dataset, self.batch_size, self.shuffle, self.generator = dataset, batch_size, shuffle, generator

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        order = torch.randperm(len(self.dataset), generator=self.generator) if self.shuffle else slice(None)
        data = self.dataset[order]
        X, y = data
        for start in range(0, len(X), self.batch_size):
            rows = slice(start, start + self.batch_size)
            if isinstance(y, dict):
                yield X[rows], {key: value[rows] for key, value in y.items()}
            else:
                yield X[rows], (y if self.dataset.y is None else y[rows])


class RowsDataset(torch.utils.data.Dataset):
    """Rows held as tensors and fetched a whole batch at a time (``dataset[indices]``).

    skorch's own ``Dataset`` indexes arrays, and dicts of targets, through
    scikit-learn's generic indexing, which inspects every index of every
    batch and costs more than a small network's step. With the loaders above,
    which pass arrays of indices, a batch here is one tensor indexing per
    array. ``y`` is an array, a dict of arrays (the adversarial net's
    targets) or None (prediction); usable as skorch's ``dataset`` parameter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_adv.nn.sampling import RowsDataset
    >>> data = RowsDataset(np.arange(12.0).reshape(6, 2), {"target": np.arange(6)})
    >>> X, y = data[np.array([0, 4])]
    >>> X.tolist(), y["target"].tolist()
    ([[0.0, 1.0], [8.0, 9.0]], [0, 4])
    """

    def __init__(self, X, y=None):
        self.X = _as_tensor(X)
        if isinstance(y, dict):
            self.y = {key: _as_tensor(value) for key, value in y.items()}
        else:
            self.y = None if y is None else _as_tensor(y)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, rows):
        if not isinstance(rows, slice):
            rows = torch.as_tensor(rows)
        if self.y is None:
            # skorch's convention for a dataset without targets.
            return _take(self.X, rows), torch.zeros(1)
        if isinstance(self.y, dict):
            return _take(self.X, rows), {key: _take(value, rows) for key, value in self.y.items()}
        return _take(self.X, rows), _take(self.y, rows)


def _as_tensor(data):
    """A tensor sharing ``data``'s memory where numpy lets it write, else of a copy.

    torch warns, and may write, when it shares a read-only array (pandas 3
    hands out read-only views of its columns); the copy costs one pass over
    data that training reads many times.
    """
    if isinstance(data, torch.Tensor):
        return data
    array = np.asarray(data)
    return torch.as_tensor(array if array.flags.writeable else array.copy())


def _take(tensor, rows):
    """``tensor[rows]``; for an array of row numbers by ``index_select``, several times faster on the CPU."""
    if isinstance(rows, torch.Tensor) and rows.ndim == 1 and not rows.dtype.is_floating_point and rows.dtype != torch.bool:
        return tensor.index_select(0, rows.long())
    return tensor[rows]
