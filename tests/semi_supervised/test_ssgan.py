import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_moons
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from sklearn_adv import NeuralClassifier, SemiSupervisedGANClassifier
from sklearn_adv.nn.gan import SemiSupervisedDiscriminator, SemiSupervisedGANNet

TINY = dict(
    max_epochs=2, batch_size=16, noise_dim=4, discriminator__hidden_units=(16,), generator__hidden_units=(16,),
    random_state=0,
)


def _moons(n=120, n_labelled=10, seed=0):
    X, y = make_moons(n, noise=0.1, random_state=seed)
    y_partial = np.where(np.arange(n) < n_labelled, y, -1)
    return X, y, y_partial


def test_unlabelled_rows_are_minus_one_and_predictions_use_the_labelled_classes():
    X, _, y_partial = _moons()
    clf = SemiSupervisedGANClassifier(**TINY).fit(X, y_partial)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.n_labelled_ == 10
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(X)) <= {0, 1}
    assert isinstance(clf.net_, SemiSupervisedGANNet)
    assert isinstance(clf.discriminator_, SemiSupervisedDiscriminator)


def test_class_labels_other_than_integers_come_back_as_given():
    X, y, _ = _moons()
    labels = np.where(y == 1, "cat", "dog").astype(object)
    labels[10:] = -1
    clf = SemiSupervisedGANClassifier(**TINY).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog"])
    assert set(clf.predict(X)) <= {"cat", "dog"}


def test_all_rows_unlabelled_is_refused_before_training():
    X, _, _ = _moons()
    with pytest.raises(ValueError, match="no labelled row"):
        SemiSupervisedGANClassifier(**TINY).fit(X, np.full(len(X), -1))


def test_one_labelled_class_is_refused_before_training():
    X, _, _ = _moons()
    y = np.full(len(X), -1)
    y[:5] = 1
    with pytest.raises(ValueError, match="one class"):
        SemiSupervisedGANClassifier(**TINY).fit(X, y)


def test_without_unlabelled_rows_it_trains_as_a_supervised_classifier():
    X, y, _ = _moons()
    clf = SemiSupervisedGANClassifier(**{**TINY, "max_epochs": 30}).fit(X, y)
    assert clf.n_labelled_ == len(X)
    assert clf.score(X, y) > 0.8


def test_sample_weight_zero_on_every_labelled_row_is_refused_and_weights_change_the_model():
    X, _, y_partial = _moons()
    weights = np.ones(len(X))
    weights[:10] = 0
    with pytest.raises(ValueError, match="sample_weight is 0 on every labelled row"):
        SemiSupervisedGANClassifier(**TINY).fit(X, y_partial, sample_weight=weights)
    weights[:5] = 3.0
    plain = SemiSupervisedGANClassifier(**TINY).fit(X, y_partial)
    weighted = SemiSupervisedGANClassifier(**TINY).fit(X, y_partial, sample_weight=weights)
    assert not np.allclose(plain.predict_proba(X), weighted.predict_proba(X))


def test_transform_gives_the_discriminator_features_and_sample_draws_rows_within_the_data_range():
    X, _, y_partial = _moons()
    clf = SemiSupervisedGANClassifier(**TINY).fit(X, y_partial)
    features = clf.transform(X)
    assert features.shape == (120, 16) and features.dtype == np.float32
    rows = clf.sample(50, random_state=0)
    assert rows.shape == (50, 2)
    assert (rows >= X.min(axis=0) - 1e-6).all() and (rows <= X.max(axis=0) + 1e-6).all()
    np.testing.assert_array_equal(rows, clf.sample(50, random_state=0))
    assert not np.array_equal(rows, clf.sample(50, random_state=1))
    with pytest.raises(ValueError, match="n_samples"):
        clf.sample(-1)


