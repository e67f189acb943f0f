"""The attacks: within eps and the bounds exactly, inputs untouched, reproducible, effective, clear errors."""

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_adv import NeuralClassifier, plugins
from sklearn_adv.nn.perturbations import gradient_attack
from sklearn_adv.robustness import PGDAttack, SquareAttack, fgsm
from sklearn_adv.robustness._gradients import torch_forward


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=300, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def logreg(digits):
    X_train, _, y_train, _ = digits
    return LogisticRegression(max_iter=500).fit(X_train, y_train)


@pytest.fixture(scope="module")
def small():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y, LogisticRegression().fit(X, y)


ATTACKS = {
    "pgd": lambda model, **kw: PGDAttack(model, steps=5, **kw),
    "pgd-madry": lambda model, **kw: PGDAttack(model, steps=5, step_size=None, restarts=2, **kw),
    "fgsm": lambda model, **kw: fgsm(model, **kw),
    "square": lambda model, **kw: SquareAttack(model, max_queries=20, **kw),
}


def _within_ball_and_box(X, X_adv, eps, norm, lower, upper):
    delta = X_adv.astype(np.float64) - X.astype(np.float64)  # the exact change of float32 values too
    size = np.abs(delta).max(axis=1) if norm == "inf" else np.sqrt((delta ** 2).sum(axis=1))
    assert (size <= eps).all(), size.max() - eps
    assert (X_adv >= np.minimum(lower, X)).all() and (X_adv <= np.maximum(upper, X)).all()


@pytest.mark.parametrize("name", sorted(ATTACKS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(eps=st.floats(0.0, 3.0), norm=st.sampled_from(["inf", "2"]), seed=st.integers(0, 2**31 - 1),
       given_bounds=st.booleans(), dtype=st.sampled_from([np.float64, np.float32]))
def test_output_is_within_eps_and_the_bounds_and_leaves_the_input_alone(small, name, eps, norm, seed, given_bounds,
                                                                       dtype):
    X, y, model = small
    rng = np.random.RandomState(seed)
    X_test = (rng.normal(size=(12, 5)) * 1.5).astype(dtype)  # some values beyond the range seen in fit
    before = X_test.copy()
    bounds = (-0.5, rng.uniform(0, 2, size=5)) if given_bounds else None
    attack = ATTACKS[name](model, eps=eps, norm=norm, bounds=bounds, random_state=seed).fit(X)
    X_adv = attack.generate(X_test, y[:12])
    np.testing.assert_array_equal(X_test, before)
    assert X_adv.dtype == dtype and X_adv.shape == X_test.shape
    _within_ball_and_box(X_test, X_adv, eps, norm, attack.lower_, attack.upper_)
    if given_bounds:
        np.testing.assert_array_equal(attack.upper_, bounds[1])
    else:
        np.testing.assert_array_equal(attack.lower_, X.min(axis=0))


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_dataframe_in_dataframe_out_with_categorical_columns_untouched(name):
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "colour": pd.Categorical(rng.choice(["red", "blue"], 60)),
                          "b": rng.normal(size=60), "flag": rng.rand(60) > 0.5}, index=np.arange(100, 160))
    y = (frame["a"] + frame["b"] + (frame["colour"] == "red") > 0.5).astype(int)
    if name == "square":
        model = make_pipeline(make_column_transformer((OneHotEncoder(), ["colour", "flag"]), remainder=StandardScaler()),
                              LogisticRegression()).fit(frame, y)
    else:
        model = NeuralClassifier(max_epochs=5, random_state=0).fit(frame, y)
    before = frame.copy()
    attack = ATTACKS[name](model, eps=0.5, random_state=0).fit(frame)
    adv = attack.generate(frame, y)
    pd.testing.assert_frame_equal(frame, before)
    assert list(adv.columns) == list(frame.columns) and adv.index.equals(frame.index)
    assert adv["colour"].equals(frame["colour"]) and adv["flag"].equals(frame["flag"])
    assert list(attack.perturbed_columns_) == ["a", "b"]
    assert (np.abs(adv[["a", "b"]].to_numpy() - frame[["a", "b"]].to_numpy()) <= 0.5).all()
    assert (model.predict(adv) != y).sum() > (model.predict(frame) != y).sum()


@pytest.mark.parametrize("name", ["pgd", "square"])
def test_random_state_makes_generate_reproducible(small, name):
    X, y, model = small
    first = ATTACKS[name](model, eps=0.3, random_state=5).fit(X).generate(X, y)
    second = ATTACKS[name](model, eps=0.3, random_state=5).fit(X).generate(X, y)
    other = ATTACKS[name](model, eps=0.3, random_state=6).fit(X).generate(X, y)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_y_none_attacks_the_model_predictions(small):
    X, y, model = small
    attack = PGDAttack(model, eps=0.3, random_state=0).fit(X)
    np.testing.assert_array_equal(attack.generate(X), attack.generate(X, model.predict(X)))


