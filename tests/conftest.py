import os

import numpy as np
import pytest

# One thread per test process: the suite runs in parallel on small machines.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