def test_images_keep_their_shape_and_flat_rows_with_image_shape_give_the_same_model():
    rng = np.random.RandomState(0)
    images = rng.rand(40, 6, 6)
    y = np.r_[[0, 1] * 5, [-1] * 30]
    clf = SemiSupervisedGANClassifier(**TINY).fit(images, y)
    assert clf.sample(3, random_state=0).shape == (3, 6, 6)
    flat = SemiSupervisedGANClassifier(image_shape=(6, 6), **TINY).fit(images.reshape(40, -1), y)
    assert flat.sample(3, random_state=0).shape == (3, 36)
    np.testing.assert_allclose(flat.predict_proba(images.reshape(40, -1)), clf.predict_proba(images), atol=1e-5)


def test_a_dataframe_with_categorical_columns_is_encoded_and_sampled_back_to_its_columns():
    X, _, y_partial = _moons()
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "side": pd.Categorical(np.where(X[:, 0] > 0.5, "r", "l"))})
    clf = SemiSupervisedGANClassifier(**TINY).fit(frame, y_partial)
    assert clf.input_encoder_ is not None
    assert clf.predict(frame).shape == (120,)
    rows = clf.sample(5, random_state=0)
    assert list(rows.columns) == ["a", "b", "side"] and set(rows["side"]) <= {"l", "r"}


def test_same_seed_same_model_and_pickles():
    X, _, y_partial = _moons()
    first = SemiSupervisedGANClassifier(**TINY).fit(X, y_partial)
    second = clone(first).fit(X, y_partial)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    loaded = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(loaded.predict_proba(X), first.predict_proba(X))


def test_label_smoothing_changes_the_classifier_loss_and_is_validated():
    X, _, y_partial = _moons()
    plain = SemiSupervisedGANClassifier(**TINY).fit(X, y_partial)
    smooth = SemiSupervisedGANClassifier(label_smoothing=0.3, **TINY).fit(X, y_partial)
    assert not np.allclose(plain.history_[:, "classifier_loss"], smooth.history_[:, "classifier_loss"])
    with pytest.raises(ValueError, match="label_smoothing"):
        SemiSupervisedGANClassifier(label_smoothing=1.0, **TINY).fit(X, y_partial)


def test_history_records_the_players_losses():
    X, _, y_partial = _moons()
    clf = SemiSupervisedGANClassifier(**TINY).fit(X, y_partial)
    for key in ("train_loss", "classifier_loss", "discriminator_loss", "generator_loss", "labelled_accuracy"):
        assert np.isfinite(clf.history_[:, key]).all()


@pytest.mark.slow
def test_unlabelled_digits_lift_accuracy_above_the_labelled_rows_alone():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=540, stratify=y, random_state=0)
    rng = np.random.RandomState(0)
    labelled = np.concatenate([rng.choice(np.flatnonzero(y_train == c), 5, replace=False) for c in range(10)])
    y_partial = np.full(len(y_train), -1)
    y_partial[labelled] = y_train[labelled]
    ssgan = SemiSupervisedGANClassifier(max_epochs=60, random_state=0).fit(X_train, y_partial)
    alone = NeuralClassifier(random_state=0).fit(X_train[labelled], y_train[labelled])
    # 50 labels: about 0.85 for the labelled rows alone, above 0.9 with the unlabelled ones.
    assert ssgan.score(X_test, y_test) > alone.score(X_test, y_test) + 0.03


@pytest.mark.parametrize(
    "param, value",
    [("vat_weight", -1.0), ("vat_eps", 0.0), ("vat_xi", 0.0), ("balance_weight", -0.5), ("classifier_average", 1.0)],
)
def test_the_few_label_terms_are_validated_before_training(param, value):
    X, _, y_partial = _moons()
    with pytest.raises(ValueError, match=param):
        SemiSupervisedGANClassifier(**{**TINY, param: value}).fit(X, y_partial)


