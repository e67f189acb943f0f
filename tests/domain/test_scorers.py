"""Label-free scorers on tables with categorical columns, whatever model reads them."""

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from sklearn_adv.domain import domain_classifier_accuracy, importance_weighted_accuracy


def _shifted_table(n=80, seed=0):
    """Source rows mostly of category 'a', target rows mostly of 'b': the shift is in the categorical column."""
    rng = np.random.RandomState(seed)
    source = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["a", "b"], n, p=[0.9, 0.1])})
    target = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["a", "b"], n, p=[0.1, 0.9])})
    X = pd.concat([source, target], ignore_index=True)
    y = np.r_[(source["x"] > 0).astype(int), np.full(n, -1)]
    return X, y


def test_domain_classifier_accuracy_sees_a_shift_in_a_categorical_column():
    X, y = _shifted_table()
    assert domain_classifier_accuracy(None, X, y) > 0.8
    assert abs(domain_classifier_accuracy(None, X[["x"]], y) - 0.5) < 0.15


def test_importance_weighted_accuracy_reads_categorical_frames_through_a_pipeline():
    X, y = _shifted_table()
    labelled = y != -1
    encode = make_column_transformer((OneHotEncoder(), ["c"]), remainder="passthrough")
    model = make_pipeline(encode, LogisticRegression()).fit(X[labelled], y[labelled])
    score = importance_weighted_accuracy(model, X, y)
    assert 0.5 < score <= 1.0

