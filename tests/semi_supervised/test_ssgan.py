import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_moons
from sklearn.model_selection import train_test_split

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
