import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_moons
from sklearn.model_selection import GridSearchCV, train_test_split
from torch import nn

from sklearn_adv import NeuralClassifier
from sklearn_adv.nn import BaseNet

TINY = dict(max_epochs=3, batch_size=16, encoder__hidden_units=(8,), random_state=0)


def _blobs(n=80, d=3, seed=0):
    """Two classes told apart by the sign of feature 0."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    return X, (X[:, 0] > 0).astype(int)


def test_learns_two_moons_far_better_than_chance():
    X, y = make_moons(600, noise=0.15, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    clf = NeuralClassifier(max_epochs=60, random_state=0).fit(X_train, y_train)
    # Seeds 0-3 all reach 0.95 on held-out rows; chance is 0.5.
    assert clf.score(X_test, y_test) > 0.9
    assert isinstance(clf.net_, BaseNet)
    np.testing.assert_allclose(clf.predict_proba(X_test).sum(axis=1), 1.0)


def test_string_labels_come_back_as_given_and_transform_gives_the_encoder_features():
    X, y = _blobs()
    labels = np.where(y == 1, "cat", "dog")
    clf = NeuralClassifier(**TINY).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog"])
    assert set(clf.predict(X)) <= {"cat", "dog"}
    features = clf.transform(X)
    assert features.shape == (len(X), 8) and features.dtype == np.float32
    assert list(clf.get_feature_names_out()) == [f"neuralclassifier{i}" for i in range(8)]


def test_images_get_a_conv_net_and_flat_rows_with_image_shape_the_same_model():
    rng = np.random.RandomState(0)
    images = rng.rand(24, 6, 6).astype(np.float32)
    y = np.array([0, 1] * 12)
    small = dict(max_epochs=1, batch_size=8, encoder__channels=(4,), random_state=0)
    clf = NeuralClassifier(**small).fit(images, y)
    assert type(clf.net_.module_.encoder).__name__ == "ConvNet"
    assert clf.transform(images).shape == (24, 4)
    flat = NeuralClassifier(image_shape=(6, 6), **small).fit(images.reshape(24, -1), y)
    np.testing.assert_allclose(flat.predict_proba(images.reshape(24, -1)), clf.predict_proba(images), atol=1e-3)
    with pytest.raises(ValueError, match="images of shape"):
        clf.predict(rng.rand(3, 6, 5))


def test_a_dataframe_with_categorical_columns_is_encoded_and_a_numeric_one_given_as_is():
    X, y = _blobs()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    numeric = NeuralClassifier(**TINY).fit(frame, y)
    assert numeric.input_encoder_ is None
    np.testing.assert_array_equal(numeric.predict_proba(frame), NeuralClassifier(**TINY).fit(X, y).predict_proba(X))

    frame["colour"] = pd.Categorical(np.where(X[:, 1] > 0, "red", "blue"))
    mixed = NeuralClassifier(**TINY).fit(frame, y)
    assert mixed.input_encoder_ is not None
    np.testing.assert_array_equal(mixed.feature_names_in_, ["a", "b", "c", "colour"])
    # Three standardised numbers and the two one-hot columns of colour.
    assert mixed.net_.module_.encoder.layers[0].in_features == 5
    assert mixed.predict(frame).shape == (len(frame),)


def test_sample_weights_scaled_alike_give_the_model_of_no_weights():
    X, y = _blobs()
    unweighted = NeuralClassifier(**TINY).fit(X, y)
    weighted = NeuralClassifier(**TINY).fit(X, y, sample_weight=np.full(len(y), 3.0))
    np.testing.assert_allclose(weighted.predict_proba(X), unweighted.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_rows_of_weight_zero_are_left_out_of_training():
    X, y = _blobs(n=400)
    # Every other row is relabelled 1: with weight 0 it must not pull the head.
    corrupted = np.arange(len(y)) % 2 == 0
    y_noisy = np.where(corrupted, 1, y)
    params = dict(TINY, max_epochs=40)
    plain = NeuralClassifier(**params).fit(X, y_noisy)
    weighted = NeuralClassifier(**params).fit(X, y_noisy, sample_weight=(~corrupted).astype(float))
    clean = {name: model.score(X, y) for name, model in (("plain", plain), ("weighted", weighted))}
    # Over seeds 0-3: weighted 0.99-1.0, plain 0.64-0.67 (it predicts 1 for most rows).
    assert clean["weighted"] > 0.9
    assert clean["weighted"] > clean["plain"] + 0.2


@pytest.mark.parametrize(
    "make_weight, message",
    [
        (lambda y: -np.ones(len(y)), "Negative values in data passed to `sample_weight`"),
        (lambda y: np.ones(len(y) - 1), r"sample_weight.shape == \(79,\)"),
        (lambda y: np.zeros(len(y)), "at least one non-zero"),
    ],
)
def test_bad_sample_weights_raise(make_weight, message):
    X, y = _blobs()
    with pytest.raises(ValueError, match=message):
        NeuralClassifier(**TINY).fit(X, y, sample_weight=make_weight(y))


def test_random_state_makes_fits_reproducible_and_seeds_differ():
    X, y = _blobs()
    first, second = NeuralClassifier(**TINY).fit(X, y), NeuralClassifier(**TINY).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    other = NeuralClassifier(**{**TINY, "random_state": 1}).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), first.predict_proba(X))


def test_early_stopping_holds_out_a_stratified_validation_split():
    X, y = _blobs(n=100)
    clf = NeuralClassifier(early_stopping=True, validation_fraction=0.2, n_iter_no_change=2, lr=0.1, **{**TINY, "max_epochs": 50})
    clf.fit(X, y)
    assert "valid_loss" in clf.history_[-1]
    valid = clf.net_.train_split.keywords["valid_ds"]
    assert len(valid) == 20 and sorted(np.unique(valid.y["target"].numpy())) == [0, 1]
    batches = clf.history_[0, "batches"]
    assert sum(batch.get("train_batch_size", 0) for batch in batches) == 80
    assert sum(batch.get("valid_batch_size", 0) for batch in batches) == 20
    assert len(clf.history_) < 50
    with pytest.raises(ValueError, match="validation_fraction"):
        NeuralClassifier(early_stopping=True, validation_fraction=0.01, **TINY).fit(X, y)


def test_an_encoder_instance_is_copied_not_trained_in_place():
    X, y = _blobs()
    encoder = nn.Sequential(nn.Linear(3, 7), nn.ReLU())
    before = {key: value.clone() for key, value in encoder.state_dict().items()}
    clf = NeuralClassifier(encoder=encoder, **{k: v for k, v in TINY.items() if not k.startswith("encoder__")}).fit(X, y)
    assert clf.transform(X).shape == (len(X), 7)
    assert clf.net_.module_.encoder is not encoder
    for key, value in encoder.state_dict().items():
        assert torch.equal(value, before[key])
    # The fitted encoder did train.
    assert not torch.equal(clf.net_.module_.encoder[0].weight.detach(), before["0.weight"])


def test_role_params_reach_the_networks_and_work_in_grid_search():
    X, y = _blobs()
    search = GridSearchCV(NeuralClassifier(**TINY), {"encoder__hidden_units": [(4,), (6, 5)]}, cv=2, error_score="raise")
    search.fit(X, y)
    assert search.best_params_["encoder__hidden_units"] in [(4,), (6, 5)]
    clf = clone(NeuralClassifier(**TINY)).set_params(encoder__hidden_units=(6, 5), head__hidden_units=(4,)).fit(X, y)
    linear = lambda module: [m.out_features for m in module.modules() if isinstance(m, nn.Linear)]  # noqa: E731
    assert linear(clf.net_.module_.encoder) == [6, 5]
    assert linear(clf.net_.module_.head) == [4, 2]


def test_missing_and_one_class_labels_are_refused_before_training():
    X, y = _blobs()
    with pytest.raises(ValueError, match="requires y to be passed"):
        NeuralClassifier(**TINY).fit(X, None)
    with pytest.raises(ValueError, match=r"only one class \(1\)"):
        NeuralClassifier(**TINY).fit(X, np.ones(len(X), dtype=int))


def test_label_smoothing_caps_the_confidence_on_separable_data_and_zero_is_plain_cross_entropy():
    X, y = _blobs(n=120)
    X[:, 0] += np.where(y == 1, 3.0, -3.0)  # far apart: plain cross-entropy grows the logits without bound
    settings = dict(max_epochs=150, batch_size=32, random_state=0)
    plain = NeuralClassifier(**settings).fit(X, y)
    smooth = NeuralClassifier(label_smoothing=0.2, **settings).fit(X, y)
    # The smoothed target of the true class is 0.9, which the optimum matches.
    assert plain.predict_proba(X).max(axis=1).mean() > 0.98
    assert 0.8 < smooth.predict_proba(X).max(axis=1).mean() < 0.95
    np.testing.assert_array_equal(smooth.predict(X), y)
    explicit = NeuralClassifier(label_smoothing=0.0, **settings).fit(X, y)
    np.testing.assert_array_equal(explicit.predict_proba(X), plain.predict_proba(X))


def test_label_smoothing_outside_zero_to_one_is_refused():
    X, y = _blobs()
    for value in (-0.1, 1.0):
        with pytest.raises(ValueError, match="label_smoothing"):
            NeuralClassifier(label_smoothing=value, **TINY).fit(X, y)
