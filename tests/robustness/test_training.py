import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from torch import nn

from sklearn_adv import AdversarialTrainingClassifier, NeuralClassifier
from sklearn_adv.nn.perturbations import gradient_attack
from sklearn_adv.nn.robust import RobustNet, attack_mode

TINY = dict(max_epochs=2, batch_size=16, encoder__hidden_units=(8,), random_state=0)
TINY_IMAGES = dict(max_epochs=2, batch_size=16, encoder__channels=(4,), random_state=0)
METHODS = ["trades", "pgd", "fgsm", "vat"]


def _blobs(n=80, d=3, seed=0):
    """Two classes told apart by the sign of feature 0."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    return X, (X[:, 0] > 0).astype(int)


def _digits(seed=0, n_train=600):
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, train_size=n_train, test_size=400, stratify=y, random_state=seed)


def _robust_accuracy(clf, X, y, eps, steps=20):
    """Accuracy under a 20-step PGD attack within the [0, 1] box, driven on the trained module."""
    module = clf.net_.module_.eval()
    x = torch.as_tensor(clf._network_input(X))
    target = torch.as_tensor(np.searchsorted(clf.classes_, y))
    x_adv = gradient_attack(lambda z: module(z)[0], x, target, eps=eps, steps=steps, restarts=1, lower=0.0, upper=1.0,
                            generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return (module(x_adv)[0].argmax(1) == target).float().mean().item()


# -- training and prediction ---------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_each_method_trains_and_predicts_rows_images_and_dataframes(method):
    X, y = _blobs()
    clf = AdversarialTrainingClassifier(method=method, **TINY).fit(X, y)
    assert isinstance(clf.net_, RobustNet) and clf.net_.method == method
    assert clf.predict(X).shape == (len(X),)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=1e-6)
    assert clf.transform(X).shape == (len(X), 8)

    images = np.random.RandomState(0).rand(32, 6, 6)
    labels = (images[:, :3].mean(axis=(1, 2)) > images[:, 3:].mean(axis=(1, 2))).astype(int)
    conv = AdversarialTrainingClassifier(method=method, **TINY_IMAGES).fit(images, labels)
    assert type(conv.net_.module_.encoder).__name__ == "ConvNet"
    assert set(conv.predict(images)) <= {0, 1}

    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["colour"] = pd.Categorical(np.where(X[:, 1] > 0, "red", "blue"))
    mixed = AdversarialTrainingClassifier(method=method, **TINY).fit(frame, np.where(y == 1, "yes", "no"))
    assert mixed.input_encoder_ is not None
    assert set(mixed.predict(frame)) <= {"yes", "no"}


def test_eps_zero_trains_the_network_normal_training_trains():
    X, y = _blobs()
    normal = NeuralClassifier(**TINY).fit(X, y)
    for method in ("pgd", "fgsm"):
        adversarial = AdversarialTrainingClassifier(method=method, eps=0.0, **TINY).fit(X, y)
        np.testing.assert_allclose(adversarial.predict_proba(X), normal.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_the_same_random_state_gives_the_same_model_and_another_a_different_one():
    X, y = _blobs()
    first = AdversarialTrainingClassifier(**TINY).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(AdversarialTrainingClassifier(**TINY).fit(X, y).predict_proba(X), first)
    other = AdversarialTrainingClassifier(**{**TINY, "random_state": 1}).fit(X, y).predict_proba(X)
    assert not np.allclose(other, first)


def test_sample_weights_scaled_alike_give_the_model_of_no_weights():
    X, y = _blobs()
    unweighted = AdversarialTrainingClassifier(**TINY).fit(X, y)
    weighted = AdversarialTrainingClassifier(**TINY).fit(X, y, sample_weight=np.full(len(y), 3.0))
    np.testing.assert_allclose(weighted.predict_proba(X), unweighted.predict_proba(X), rtol=1e-4, atol=1e-5)


def test_label_smoothing_reaches_the_cross_entropy_and_softens_the_predictions():
    X, y = _blobs()
    params = dict(TINY, max_epochs=30, eps=0.05)
    sharp = AdversarialTrainingClassifier(**params).fit(X, y)
    smooth = AdversarialTrainingClassifier(label_smoothing=0.3, **params).fit(X, y)
    assert smooth.net_.criterion_.label_smoothing == 0.3
    assert smooth.predict_proba(X).max(axis=1).mean() < sharp.predict_proba(X).max(axis=1).mean()


# -- robustness -----------------------------------------------------------------


def test_adversarial_training_resists_attacks_far_better_than_normal_training():
    X_train, X_test, y_train, y_test = _digits()
    params = dict(max_epochs=15, random_state=0)
    normal = AdversarialTrainingClassifier(eps=0.0, **params).fit(X_train, y_train)
    robust = AdversarialTrainingClassifier(eps=0.1, **params).fit(X_train, y_train)
    # Seen: normal 0.96 clean, 0.57 attacked; adversarial 0.95 clean, 0.75 attacked.
    assert robust.score(X_test, y_test) > 0.85
    assert _robust_accuracy(robust, X_test, y_test, 0.1) > _robust_accuracy(normal, X_test, y_test, 0.1) + 0.12


# -- the attack inside training ---------------------------------------------------


def _net(method, eps=0.2, norm="inf", lower=0.0, upper=1.0, **params):
    module = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))

    class Main(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = module

        def forward(self, x):
            return self.body(x), x

    net = RobustNet(Main(), criterion=nn.CrossEntropyLoss(reduction="none", ignore_index=-1), method=method, eps=eps,
                    norm=norm, lower=lower, upper=upper, **params)
    net.initialize()
    net.set_generator(torch.Generator().manual_seed(0))
    return net


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("norm", ["inf", "2"])
def test_adversarial_examples_stay_within_eps_and_the_bounds(method, norm):
    net = _net(method, norm=norm, attack_steps=3)
    x = torch.rand(32, 6)
    target = torch.arange(32) % 3
    x_adv = net.adversarial_examples(x, target, net.module_(x)[0], 0.2)
    distance = (x_adv - x).abs().amax(1) if norm == "inf" else (x_adv - x).norm(dim=1)
    assert distance.max() <= 0.2 + 1e-6 and distance.max() > 0.05
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    assert not x_adv.requires_grad


def test_the_attack_reads_batch_statistics_but_leaves_running_statistics_and_dropout_alone():
    net = _net("pgd", attack_steps=3)
    net.module_.train()
    batch_norm, dropout = net.module_.body[1], net.module_.body[3]
    before = (batch_norm.running_mean.clone(), batch_norm.num_batches_tracked.clone())
    x = torch.rand(32, 6)
    with attack_mode(net.module_):
        assert not dropout.training
        outputs = net.module_(x)[0]
        twice = net.module_(x)[0]
    torch.testing.assert_close(outputs, twice)  # no dropout mask
    torch.testing.assert_close(batch_norm.running_mean, before[0])
    assert batch_norm.num_batches_tracked == before[1]
    assert batch_norm.track_running_stats and dropout.training  # restored


def test_the_attack_draws_its_random_starts_from_the_fits_generator():
    x, target = torch.rand(16, 6), torch.arange(16) % 3
    net = _net("fgsm")
    first = net.adversarial_examples(x, target, None, 0.2)
    net.set_generator(torch.Generator().manual_seed(0))
    state = torch.get_rng_state()
    again = net.adversarial_examples(x, target, None, 0.2)
    assert torch.equal(torch.get_rng_state(), state)  # torch's global generator untouched
    torch.testing.assert_close(first, again)
    net.set_generator(torch.Generator().manual_seed(1))
    assert not torch.allclose(net.adversarial_examples(x, target, None, 0.2), first)


def test_eps_ramps_up_linearly_over_the_warmup_then_stays():
    X, y = _blobs(n=64)
    clf = AdversarialTrainingClassifier(eps=0.3, eps_warmup=0.5, max_epochs=4, batch_size=16, random_state=0).fit(X, y)
    eps = [batch["eps"] for epoch in clf.history_ for batch in epoch["batches"]]
    assert len(eps) == 16
    np.testing.assert_allclose(eps[:8], 0.3 * np.arange(8) / 8)
    np.testing.assert_allclose(eps[8:], 0.3)
    no_warmup = AdversarialTrainingClassifier(eps=0.3, eps_warmup=0.0, **TINY).fit(X, y)
    assert no_warmup.history_[0, "batches", 0, "eps"] == 0.3


def test_bounds_come_from_the_data_per_column_for_rows_and_per_channel_for_images():
    X, y = _blobs()
    clf = AdversarialTrainingClassifier(**TINY).fit(X, y)
    np.testing.assert_allclose(clf.bounds_[0], X.min(axis=0), rtol=1e-6)
    np.testing.assert_allclose(clf.bounds_[1], X.max(axis=0), rtol=1e-6)
    images = np.zeros((32, 6, 6))
    images[:, 2:4, 2:4] = np.random.RandomState(0).rand(32, 2, 2)
    conv = AdversarialTrainingClassifier(**TINY_IMAGES).fit(images, np.arange(32) % 2)
    # Pixels always dark in the training images may still light up, to the brightest pixel seen.
    assert conv.bounds_[0].shape == (1, 1, 1) and conv.bounds_[0].item() == 0.0
    assert conv.bounds_[1].item() == pytest.approx(images.max())
    given = AdversarialTrainingClassifier(bounds=(-1.0, None), **TINY).fit(X, y)
    assert given.net_.lower.item() == -1.0 and given.net_.upper is None


# -- unlabelled rows ----------------------------------------------------------------


def test_vat_learns_from_unlabelled_rows():
    X, y = _blobs(n=120)
    partly = np.where(np.arange(120) < 20, y, -1)
    labelled_only = AdversarialTrainingClassifier(method="vat", **TINY).fit(X[:20], y[:20])
    with_unlabelled = AdversarialTrainingClassifier(method="vat", **TINY).fit(X, partly)
    np.testing.assert_array_equal(with_unlabelled.classes_, [0, 1])
    assert not np.allclose(with_unlabelled.predict_proba(X), labelled_only.predict_proba(X))


@pytest.mark.slow
def test_vat_with_unlabelled_digits_beats_the_labelled_rows_alone():
    X_train, X_test, y_train, y_test = _digits(n_train=1000)
    labelled = np.concatenate([np.flatnonzero(y_train == k)[:5] for k in range(10)])
    partly = np.full(len(y_train), -1)
    partly[labelled] = y_train[labelled]
    params = dict(method="vat", eps=0.5, norm="2", max_epochs=60, random_state=0)
    alone = AdversarialTrainingClassifier(**params).fit(X_train[labelled], y_train[labelled]).score(X_test, y_test)
    semi = AdversarialTrainingClassifier(**params).fit(X_train, partly).score(X_test, y_test)
    assert semi > alone + 0.03


def test_vat_refuses_input_without_labelled_rows():
    X, _ = _blobs()
    with pytest.raises(ValueError, match="no labelled row"):
        AdversarialTrainingClassifier(method="vat", **TINY).fit(X, np.full(len(X), -1))


@pytest.mark.parametrize("method", ["trades", "pgd", "fgsm"])
def test_other_methods_refuse_unlabelled_rows(method):
    X, y = _blobs()
    with pytest.raises(ValueError, match="only method='vat' learns from unlabelled rows"):
        AdversarialTrainingClassifier(method=method, **TINY).fit(X, np.where(np.arange(len(y)) < 10, -1, y))


# -- bad parameters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"method": "madry"}, "'method' parameter"),
        ({"eps": -0.1}, "'eps' parameter"),
        ({"norm": "1"}, "'norm' parameter"),
        ({"attack_steps": 0}, "'attack_steps' parameter"),
        ({"eps_warmup": 1.5}, "'eps_warmup' parameter"),
        ({"label_smoothing": 1.0}, "'label_smoothing' parameter"),
        ({"bounds": (0.0,)}, "bounds must be a \\(lower, upper\\) pair"),
        ({"bounds": (1.0, 0.0)}, "bounds must have lower <= upper"),
    ],
)
def test_bad_parameters_are_refused_before_training(params, match):
    X, y = _blobs()
    with pytest.raises(ValueError, match=match):
        AdversarialTrainingClassifier(**params, **TINY).fit(X, y)


def test_zero_weight_on_every_labelled_row_is_refused():
    X, y = _blobs()
    partly = np.where(np.arange(len(y)) < 20, y, -1)
    weight = (partly == -1).astype(float)  # only the unlabelled rows weigh
    with pytest.raises(ValueError, match="sample_weight is 0 on every labelled row"):
        AdversarialTrainingClassifier(method="vat", **TINY).fit(X, partly, sample_weight=weight)


def test_history_records_the_accuracy_on_attacked_training_rows_per_epoch():
    X, y = _blobs()
    clf = AdversarialTrainingClassifier(**TINY).fit(X, y)
    assert len(clf.history_[:, "adversarial_accuracy"]) == TINY["max_epochs"]
    assert all(0.0 <= value <= 1.0 for value in clf.history_[:, "adversarial_accuracy"])


def test_grid_search_chooses_eps_and_method_by_cross_validation():
    X, y = _blobs()
    search = GridSearchCV(AdversarialTrainingClassifier(**TINY), {"eps": [0.0, 0.2], "method": ["trades", "fgsm"]}, cv=2)
    search.fit(X, y)
    assert set(search.cv_results_["param_eps"]) == {0.0, 0.2}
    assert search.best_estimator_.net_.eps == search.best_params_["eps"]
