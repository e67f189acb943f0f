"""RobustnessDisplay: accuracy against eps for one or several models."""

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from sklearn_adv.robustness import RobustnessDisplay

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600], X[600:800] / 16, y[600:800]


def test_from_estimator_draws_one_curve_per_model_starting_at_the_clean_accuracy(digits):
    X_train, y_train, X_test, y_test = digits
    models = {"logreg": LogisticRegression(max_iter=300).fit(X_train, y_train),
              "forest": RandomForestClassifier(n_estimators=10, random_state=0).fit(X_train, y_train)}
    display = RobustnessDisplay.from_estimator(models, X_test, y_test, eps=[0, 0.1, 0.2],
                                               attack={"logreg": "pgd", "forest": "square"},
                                               bounds=(0, 1), random_state=0)
    assert set(display.lines_) == {"logreg", "forest"}
    for name, model in models.items():
        accuracy = display.accuracies[name]
        assert accuracy[0] == model.score(X_test, y_test)
        assert accuracy[-1] < accuracy[0]
        np.testing.assert_array_equal(display.lines_[name].get_ydata(), accuracy)
    assert display.ax_.get_ylabel() == "accuracy" and display.ax_.get_xlabel() == "eps"


def test_one_model_is_named_by_its_class_and_the_attack_labels_the_axis(digits):
    X_train, y_train, X_test, y_test = digits
    model = LogisticRegression(max_iter=300).fit(X_train, y_train)
    display = RobustnessDisplay.from_estimator(model, X_test, y_test, eps=[0, 0.1], steps=5)
    assert list(display.lines_) == ["LogisticRegression"]
    assert display.ax_.get_xlabel() == "eps (PGDAttack)"


def test_plot_on_given_axes():
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    display = RobustnessDisplay([0, 0.1], {"a": [0.9, 0.5], "b": [0.8, 0.7]}).plot(ax=ax, linestyle="--")
    assert display.ax_ is ax and len(ax.get_lines()) == 2
    plt.close("all")


@pytest.mark.parametrize("kwargs, match", [
    ({"estimator": {}}, "empty"),
    ({"eps": [-0.1]}, "eps"),
    ({"attack": {"other": "pgd"}}, "without an entry"),
])
def test_bad_arguments_raise(digits, kwargs, match):
    X_train, y_train, X_test, y_test = digits
    model = LogisticRegression(max_iter=300).fit(X_train, y_train)
    arguments = {"estimator": {"m": model}, "eps": [0, 0.1], **kwargs}
    with pytest.raises(ValueError, match=match):
        RobustnessDisplay.from_estimator(arguments.pop("estimator"), X_test, y_test, **arguments)


@pytest.mark.parametrize("module", ["attacks", "scoring", "plotting"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"sklearn_adv.robustness.{module}"))
    assert result.attempted > 0 and result.failed == 0