def test_fgsm_is_one_signed_gradient_step(small):
    X, y, model = small
    X_adv = fgsm(model, eps=0.1, bounds=(None, None)).fit(X).generate(X, y)
    # For a linear binary model the loss rises along -coef for class 1 rows and +coef for class 0 rows.
    expected = X + 0.1 * np.sign(np.where(y[:, None] == 1, -1, 1) * model.coef_)
    right = model.predict(X) == y  # a row already misclassified is returned as it is: it needs no attack
    np.testing.assert_allclose(X_adv[right], expected[right])
    np.testing.assert_array_equal(X_adv[~right], X[~right])


@pytest.mark.parametrize("make_model", [
    lambda: LogisticRegression(max_iter=500),
    lambda: MLPClassifier((64,), max_iter=200, random_state=0),
    lambda: NeuralClassifier(max_epochs=20, random_state=0),
    lambda: make_pipeline(StandardScaler(), MLPClassifier((64,), max_iter=200, random_state=0)),
], ids=["logreg", "mlp", "neural", "scaled-mlp"])
def test_pgd_lowers_the_accuracy_of_digit_classifiers(digits, make_model):
    X_train, X_test, y_train, y_test = digits
    model = make_model().fit(X_train, y_train)
    clean = model.score(X_test, y_test)
    X_adv = PGDAttack(model, eps=0.1, steps=10, bounds=(0, 1), random_state=0).fit(X_train).generate(X_test, y_test)
    assert clean > 0.9
    assert model.score(X_adv, y_test) < clean - 0.3


def test_pgd_attacks_a_network_on_images(digits):
    X_train, X_test, y_train, y_test = digits
    images_train, images_test = X_train.reshape(-1, 8, 8), X_test.reshape(-1, 8, 8)
    model = NeuralClassifier(max_epochs=10, random_state=0).fit(images_train, y_train)
    attack = PGDAttack(model, eps=0.2, steps=10, random_state=0).fit(images_train)
    assert attack.lower_.shape == (8, 8) and attack.lower_.min() == 0 and attack.upper_.max() == 1  # one range
    X_adv = attack.generate(images_test, y_test)
    assert X_adv.shape == images_test.shape
    assert model.score(X_adv, y_test) < 0.2


def test_auto_step_size_finds_at_least_as_many_as_the_fixed_step(digits):
    X_train, X_test, y_train, y_test = digits
    model = MLPClassifier((64,), max_iter=200, random_state=0).fit(X_train, y_train)
    forward, x, y = torch_forward(model, X_test), torch.tensor(X_test), torch.tensor(y_test)
    found = {}
    for step_size in (None, "auto"):
        adv = gradient_attack(forward, x, y, eps=0.08, steps=20, step_size=step_size, lower=0.0, upper=1.0,
                              generator=torch.Generator().manual_seed(0))
        assert (adv - x).abs().max() <= 0.08 + 1e-12
        found[step_size] = int((forward(adv).argmax(1) != y).sum())
    assert found["auto"] >= found[None]


def test_square_attack_lowers_a_random_forest_quickly(digits):
    X_train, X_test, y_train, y_test = digits
    forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(X_train, y_train)
    X_adv = SquareAttack(forest, eps=0.2, max_queries=100, bounds=(0, 1), random_state=0).fit(X_train).generate(
        X_test[:150], y_test[:150])
    assert forest.score(X_test[:150], y_test[:150]) > 0.9
    assert forest.score(X_adv, y_test[:150]) < 0.6


@pytest.mark.slow
def test_square_attack_brings_a_random_forest_below_030_at_eps_02_in_300_queries():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=540, random_state=0, stratify=y)
    forest = RandomForestClassifier(random_state=0).fit(X_train, y_train)
    attack = SquareAttack(forest, eps=0.2, max_queries=300, bounds=(0, 1), random_state=0).fit(X_train)
    assert forest.score(attack.generate(X_test, y_test), y_test) < 0.30


