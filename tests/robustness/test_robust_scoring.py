"""Robust accuracy as a score and as a scorer for model selection."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate, train_test_split
from sklearn.neural_network import MLPClassifier

from sklearn_adv.robustness import PGDAttack, SquareAttack, make_robust_scorer, robust_accuracy_score


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=200, random_state=0, stratify=y)
    return X_train, X_test, y_train, y_test, LogisticRegression(max_iter=500).fit(X_train, y_train)


def test_eps_zero_is_the_clean_accuracy(digits):
    _, X_test, _, y_test, model = digits
    assert robust_accuracy_score(model, X_test, y_test, eps=0) == model.score(X_test, y_test)


def test_robust_accuracy_falls_as_eps_grows(digits):
    _, X_test, _, y_test, model = digits
    scores = [robust_accuracy_score(model, X_test, y_test, eps=eps, steps=10, bounds=(0, 1), random_state=0)
              for eps in (0.0, 0.05, 0.1, 0.2)]
    assert scores == sorted(scores, reverse=True) and scores[-1] < scores[0] - 0.5


@pytest.mark.parametrize("attack", [None, "pgd", "fgsm", "square", PGDAttack(steps=5), SquareAttack(max_queries=150)])
def test_every_kind_of_attack_lowers_the_score(digits, attack):
    _, X_test, _, y_test, model = digits
    params = {"max_queries": 150} if attack == "square" else {}
    score = robust_accuracy_score(model, X_test, y_test, eps=0.15, attack=attack, random_state=0, **params)
    assert score < model.score(X_test, y_test) - 0.2


def test_an_attack_object_is_cloned_not_changed(digits):
    _, X_test, _, y_test, model = digits
    attack = PGDAttack(steps=5, eps=0.3)
    robust_accuracy_score(model, X_test, y_test, eps=0.1, attack=attack)
    assert attack.estimator is None and attack.eps == 0.3 and not hasattr(attack, "lower_")


def test_an_attack_object_keeps_its_own_eps_when_none_is_given(digits):
    _, X_test, _, y_test, model = digits
    own = robust_accuracy_score(model, X_test, y_test, attack=PGDAttack(eps=0.0))
    assert own == model.score(X_test, y_test)


@pytest.mark.parametrize("kwargs, error, match", [
    ({}, ValueError, "eps is required"),
    ({"eps": -1.0}, ValueError, "eps"),
    ({"eps": 0.1, "attack": "nope"}, ValueError, "evasion_attack"),
    ({"eps": 0.1, "attack": LogisticRegression()}, TypeError, "generate"),
])
def test_bad_settings_raise(digits, kwargs, error, match):
    _, X_test, _, y_test, model = digits
    with pytest.raises(error, match=match):
        robust_accuracy_score(model, X_test, y_test, **kwargs)
    with pytest.raises(error, match=match):
        make_robust_scorer(**kwargs)


def test_scorer_checks_attack_parameters_when_made():
    with pytest.raises(ValueError, match="steps"):
        make_robust_scorer(eps=0.1, steps=0)


def test_grid_search_selects_by_robust_accuracy(digits):
    X_train, _, y_train, _, _ = digits
    scorer = make_robust_scorer(eps=0.1, steps=5, bounds=(0, 1), random_state=0)
    search = GridSearchCV(LogisticRegression(max_iter=300), {"C": [0.01, 1.0, 100.0]}, scoring=scorer, cv=2)
    search.fit(X_train, y_train)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and len(set(scores)) == 3
    assert search.best_params_["C"] == [0.01, 1.0, 100.0][int(np.argmax(scores))]
    assert "make_robust_scorer(eps=0.1" in repr(scorer)


def test_scorer_in_a_dict_beside_accuracy(digits):
    X_train, _, y_train, _, _ = digits
    scoring = {"accuracy": "accuracy", "robust": make_robust_scorer(eps=0.1, attack="fgsm", bounds=(0, 1))}
    results = cross_validate(MLPClassifier((32,), max_iter=100, random_state=0), X_train, y_train, cv=2,
                             scoring=scoring)
    assert (results["test_robust"] < results["test_accuracy"]).all()


def test_sample_weight_reaches_the_accuracy(digits):
    _, X_test, _, y_test, model = digits
    weights = (model.predict(X_test) == y_test).astype(float)  # weight only the rows the model gets right
    assert robust_accuracy_score(model, X_test, y_test, eps=0, sample_weight=weights) == 1.0
