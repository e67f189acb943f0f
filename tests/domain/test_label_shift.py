"""Label-shift reweighting (IWDAN): the class-weight estimate and its use in DomainAdversarialClassifier."""

import numpy as np
import pytest

from sklearn_adv import DomainAdversarialClassifier
from sklearn_adv.domain.label_shift import estimate_class_weights


def test_weights_solve_the_moment_equation_of_an_imperfect_classifier():
    rng = np.random.RandomState(0)
    confusion = np.array([[0.8, 0.1, 0.2], [0.1, 0.7, 0.1], [0.1, 0.2, 0.7]])  # p(predicted i | class j)
    source_prior, target_prior = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    source_labels = rng.choice(3, size=20000, p=source_prior)
    target_labels = rng.choice(3, size=20000, p=target_prior)
    # Soft predictions drawn from the confusion matrix, column by column.
    source_proba = confusion.T[source_labels]
    target_proba = confusion.T[target_labels]
    weights = estimate_class_weights(source_proba, source_labels, target_proba)
    np.testing.assert_allclose(weights, target_prior / source_prior, atol=0.05)
    assert np.isclose(weights @ np.bincount(source_labels, minlength=3) / len(source_labels), 1.0)


def test_weights_are_non_negative_and_a_class_absent_from_the_source_gets_zero():
    labels = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1, 0.0], [0.8, 0.2, 0.0], [0.1, 0.9, 0.0], [0.2, 0.8, 0.0]])
    # The target predictions say "class 0" everywhere: class 1 gets weight 0, not a negative one.
    target = np.tile([1.0, 0.0, 0.0], (5, 1))
    weights = estimate_class_weights(proba, labels, target)
    assert weights[2] == 0.0 and (weights >= 0).all()
    assert weights[0] > 1.5 and weights[1] < 0.1


def test_integer_row_weights_count_as_repeated_rows():
    rng = np.random.RandomState(0)
    source_labels = rng.randint(2, size=30)
    source_proba = np.c_[1 - (p := rng.uniform(0.1, 0.9, 30)), p]
    target_proba = np.c_[1 - (q := rng.uniform(0.1, 0.9, 20)), q]
    source_weight, target_weight = rng.randint(1, 4, size=30), rng.randint(1, 4, size=20)
    weighted = estimate_class_weights(source_proba, source_labels, target_proba, source_weight, target_weight)
    repeated = estimate_class_weights(
        np.repeat(source_proba, source_weight, axis=0),
        np.repeat(source_labels, source_weight),
        np.repeat(target_proba, target_weight, axis=0),
    )
    np.testing.assert_allclose(weighted, repeated, rtol=1e-9)
    assert not np.allclose(weighted, estimate_class_weights(source_proba, source_labels, target_proba))


def _label_shift(n=600, source_positive=0.5, target_positive=0.15, seed=0):
    """The same two Gaussian classes in both domains, in different proportions."""
    rng = np.random.RandomState(seed)

    def draw(p):
        y = (rng.rand(n) < p).astype(int)
        return rng.randn(n, 2) * 0.8 + np.c_[2 * y - 1, np.zeros(n)], y

    (X_s, y_s), (X_t, y_t) = draw(source_positive), draw(target_positive)
    return np.vstack([X_s, X_t]), np.r_[y_s, np.full(n, -1)], X_t, y_t


# The figures below were measured with Adam at 1e-3 and batches of 64 rows.
FAST = {"max_epochs": 15, "encoder__hidden_units": (16,), "optimizer": "adam", "lr": 1e-3, "batch_size": 64, "random_state": 0}


def test_reweighting_estimates_the_target_proportions_and_records_them():
    X, y, X_t, y_t = _label_shift()
    clf = DomainAdversarialClassifier(label_shift="reweight", **FAST).fit(X, y)
    # Target: 85% class 0, 15% class 1, against 50/50 in the source.
    np.testing.assert_allclose(clf.class_weights_, [1.7, 0.3], atol=0.2)
    recorded = clf.history_[:, "class_weights"]
    assert len(recorded) == FAST["max_epochs"] and recorded[-1] == pytest.approx(clf.class_weights_.tolist())
    assert DomainAdversarialClassifier(label_shift="ignore", **FAST).fit(X, y).class_weights_ is None


def test_reweighting_helps_under_label_shift():
    X, y, X_t, y_t = _label_shift()
    plain = DomainAdversarialClassifier(label_shift="ignore", **FAST).fit(X, y).score(X_t, y_t)
    reweighted = DomainAdversarialClassifier(label_shift="reweight", **FAST).fit(X, y).score(X_t, y_t)
    # Aligning the classes as a whole moves target rows of the majority class
    # onto the minority one (0.82 here); reweighted, the classes align one to one (0.93).
    assert reweighted > plain + 0.05


def test_reweighting_with_early_stopping_weights_training_rows_only():
    X, y, _, _ = _label_shift(n=300)
    clf = DomainAdversarialClassifier(label_shift="reweight", early_stopping=True, **FAST).fit(X, y)
    assert clf.class_weights_.shape == (2,) and (clf.class_weights_ > 0).all()


def test_label_shift_must_be_a_known_option():
    X, y, _, _ = _label_shift(n=50)
    with pytest.raises(ValueError, match="label_shift"):
        DomainAdversarialClassifier(label_shift="yes", **FAST).fit(X, y)


def test_reweighting_with_several_domains_pickles_and_predicts_the_same():
    import pickle

    X, y, X_t, _ = _label_shift(n=200)
    domains = np.r_[np.where(np.arange(200) % 2, 1, 2), np.where(np.arange(200) % 2, -1, -2)]
    clf = DomainAdversarialClassifier(label_shift="reweight", **FAST).fit(X, y, sample_domain=domains)
    assert clf.n_domains_ == 4 and clf.class_weights_[0] > clf.class_weights_[1]
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X_t), clf.predict_proba(X_t))
    np.testing.assert_array_equal(restored.class_weights_, clf.class_weights_)