def test_auto_epochs_give_about_700_steps_whatever_the_number_of_rows():
    clf = SemiSupervisedGANClassifier()
    assert clf.max_epochs == "auto"
    for n_rows, batch_size in [(1257, 100), (4000, 100), (60000, 100), (300, 50)]:
        epochs = clf._epochs_for(n_rows, batch_size)
        steps = epochs * -(-n_rows // batch_size)
        assert epochs >= 5 and (steps <= 800 or epochs == 5)
        assert steps >= 700 or epochs == 2000


def _discriminator(n_features=2, n_classes=2, seed=0):
    torch.manual_seed(seed)
    body = torch.nn.Sequential(torch.nn.Linear(n_features, 32), torch.nn.Tanh())
    return SemiSupervisedDiscriminator(body, 32, n_classes)


def test_the_virtual_adversarial_move_changes_the_predictions_more_than_a_random_move():
    # In 20 dimensions a random move of the same length mostly misses the direction that matters.
    net = SemiSupervisedGANNet(torch.nn.Linear(2, 2), _discriminator, criterion=torch.nn.Module, vat_eps=0.3)
    net.adversary_ = _discriminator(n_features=20, n_classes=3)
    net.device_generator_ = torch.Generator().manual_seed(0)
    real = torch.randn(200, 20, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        logits = net.adversary_(real)[1]
    vat = net._vat_loss(real, logits)
    step = torch.randn(real.shape, generator=torch.Generator().manual_seed(1))
    moved = real + 0.3 * step / step.norm(dim=1, keepdim=True)
    with torch.no_grad():
        random = torch.nn.functional.kl_div(
            torch.log_softmax(net.adversary_(moved)[1], dim=1), torch.softmax(logits, dim=1), reduction="batchmean"
        )
    assert vat.requires_grad and vat.item() > 3 * random.item() > 0


def test_vat_weight_zero_leaves_the_model_as_without_the_term():
    X, _, y_partial = _moons()
    base = {**TINY, "balance_weight": 0.0, "classifier_average": 0.0}
    off = SemiSupervisedGANClassifier(vat_weight=0.0, **base).fit(X, y_partial)
    on = SemiSupervisedGANClassifier(vat_weight=1.0, **base).fit(X, y_partial)
    assert not np.allclose(off.predict_proba(X), on.predict_proba(X))
    assert not np.allclose(off.history_[:, "discriminator_loss"], on.history_[:, "discriminator_loss"])


class _Snapshots(Callback):
    """The discriminator's parameters before training and after every step."""

    def on_train_begin(self, net, **kwargs):
        self.steps = [[p.detach().clone() for p in net.adversary_.parameters()]]

    def on_batch_end(self, net, **kwargs):
        self.steps.append([p.detach().clone() for p in net.adversary_.parameters()])


def test_the_fitted_discriminator_is_the_moving_average_of_its_steps():
    X, _, y_partial = _moons()
    snapshots = _Snapshots()
    clf = SemiSupervisedGANClassifier(classifier_average=0.9, callbacks=[snapshots], **TINY).fit(X, y_partial)
    average = [p.clone() for p in snapshots.steps[0]]
    for t, params in enumerate(snapshots.steps[1:]):
        decay = min(0.9, (1.0 + t) / (10.0 + t))
        average = [decay * a + (1 - decay) * p for a, p in zip(average, params)]
    fitted = list(clf.discriminator_.parameters())
    for expected, got in zip(average, fitted):
        torch.testing.assert_close(got.detach(), expected, rtol=1e-5, atol=1e-6)
    assert any(not torch.allclose(got.detach(), last) for got, last in zip(fitted, snapshots.steps[-1]))


def test_the_balance_term_pulls_the_predicted_class_shares_towards_the_labelled_frequencies():
    # Two labelled rows of each moon; a short fit without the term leaves the shares of the unlabelled rows skewed.
    X, y = make_moons(400, noise=0.1, random_state=1)
    y_partial = np.full(400, -1)
    for c in (0, 1):
        y_partial[np.flatnonzero(y == c)[:2]] = c
    base = {**TINY, "max_epochs": 10, "vat_weight": 0.0, "entropy_weight": 0.0, "classifier_average": 0.0}
    shares = []
    for weight in (0.0, 20.0):
        clf = SemiSupervisedGANClassifier(balance_weight=weight, **base).fit(X, y_partial)
        shares.append(abs(clf.predict_proba(X[y_partial == -1]).mean(axis=0)[0] - 0.5))
    assert shares[1] < shares[0]
