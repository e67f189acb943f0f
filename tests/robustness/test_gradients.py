"""Gradient access: the torch forward rebuilt from a fitted model computes what the model predicts."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
from sklearn.svm import LinearSVC

from sklearn_adv import NeuralClassifier
from sklearn_adv.robustness._gradients import NotDifferentiableError, torch_forward


def _proba(model, X):
    return torch.softmax(torch_forward(model, X)(torch.tensor(np.asarray(X, dtype=np.float64))), 1).detach().numpy()


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(200, n_features=6, n_informative=4, n_classes=3, random_state=0)
    return X, y


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_rebuilt_mlp_gives_predict_proba(data, activation, n_classes):
    X, y = data
    y = y % n_classes
    model = MLPClassifier((8, 5), activation=activation, max_iter=300, random_state=0).fit(X, y)
    np.testing.assert_allclose(_proba(model, X), model.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_rebuilt_logistic_regression_gives_predict_proba(data, n_classes):
    X, y = data
    model = LogisticRegression().fit(X, y % n_classes)
    np.testing.assert_allclose(_proba(model, X), model.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("cls", [SGDClassifier, LinearSVC, RidgeClassifier])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_rebuilt_linear_classifier_gives_decision_function(data, cls, n_classes):
    X, y = data
    model = cls(random_state=0).fit(X, y % n_classes) if cls is not RidgeClassifier else cls().fit(X, y % n_classes)
    logits = torch_forward(model, X)(torch.tensor(X)).detach().numpy()
    expected = model.decision_function(X)
    np.testing.assert_allclose(logits[:, 1] - logits[:, 0] if n_classes == 2 else logits, expected, atol=1e-9)


@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler(), MinMaxScaler(clip=True), MaxAbsScaler(),
                                    StandardScaler(with_mean=False)])
def test_scaler_pipeline_is_chained(data, scaler):
    X, y = data
    model = make_pipeline(scaler, MLPClassifier((8,), max_iter=300, random_state=0)).fit(X[:150], y[:150])
    np.testing.assert_allclose(_proba(model, X), model.predict_proba(X), atol=1e-6)


def test_frozen_estimator_is_unwrapped(data):
    X, y = data
    model = FrozenEstimator(LogisticRegression().fit(X, y))
    np.testing.assert_allclose(_proba(model, X), model.predict_proba(X), atol=1e-6)


def test_rebuilt_mlp_gradient_matches_finite_differences(data):
    X, y = data
    model = MLPClassifier((8,), activation="tanh", max_iter=300, random_state=0).fit(X, y)
    forward = torch_forward(model, X[:3])
    x = torch.tensor(X[:3], requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: torch.log_softmax(forward(t), 1), (x,))


def test_network_classifier_rows_and_images():
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16
    y = y[:300]
    for model, X_in in ((NeuralClassifier(max_epochs=2, random_state=0).fit(X, y), X),
                        (NeuralClassifier(max_epochs=2, image_shape=(8, 8), random_state=0).fit(X, y), X),
                        (NeuralClassifier(max_epochs=2, random_state=0).fit(X.reshape(-1, 8, 8), y), X.reshape(-1, 8, 8))):
        np.testing.assert_allclose(_proba(model, X_in), model.predict_proba(X_in), atol=1e-5)


def test_network_classifier_on_mixed_frame_moves_numeric_columns_only():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.normal(size=80), "colour": rng.choice(["red", "blue"], 80), "b": rng.normal(size=80) * 5})
    y = (frame["a"] + (frame["colour"] == "red") > 0.5).astype(int)
    model = NeuralClassifier(max_epochs=3, random_state=0).fit(frame, y)
    forward = torch_forward(model, frame)
    moved = frame.copy()
    moved[["a", "b"]] += rng.normal(size=(80, 2))
    logits = forward(torch.tensor(moved[["a", "b"]].to_numpy()))
    np.testing.assert_allclose(torch.softmax(logits, 1).detach().numpy(), model.predict_proba(moved), atol=1e-5)


def test_model_without_gradients_points_to_the_black_box_attack(data):
    X, y = data
    with pytest.raises(NotDifferentiableError, match="SquareAttack"):
        torch_forward(RandomForestClassifier(n_estimators=3).fit(X, y), X)
    assert issubclass(NotDifferentiableError, TypeError)


def test_unfitted_model_is_refused(data):
    with pytest.raises(NotFittedError):
        torch_forward(LogisticRegression(), data[0])