def test_square_attack_on_images_and_in_l2(digits):
    X_train, X_test, y_train, y_test = digits
    model = LogisticRegression(max_iter=500).fit(X_train, y_train)

    class OnImages:  # a model of (n, 8, 8) images, seen through predict_proba only
        classes_ = model.classes_

        def predict(self, X):
            return model.predict(X.reshape(len(X), -1))

        def predict_proba(self, X):
            return model.predict_proba(X.reshape(len(X), -1))

        def __sklearn_is_fitted__(self):
            return True

    images = X_test.reshape(-1, 8, 8)
    for norm, eps in (("inf", 0.2), ("2", 1.5)):
        X_adv = SquareAttack(OnImages(), eps=eps, norm=norm, max_queries=100, random_state=0).fit(images).generate(
            images, y_test)
        _within_ball_and_box(images.reshape(300, -1), X_adv.reshape(300, -1), eps, norm, 0.0, 1.0)
        assert model.score(X_adv.reshape(300, -1), y_test) < model.score(X_test, y_test) - 0.3


def test_attacks_are_registered_plugins():
    assert {"pgd", "fgsm", "square"} <= set(plugins.available("evasion_attack"))
    assert plugins.get("evasion_attack", "pgd") is PGDAttack


# -- errors -------------------------------------------------------------------


def test_pgd_refuses_a_model_without_gradients_and_names_the_black_box_attack(small):
    X, y, _ = small
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    with pytest.raises(TypeError, match="SquareAttack"):
        PGDAttack(forest).fit(X)


def test_square_attack_refuses_a_model_without_scores(small):
    X, y, _ = small

    class LabelsOnly:
        classes_ = np.array([0, 1])

        def predict(self, X):
            return np.zeros(len(X), int)

        def __sklearn_is_fitted__(self):
            return True

    with pytest.raises(TypeError, match="predict_proba"):
        SquareAttack(LabelsOnly()).fit(X)


@pytest.mark.parametrize("cls", [PGDAttack, SquareAttack])
def test_unfitted_or_missing_model_is_refused(small, cls):
    X, _, _ = small
    with pytest.raises(NotFittedError):
        cls(LogisticRegression()).fit(X)
    with pytest.raises(ValueError, match="estimator="):
        cls().fit(X)
    with pytest.raises(NotFittedError):
        cls(small[2]).generate(X)


@pytest.mark.parametrize("params, match", [
    ({"eps": -0.1}, "eps"),
    ({"norm": "1"}, "norm"),
    ({"steps": 0}, "steps"),
    ({"bounds": (0,)}, "bounds"),
    ({"bounds": (1, 0)}, "lower must not exceed upper"),
    ({"bounds": (0, np.ones(3))}, "bounds"),
])
def test_bad_parameters_raise_before_any_work(small, params, match):
    X, _, model = small
    with pytest.raises(ValueError, match=match):
        PGDAttack(model, **params).fit(X)


def test_wrong_shapes_and_labels_are_refused(small):
    X, y, model = small
    with pytest.raises(ValueError, match="5"):
        PGDAttack(model).fit(X[:, :3])
    attack = PGDAttack(model).fit(X)
    with pytest.raises(ValueError, match="features"):
        attack.generate(X[:, :4], y)
    with pytest.raises(ValueError, match="inconsistent|samples"):
        attack.generate(X, y[:-1])
    with pytest.raises(ValueError, match="not among the model's classes_"):
        attack.generate(X, y + 5)
    with pytest.raises(ValueError, match="NaN"):
        attack.generate(np.full_like(X, np.nan), y)


def test_frame_without_numeric_columns_is_refused(small):
    frame = pd.DataFrame({"c": list("abab")})
    with pytest.raises(ValueError, match="numeric"):
        SquareAttack(small[2]).fit(frame)


def test_verbose_reports_progress(small, capsys):
    X, y, model = small
    PGDAttack(model, eps=0.3, steps=3, batch_size=30, verbose=1).fit(X).generate(X, y)
    SquareAttack(model, eps=0.3, max_queries=21, verbose=1).fit(X).generate(X, y)
    out = capsys.readouterr().out
    assert "PGDAttack: 30/60 rows attacked" in out and "PGDAttack: 60/60 rows attacked" in out
    assert "SquareAttack: 3/21 queries" in out
    PGDAttack(model, eps=0.3, steps=3).fit(X).generate(X, y)
    assert capsys.readouterr().out == ""


def test_alternating_losses_over_restarts_find_more_on_a_linear_model(digits, logreg):
    # The cross-entropy's maximum need not be misclassified; the margin aims at one wrong class.
    X_train, X_test, _, y_test = digits
    found = {}
    for loss in ("cross_entropy", "alternate"):
        attack = PGDAttack(logreg, eps=0.1, steps=20, restarts=2, loss=loss, bounds=(0, 1), random_state=0)
        found[loss] = (logreg.predict(attack.fit(X_train).generate(X_test, y_test)) != y_test).sum()
    assert found["alternate"] > found["cross_entropy"]
