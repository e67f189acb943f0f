"""Fits fanned out on Dask's distributed scheduler give the results they give on one machine.

MembershipAuditor's reference models and a grid search over a network
estimator run through joblib; under ``joblib.parallel_config(backend="dask")``
they run on the workers of a ``distributed`` cluster, and each fit, owning its
random generators, gives what it gives sequentially or on loky's processes.
"""

import numpy as np
import pytest
import torch
from distributed import Client, LocalCluster
from joblib import parallel_config
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from sklearn_adv import DomainAdversarialClassifier, MembershipAuditor, NeuralClassifier

NET = dict(max_epochs=3, batch_size=16, encoder__hidden_units=(8,), random_state=0)
DANN = dict(NET, domain_head__hidden_units=(8,), optimizer="adam", label_shift="ignore")


@pytest.fixture(scope="module")
def client():
    # Worker threads, not processes: on a two-core machine spawning worker
    # processes that each import torch costs more than the rest of this file,
    # while threads start at once and share the torch already imported. The
    # fits still run side by side, and every task still reaches its worker
    # pickled (the client serializes the graph it submits); the trip back of
    # fitted models from other processes is what the loky test checks.
    # dashboard_address=":0": the scheduler's HTTP server, which runs even
    # without a dashboard, takes a free port rather than one another cluster holds.
    # Worker threads share this process's torch: one torch thread, as worker
    # processes run, so that fits side by side split no arithmetic differently.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
            with Client(cluster) as client:
                yield client
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def records():
    X, y = make_classification(n_samples=400, n_features=6, n_informative=4, flip_y=0.1, random_state=0)
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def shifted_records(records):
    """The records, the last 100 of them shifted and unlabelled (y == -1): the target domain."""
    X, y = records
    target = np.arange(len(y)) >= 300
    return X + target[:, None].astype(np.float32), np.where(target, -1, y)


def _audit(records, n_jobs):
    """Membership scores of an audit of a small network, its reference models trained with ``n_jobs``."""
    X, y = records
    target = NeuralClassifier(**NET).fit(X[:100], y[:100])
    auditor = MembershipAuditor(target, n_reference_models=4, fpr=0.1, n_jobs=n_jobs, random_state=0).fit(X[200:], y[200:])
    return auditor.score_samples(X[:200], y[:200])


def _search(shifted_records, n_jobs):
    """A grid search over DANN, its fits run with ``n_jobs``."""
    grid = {"adversary_weight": [0.0, 1.0], "encoder__hidden_units": [(4,), (8,)]}
    return GridSearchCV(DomainAdversarialClassifier(**DANN), grid, cv=2, n_jobs=n_jobs).fit(*shifted_records)


def _assert_same_search(search, expected):
    for key in ["split0_test_score", "split1_test_score", "mean_test_score", "rank_test_score"]:
        np.testing.assert_array_equal(search.cv_results_[key], expected.cv_results_[key])
    assert search.best_params_ == expected.best_params_


@pytest.fixture(scope="module")
def sequential_audit(records):
    return _audit(records, n_jobs=1)


@pytest.fixture(scope="module")
def sequential_search(shifted_records):
    return _search(shifted_records, n_jobs=1)


@pytest.mark.parametrize("scatter", [False, True], ids=["sent_per_call", "scattered"])
def test_reference_models_trained_on_a_dask_cluster_score_as_sequential_ones(client, records, sequential_audit, scatter):
    # The auditor trains its reference models on a subset of the population it
    # draws itself, which joblib sends once per call: scattering the whole
    # population must leave the results alone.
    with parallel_config(backend="dask", scatter=list(records) if scatter else None):
        scores = _audit(records, n_jobs=2)
    np.testing.assert_array_equal(scores, sequential_audit)


@pytest.mark.parametrize("scatter", [False, True], ids=["sent_per_call", "scattered"])
def test_grid_search_over_dann_on_a_dask_cluster_finds_what_a_sequential_one_finds(
    client, shifted_records, sequential_search, scatter
):
    with parallel_config(backend="dask", scatter=list(shifted_records) if scatter else None):
        search = _search(shifted_records, n_jobs=2)
    _assert_same_search(search, sequential_search)


def test_loky_worker_processes_give_the_sequential_results_too(records, shifted_records, sequential_audit, sequential_search):
    # One test for both, so that the worker processes, whose start (each
    # imports torch) is most of the cost, are started once.
    with parallel_config(backend="loky"):
        scores = _audit(records, n_jobs=2)
        search = _search(shifted_records, n_jobs=2)
    np.testing.assert_array_equal(scores, sequential_audit)
    _assert_same_search(search, sequential_search)
