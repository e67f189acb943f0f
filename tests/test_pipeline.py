import numpy as np
import pytest
import sklearn.pipeline
from imblearn.over_sampling import RandomOverSampler
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_adv import MixupTransformer
from sklearn_adv.pipeline import Pipeline, make_pipeline


class WeightRecorder(ClassifierMixin, BaseEstimator):
    """A classifier that remembers what its fit received."""

    def fit(self, X, y, sample_weight=None):
        self.n_rows_, self.sample_weight_ = len(X), sample_weight
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        self.predicted_rows_ = np.asarray(X)
        return np.full(len(X), self.classes_[0])


def _data():
    rng = np.random.RandomState(0)
    return rng.normal(size=(30, 3)), np.arange(30) % 2


def test_sampler_weights_reach_the_final_estimator():
    X, y = _data()
    model = make_pipeline(MixupTransformer(n_samples=10, random_state=0), WeightRecorder()).fit(X, y)
    mixup, final = model.steps[0][1], model.steps[-1][1]
    assert final.n_rows_ == len(mixup.sample_weight_) > 30
    np.testing.assert_array_equal(final.sample_weight_, mixup.sample_weight_)


def test_samplers_are_skipped_at_prediction_time():
    X, y = _data()
    model = make_pipeline(MixupTransformer(n_samples=10, random_state=0), WeightRecorder()).fit(X, y)
    model.predict(X)
    np.testing.assert_array_equal(model.steps[-1][1].predicted_rows_, X)
    np.testing.assert_array_equal(model[:-1].transform(X), X)


def test_a_sampler_in_a_plain_sklearn_pipeline_fails_loudly():
    X, y = _data()
    plain = sklearn.pipeline.make_pipeline(MixupTransformer(), LogisticRegression())
    with pytest.raises(TypeError, match="sklearn_adv.pipeline"):
        plain.fit(X, y)


def test_a_final_estimator_without_sample_weight_is_a_clear_error():
    X, y = _data()
    with pytest.raises(TypeError, match="sample_weight"):
        make_pipeline(MixupTransformer(random_state=0), KNeighborsClassifier()).fit(X, y)
    # With mixup off there are no weights to pass, and any estimator works.
    make_pipeline(MixupTransformer(alpha=0), KNeighborsClassifier()).fit(X, y)


def test_weights_cannot_pass_through_a_later_resampler():
    X, y = _data()
    model = Pipeline(
        [("mixup", MixupTransformer(random_state=0)), ("ros", RandomOverSampler()), ("clf", WeightRecorder())]
    )
    with pytest.raises(TypeError, match="weights"):
        model.fit(X, y)


def test_imblearn_samplers_still_work():
    X, y = _data()
    y = np.r_[np.zeros(25), np.ones(5)].astype(int)
    model = make_pipeline(RandomOverSampler(random_state=0), WeightRecorder()).fit(X, y)
    assert model.steps[-1][1].n_rows_ == 50 and model.steps[-1][1].sample_weight_ is None


def test_grid_search_over_alpha_including_off():
    X, y = load_digits(return_X_y=True)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), MixupTransformer(random_state=0), LogisticRegression(max_iter=200)),
        {"mixuptransformer__alpha": [0.0, 0.2]},
        cv=2,
    ).fit(X[:200], y[:200])
    assert search.best_params_["mixuptransformer__alpha"] in (0.0, 0.2)
    assert search.best_score_ > 0.8
    assert search.predict(X[200:210]).shape == (10,)
