"""Behaviour of MembershipAuditor: API, calibration, bad input."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

from sklearn_adv.privacy import MembershipAuditor, membership_metrics
from sklearn_adv.privacy.attacks import MembershipAttack, RMIAAttack

METRICS = ["roc_auc", "tpr_at_1%_fpr", "tpr_at_0.1%_fpr", "advantage", "balanced_accuracy", "precision", "recall"]


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=2000, n_features=8, n_informative=5, flip_y=0.2, random_state=0)
    return (X[:300], y[:300]), (X[300:600], y[300:600]), (X[600:], y[600:])


@pytest.fixture(scope="module")
def forest(data):
    return RandomForestClassifier(n_estimators=25, random_state=0).fit(*data[0])


@pytest.fixture(scope="module")
def fitted_auditor(forest, data):
    return MembershipAuditor(forest, n_reference_models=4, random_state=0).fit(*data[2])


def test_evaluate_returns_one_row_with_the_audit_metrics(fitted_auditor, data):
    report = fitted_auditor.evaluate(*data[0], *data[1])
    assert list(report.columns) == METRICS
    assert list(report.index) == ["rmia"]


def test_an_overfit_forest_leaks_more_than_a_regularised_logistic_regression(fitted_auditor, data):
    control = LogisticRegression(C=0.01).fit(*data[0])
    control_auditor = MembershipAuditor(control, n_reference_models=4, random_state=0).fit(*data[2])
    leak = fitted_auditor.evaluate(*data[0], *data[1])["roc_auc"].iloc[0]
    no_leak = control_auditor.evaluate(*data[0], *data[1])["roc_auc"].iloc[0]
    assert leak > 0.65
    assert abs(no_leak - 0.5) < 0.08


def test_predict_holds_the_requested_false_positive_rate_on_fresh_non_members(forest, data):
    X, y = make_classification(n_samples=4000, n_features=8, n_informative=5, flip_y=0.2, random_state=0)
    auditor = MembershipAuditor(forest, attack="loss", fpr=0.1, random_state=0).fit(X[600:2000], y[600:2000])
    false_positive_rate = auditor.predict(X[2000:], y[2000:]).mean()
    assert 0.05 < false_positive_rate < 0.16


def test_predict_is_score_samples_above_the_threshold(fitted_auditor, data):
    X, y = data[1]
    np.testing.assert_array_equal(
        fitted_auditor.predict(X, y), (fitted_auditor.score_samples(X, y) > fitted_auditor.threshold_).astype(int)
    )


def test_without_labels_the_target_predictions_stand_in(fitted_auditor, data):
    X, _ = data[1]
    predicted = fitted_auditor.estimator.predict(X)
    np.testing.assert_array_equal(fitted_auditor.score_samples(X), fitted_auditor.score_samples(X, predicted))


def test_fit_is_reproducible_with_a_random_state(forest, data):
    scores = [
        MembershipAuditor(forest, n_reference_models=2, random_state=3).fit(*data[2]).score_samples(*data[1])
        for _ in range(2)
    ]
    np.testing.assert_array_equal(*scores)


def test_reference_models_trained_in_parallel_match_serial_ones(forest, data):
    from joblib import parallel_config

    serial = MembershipAuditor(forest, n_reference_models=2, n_jobs=1, random_state=0).fit(*data[2])
    with parallel_config(backend="threading"):  # process start-up would dominate this small test
        parallel = MembershipAuditor(forest, n_reference_models=2, n_jobs=2, random_state=0).fit(*data[2])
    np.testing.assert_array_equal(serial.score_samples(*data[1]), parallel.score_samples(*data[1]))


class _PidForest(RandomForestClassifier):
    """Records the process that fitted it."""

    def fit(self, X, y, sample_weight=None):
        import os

        self.fit_pid_ = os.getpid()
        return super().fit(X, y, sample_weight)


@pytest.mark.slow
def test_n_jobs_trains_reference_models_in_worker_processes(forest, data):
    import os

    auditor = MembershipAuditor(
        forest, reference_estimator=_PidForest(n_estimators=5), n_reference_models=4, n_jobs=2, random_state=0
    ).fit(*data[2])
    pids = {model.fit_pid_ for model in auditor.reference_models_}
    assert os.getpid() not in pids


def test_rmia_with_a_single_reference_model_compares_with_every_usable_population_record(forest, data):
    # Half the population trained the only reference model and has no "out"
    # estimate; counted in, those records would cap every score at 0.5.
    auditor = MembershipAuditor(forest, attack="rmia", n_reference_models=1, random_state=0).fit(*data[2])
    scores = auditor.score_samples(*data[1])
    assert np.isfinite(scores).all() and np.isfinite(auditor.threshold_)
    assert scores.max() > 0.9


def test_a_pickled_auditor_scores_the_same(fitted_auditor, data):
    restored = pickle.loads(pickle.dumps(fitted_auditor))
    np.testing.assert_array_equal(restored.score_samples(*data[1]), fitted_auditor.score_samples(*data[1]))


def test_reference_models_are_half_population_clones_and_the_target_is_untouched(forest, fitted_auditor, data):
    assert len(fitted_auditor.reference_models_) == 4
    assert all(m is not forest for m in fitted_auditor.reference_models_)
    np.testing.assert_array_equal(fitted_auditor.reference_in_masks_.sum(axis=0), 2)
    assert fitted_auditor.estimator is forest


def test_a_frozen_target_survives_cloning_and_its_reference_models_are_trained(forest, data):
    from sklearn.base import clone

    auditor = clone(MembershipAuditor(FrozenEstimator(forest), n_reference_models=2, random_state=0)).fit(*data[2])
    reference = auditor.reference_models_[0]
    assert isinstance(reference, RandomForestClassifier)
    assert not np.array_equal(reference.predict_proba(data[1][0]), forest.predict_proba(data[1][0]))


def test_a_pipeline_target_receives_dataframes_with_categorical_columns_unchanged():
    rng = np.random.RandomState(0)
    n = 900
    frame = pd.DataFrame(
        {"age": rng.normal(40, 10, n), "job": rng.choice(["a", "b", "c", "d"], n), "hours": rng.normal(40, 5, n)}
    )
    y = (frame["age"] + rng.normal(0, 10, n) > 40).astype(int).to_numpy()
    encode = make_column_transformer((OneHotEncoder(), ["job"]), (StandardScaler(), ["age", "hours"]))
    target = make_pipeline(encode, RandomForestClassifier(n_estimators=20, random_state=0)).fit(frame[:300], y[:300])
    auditor = MembershipAuditor(target, n_reference_models=2, random_state=0).fit(frame[600:], y[600:])
    report = auditor.evaluate(frame[:300], y[:300], frame[300:600], y[300:600])
    assert list(auditor.feature_names_in_) == ["age", "job", "hours"]
    assert report["roc_auc"].iloc[0] > 0.6


@pytest.mark.parametrize("attack", ["loss", "rmia"])
def test_a_dataframe_with_nullable_integer_and_categorical_columns_reaches_the_target(attack):
    # check_array would cast the whole frame to one dtype and fail; the target reads it natively.
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.RandomState(0)
    n = 600
    frame = pd.DataFrame(
        {
            "count": pd.array(rng.randint(0, 50, n), dtype="Int64"),
            "flag": pd.array(rng.rand(n) < 0.5, dtype="boolean"),
            "job": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        }
    )
    y = ((frame["count"].to_numpy(dtype=float) > 25) ^ (rng.rand(n) < 0.25)).astype(int)
    target = HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=30, random_state=0)
    target.fit(frame[:200], y[:200])
    auditor = MembershipAuditor(target, attack=attack, n_reference_models=2, random_state=0).fit(frame[400:], y[400:])
    scores = auditor.score_samples(frame[:400], y[:400])
    assert list(auditor.feature_names_in_) == ["count", "flag", "job"]
    assert scores.shape == (400,) and np.isfinite(scores).all()
    assert roc_auc_score(np.r_[np.ones(200), np.zeros(200)], scores) > 0.55


def test_an_empty_dataframe_is_rejected(forest):
    with pytest.raises(ValueError, match="non-empty"):
        MembershipAuditor(forest).fit(pd.DataFrame({"a": []}), np.array([]))


def test_plot_roc_draws_on_log_log_axes(fitted_auditor, data):
    import matplotlib

    matplotlib.use("Agg")
    ax = fitted_auditor.plot_roc(*data[0], *data[1])
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "rmia" in ax.get_legend().get_texts()[0].get_text()


def test_the_callers_arrays_are_not_modified(forest, data):
    X, y = data[2]
    X_copy, y_copy = X.copy(), y.copy()
    MembershipAuditor(forest, attack="shadow", n_reference_models=2, random_state=0).fit(X, y).score_samples(X, y)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


def test_membership_metrics_of_a_perfect_and_a_useless_score():
    perfect = membership_metrics([1, 1, 0, 0], [2.0, 1.5, 0.5, 0.1])
    assert perfect["roc_auc"] == 1 and perfect["tpr_at_0.1%_fpr"] == 1 and perfect["balanced_accuracy"] == 1
    rng = np.random.RandomState(0)
    useless = membership_metrics(np.r_[np.ones(5000), np.zeros(5000)], rng.uniform(size=10000))
    assert abs(useless["roc_auc"] - 0.5) < 0.03 and useless["tpr_at_1%_fpr"] < 0.03


# --------------------------------------------------------------------------
# Bad input: clear errors before any training
# --------------------------------------------------------------------------


class _CountingForest(RandomForestClassifier):
    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight)


def test_a_target_without_predict_proba_is_rejected_by_attacks_that_need_it(data):
    target = LinearSVC().fit(*data[0])
    with pytest.raises(TypeError, match="predict_proba"):
        MembershipAuditor(target, attack="rmia").fit(*data[2])


def test_a_reference_estimator_without_predict_proba_is_rejected_before_training(forest, data):
    with pytest.raises(TypeError, match="reference_estimator=LinearSVC has no predict_proba"):
        MembershipAuditor(forest, attack="rmia", reference_estimator=LinearSVC()).fit(*data[2])


@pytest.mark.parametrize("attack", ["confidence", "lira"])
def test_a_target_with_only_decision_function_works_for_margin_attacks(attack, data):
    target = LinearSVC().fit(*data[0])
    auditor = MembershipAuditor(target, attack=attack, n_reference_models=2, random_state=0).fit(*data[2])
    assert np.isfinite(auditor.score_samples(*data[1])).all()


def test_an_unfitted_target_is_rejected():
    X, y = make_classification(n_samples=100, random_state=0)
    with pytest.raises(NotFittedError):
        MembershipAuditor(RandomForestClassifier()).fit(X, y)


def test_labels_the_target_never_saw_are_rejected_before_training(forest, data):
    X, y = data[2]
    _CountingForest.fits = 0
    with pytest.raises(ValueError, match="y contains labels \\[7\\]"):
        MembershipAuditor(forest, reference_estimator=_CountingForest()).fit(X, np.where(y == 1, 7, y))
    assert _CountingForest.fits == 0


def test_labels_of_another_type_than_the_classes_are_rejected_clearly(forest, data):
    X, y = data[2]
    as_strings = np.where(y == 1, "high", "low").astype(object)  # the target's classes are 0 and 1
    with pytest.raises(ValueError, match="y contains labels \\['(high|low)', '(high|low)'\\] that the target does not know"):
        MembershipAuditor(forest, attack="loss").fit(X, as_strings)
    auditor = MembershipAuditor(forest, attack="loss").fit(X, y)
    with pytest.raises(ValueError, match="y contains labels \\['high', 'low'\\]"):
        auditor.score_samples(X[:3], np.array(["high", "low", "high"], dtype=object))


def test_too_little_population_for_the_reference_models_is_rejected_before_training(forest, data):
    X, y = data[2]
    _CountingForest.fits = 0
    with pytest.raises(ValueError, match="n_reference_models=4"):
        MembershipAuditor(forest, n_reference_models=4, reference_estimator=_CountingForest()).fit(
            X[:12], np.r_[np.zeros(11, dtype=int), 1]
        )
    assert _CountingForest.fits == 0


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda X, y: (X, y[:-1]), "inconsistent numbers of samples"),
        (lambda X, y: (X[:, 0], y), "Expected 2D array"),
        (lambda X, y: (X, None), "requires y"),
        (lambda X, y: (X[:0], y[:0]), "0 sample"),
        (lambda X, y: (X, np.zeros_like(y)), "1 class"),
    ],
    ids=["lengths", "1d", "no-y", "empty", "one-class"],
)
def test_bad_population_data_raises_value_error(mutate, match, forest, data):
    X, y = mutate(*data[2])
    with pytest.raises(ValueError, match=match):
        MembershipAuditor(forest, n_reference_models=2).fit(X, y)


def test_nan_is_rejected_before_training_when_the_target_does_not_take_it(data):
    X, y = data[2]
    X = X.copy()
    X[5, 2] = np.nan
    target = LogisticRegression().fit(*data[0])
    _CountingForest.fits = 0
    with pytest.raises(ValueError, match="NaN"):
        MembershipAuditor(target, reference_estimator=_CountingForest()).fit(X, y)
    assert _CountingForest.fits == 0


def test_population_the_target_cannot_read_is_rejected_before_training(data):
    encode = make_column_transformer((StandardScaler(), ["a", "b"]))
    frame = pd.DataFrame(data[0][0][:, :2], columns=["a", "b"])
    target = make_pipeline(encode, LogisticRegression()).fit(frame, data[0][1])
    _CountingForest.fits = 0
    wrong_columns = pd.DataFrame(data[2][0][:, :2], columns=["a", "c"])
    with pytest.raises((ValueError, KeyError)):
        MembershipAuditor(target, reference_estimator=_CountingForest()).fit(wrong_columns, data[2][1])
    assert _CountingForest.fits == 0


def test_evaluate_wants_labels_for_both_groups_or_neither(fitted_auditor, data):
    with pytest.raises(ValueError, match="both"):
        fitted_auditor.evaluate(data[0][0], data[0][1], data[1][0], None)


def test_an_unknown_attack_name_lists_the_registered_ones(forest, data):
    with pytest.raises(ValueError, match="rmia"):
        MembershipAuditor(forest, attack="nope").fit(*data[2])


# --------------------------------------------------------------------------
# A threshold at fpr needs enough held-out population records
# --------------------------------------------------------------------------


def test_a_population_too_small_for_fpr_warns_with_the_population_needed(forest, data):
    X, y = data[2]
    # 10 records hold out 2: the threshold is the higher of two scores, which a third of fresh non-members exceed.
    with pytest.warns(UserWarning, match=r"holds out 2 of the 10 .* about 33.3% .*population of 495 at calibration_size=0.2"):
        MembershipAuditor(forest, attack="loss", fpr=0.01).fit(X[:10], y[:10])
    # 495 records hold out 99, whose highest score a fresh non-member exceeds with probability 1/100.
    with pytest.warns(UserWarning, match="holds out 98 of the 490"):
        MembershipAuditor(forest, attack="loss", fpr=0.01).fit(X[:490], y[:490])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        MembershipAuditor(forest, attack="loss", fpr=0.01).fit(X[:495], y[:495])
        MembershipAuditor(forest, attack="loss", fpr=0.4).fit(X[:10], y[:10])


@pytest.mark.parametrize("n_samples, calibration_size", [(3, 0.2), (12, 0.02)], ids=["3-records", "none-held-out"])
def test_a_population_that_holds_out_no_record_is_refused_with_the_population_needed(n_samples, calibration_size, forest, data):
    X, y = data[2]
    _CountingForest.fits = 0
    auditor = MembershipAuditor(forest, calibration_size=calibration_size, reference_estimator=_CountingForest())
    with pytest.raises(ValueError, match=f"X has {n_samples} sample.*takes 99 held-out records: a population of at least"):
        auditor.fit(X[:n_samples], y[:n_samples])
    assert _CountingForest.fits == 0


# --------------------------------------------------------------------------
# NaN in the target's outputs is named as such
# --------------------------------------------------------------------------


class _NaNOnHugeInputs(LogisticRegression):
    """A target whose predict_proba gives NaN for records with a huge first feature."""

    def predict_proba(self, X):
        proba = super().predict_proba(X)
        proba[np.abs(np.asarray(X)[:, 0]) > 1e3] = np.nan
        return proba


def _with_huge_rows(X, rows):
    X = X.copy()
    X[rows, 0] = 1e6
    return X


@pytest.mark.parametrize("attack", ["loss", "rmia"])
def test_a_target_returning_nan_on_the_population_is_named_before_training(attack, data):
    target = _NaNOnHugeInputs().fit(*data[0])
    X, y = data[2]
    _CountingForest.fits = 0
    auditor = MembershipAuditor(target, attack=attack, reference_estimator=_CountingForest(), random_state=0)
    with pytest.raises(ValueError, match="target model _NaNOnHugeInputs returned NaN in predict_proba for 3 of the 1400"):
        auditor.fit(_with_huge_rows(X, [4, 50, 700]), y)
    assert _CountingForest.fits == 0


def test_a_target_returning_nan_on_audited_records_is_named(data):
    target = _NaNOnHugeInputs().fit(*data[0])
    auditor = MembershipAuditor(target, attack="loss", random_state=0).fit(*data[2])
    (X_members, y_members), (X_nonmembers, y_nonmembers) = data[0], data[1]
    with pytest.raises(ValueError, match="_NaNOnHugeInputs returned NaN in predict_proba for 2 of the 600 records"):
        auditor.evaluate(_with_huge_rows(X_members, [0, 1]), y_members, X_nonmembers, y_nonmembers)
    with pytest.raises(ValueError, match="returned NaN in predict_proba for 1 of the 300 records"):
        auditor.predict(_with_huge_rows(X_nonmembers, [7]), y_nonmembers)


class _NaNAttack(MembershipAttack):
    def score(self, X, y):
        return np.full(len(X), np.nan)


def test_nan_scores_from_the_attack_itself_name_the_attack(forest, data):
    with pytest.raises(ValueError, match="'_NaNAttack' attack on RandomForestClassifier gave NaN membership scores"):
        MembershipAuditor(forest, attack=_NaNAttack()).fit(*data[2])


# --------------------------------------------------------------------------
# score: the true-positive rate at fpr, what a grid search maximises
# --------------------------------------------------------------------------


def test_score_is_the_fraction_of_records_predict_calls_members(fitted_auditor, data):
    members, nonmembers = data[0], data[1]
    score = fitted_auditor.score(*members)
    assert isinstance(score, float)
    assert score == fitted_auditor.predict(*members).mean()
    assert score > fitted_auditor.score(*nonmembers)  # the forest leaks: more members flagged than non-members


def test_a_grid_search_over_an_attack_hyperparameter_picks_the_strongest_attack(forest, data):
    (X_members, y_members), (X_population, y_population) = data[0], data[2]
    X, y = np.vstack([X_population, X_members]), np.r_[y_population, y_members]
    # Fit on the population, score on the members: one split, and no refit on both.
    cv = [(np.arange(len(y_population)), len(y_population) + np.arange(len(y_members)))]
    auditor = MembershipAuditor(FrozenEstimator(forest), attack=RMIAAttack(), n_reference_models=2, random_state=0)
    grid = [0.0, 0.5, 1.0]
    search = GridSearchCV(auditor, {"attack__offline_a": grid}, cv=cv, refit=False).fit(X, y)

    by_hand = [
        clone(auditor).set_params(attack__offline_a=a).fit(X_population, y_population).score(X_members, y_members)
        for a in grid
    ]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], by_hand)
    assert len(set(by_hand)) == len(grid)  # a real choice, not a tie
    assert search.best_params_ == {"attack__offline_a": grid[int(np.argmax(by_hand))]}
