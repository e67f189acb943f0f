"""The fairness report, the scorers and their metadata routing, and the trade-off display."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
import sklearn
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_adv.fairness import (
    FairClassifier,
    FairnessTradeoffDisplay,
    fairness_report,
    make_fairness_scorer,
    make_tradeoff_scorer,
)

matplotlib.use("Agg")


def make_data(n=200, seed=0):
    rng = np.random.RandomState(seed)
    s = rng.randint(2, size=n)
    X = np.c_[s + 0.3 * rng.randn(n), rng.randn(n, 2)]
    y = (X[:, 0] + X[:, 1] + 0.3 * rng.randn(n) > 0.5).astype(int)
    return X, y, s


def test_report_per_group_rates_match_their_definitions():
    y_true = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    y_pred = np.array([1, 0, 1, 0, 1, 1, 0, 0])
    groups = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])
    report = fairness_report(y_true, y_pred, sensitive_features=groups)
    a, b = report.by_group.loc["a"], report.by_group.loc["b"]
    assert (a["count"], a["selection_rate"], a["true_positive_rate"], a["false_positive_rate"]) == (4, 0.5, 0.5, 0.5)
    assert (b["selection_rate"], b["true_positive_rate"], b["false_positive_rate"], b["accuracy"]) == (0.5, 1.0, 1 / 3, 0.75)
    assert report.difference["true_positive_rate"] == pytest.approx(0.5)
    assert report.summary["demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(y_true, y_pred, sensitive_features=groups)
    )
    assert report.summary["equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(y_true, y_pred, sensitive_features=groups)
    )


def test_report_needs_pos_label_for_string_labels():
    with pytest.raises(ValueError, match="pos_label"):
        fairness_report(["yes", "no"], ["yes", "yes"], sensitive_features=[0, 1])
    report = fairness_report(["yes", "no"], ["yes", "yes"], sensitive_features=[0, 1], pos_label="yes")
    assert report.by_group["selection_rate"].tolist() == [1.0, 1.0]


def test_printed_report_is_an_aligned_table_of_summaries_then_rates_by_group():
    y_true = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    y_pred = np.array([1, 0, 1, 0, 1, 1, 0, 0])
    sex = pd.Series(["female"] * 4 + ["male"] * 4, name="sex")
    report = fairness_report(y_true, y_pred, sensitive_features=sex)
    text = str(report)
    assert text == repr(report)
    summary, rates = text.split("\n\n")
    for name in report.summary.index:
        assert name in summary
    header, *rows = rates.splitlines()
    assert [row.split()[0] for row in rows] == ["overall", "female", "male", "difference", "ratio"]
    assert header.split() == ["sex", "count", "selection_rate", "true_positive_rate", "false_positive_rate", "accuracy"]
    # Numbers are right-aligned under their column's name.
    selection_rate_end = header.index("selection_rate") + len("selection_rate")
    assert [row[selection_rate_end - 5 : selection_rate_end] for row in rows] == ["0.500", "0.500", "0.500", "0.000", "1.000"]
    # Still the Bunch of frames it was.
    assert set(report) == {"by_group", "overall", "difference", "ratio", "summary", "metric_frame"}
    assert report.by_group is report["by_group"]


def _weighted_and_repeated(seed=0, n=60):
    """Labels, predictions and groups with integer row weights, and the same rows repeated by their weights."""
    rng = np.random.RandomState(seed)
    y_true, y_pred, groups = rng.randint(2, size=n), rng.randint(2, size=n), rng.choice(["a", "b", "c"], size=n)
    weights = rng.randint(0, 4, size=n)
    repeat = np.repeat(np.arange(n), weights)
    return (y_true, y_pred, groups, weights), (y_true[repeat], y_pred[repeat], groups[repeat])


def test_weighted_report_equals_the_report_on_rows_repeated_by_their_weights():
    (y_true, y_pred, groups, weights), (y_rep, pred_rep, groups_rep) = _weighted_and_repeated()
    weighted = fairness_report(y_true, y_pred, sensitive_features=groups, sample_weight=weights)
    repeated = fairness_report(y_rep, pred_rep, sensitive_features=groups_rep)
    rates = ["selection_rate", "true_positive_rate", "false_positive_rate", "accuracy"]
    pd.testing.assert_frame_equal(weighted.by_group[rates], repeated.by_group[rates])
    pd.testing.assert_series_equal(weighted.summary, repeated.summary)
    # count stays the number of rows
    assert weighted.by_group["count"].sum() == len(y_true)
    unweighted = fairness_report(y_true, y_pred, sensitive_features=groups)
    assert not np.allclose(weighted.summary, unweighted.summary)


@pytest.mark.parametrize("make", [make_fairness_scorer, make_tradeoff_scorer])
def test_weighted_scorers_equal_their_score_on_rows_repeated_by_their_weights(make):
    (y_true, _, groups, weights), (y_rep, _, groups_rep) = _weighted_and_repeated(seed=1)
    X = np.random.RandomState(2).randn(len(y_true), 2)
    model = LogisticRegression().fit(X, y_true)
    X_rep = X[np.repeat(np.arange(len(X)), weights)]
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make().set_score_request(sample_weight=True)
        weighted = scorer(model, X, y_true, sensitive_features=groups, sample_weight=weights)
        repeated = scorer(model, X_rep, y_rep, sensitive_features=groups_rep)
        unweighted = scorer(model, X, y_true, sensitive_features=groups)
    assert weighted == pytest.approx(repeated)
    assert weighted != pytest.approx(unweighted)


def test_negative_weights_in_the_report_raise():
    with pytest.raises(ValueError, match="Negative values"):
        fairness_report([1, 0], [1, 1], sensitive_features=[0, 1], sample_weight=[1, -1])


def test_fairness_scorer_without_routed_sensitive_features_names_the_fix():
    X, y, _ = make_data()
    scorer = make_fairness_scorer()
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        scorer(DummyClassifier().fit(X, y), X, y)


def test_cross_validate_routes_sensitive_features_to_the_fairness_scorer():
    X, y, s = make_data()
    model = LogisticRegression().fit(X, y)
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(
            LogisticRegression(),
            X,
            y,
            params={"sensitive_features": s},
            scoring={"dp": make_fairness_scorer("demographic_parity_difference")},
            cv=2,
        )
    # The scorer saw each test fold's own attribute: a leaky model has a clear gap.
    assert np.all(result["test_dp"] < -0.2)
    assert -demographic_parity_difference(y, model.predict(X), sensitive_features=s) < -0.2


def test_tradeoff_scorer_is_accuracy_minus_penalised_gap():
    X, y, s = make_data()
    model = LogisticRegression().fit(X, y)
    y_pred = model.predict(X)
    expected = np.mean(y_pred == y) - 2.0 * demographic_parity_difference(y, y_pred, sensitive_features=s)
    with sklearn.config_context(enable_metadata_routing=True):
        assert make_tradeoff_scorer(penalty=2.0)(model, X, y, sensitive_features=s) == pytest.approx(expected)


def test_grid_search_with_a_sensitive_column_and_the_scorer_reading_routed_features():
    from sklearn.model_selection import GridSearchCV

    X, y, s = make_data(n=240)
    frame = pd.DataFrame(X, columns=["proxy", "a", "b"]).assign(sex=np.where(s == 1, "m", "f"))
    params = dict(max_epochs=6, batch_size=32, encoder__hidden_units=(8,), random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        # The model reads the attribute from its column; only the scorer takes sensitive_features.
        estimator = FairClassifier("sex", **params).set_fit_request(sensitive_features=False)
        search = GridSearchCV(
            estimator, {"adversary_weight": [0.0, 3.0]}, scoring=make_tradeoff_scorer(penalty=1.0), cv=2
        )
        search.fit(frame, y, sensitive_features=frame["sex"])
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.sensitive_groups_.tolist() == ["f", "m"]


def test_tradeoff_display_has_one_point_per_weight():
    X, y, s = make_data()
    estimator = FairClassifier(max_epochs=2, batch_size=32, encoder__hidden_units=(4,), random_state=0)
    display = FairnessTradeoffDisplay.from_estimator(
        estimator, X, y, X, y, adversary_weights=(0.0, 1.0, 3.0), sensitive_features_train=s, sensitive_features_test=s
    )
    assert len(display.scores) == len(display.disparities) == 3
    np.testing.assert_allclose(display.line_.get_xdata(), display.disparities)
    assert display.ax_.get_ylabel() == "accuracy"


def test_tradeoff_display_needs_the_test_attribute():
    X, y, s = make_data()
    with pytest.raises(ValueError, match="sensitive_features_test"):
        FairnessTradeoffDisplay.from_estimator(FairClassifier(), X, y, X, y, sensitive_features_train=s)


def test_tradeoff_display_labels_each_point_with_its_adversary_weight():
    display = FairnessTradeoffDisplay([0, 0.5, 3], [0.85, 0.84, 0.82], [0.18, 0.09, 0.03]).plot()
    assert [text.get_text() for text in display.ax_.texts] == ["w=0", "w=0.5", "w=3"]
    assert display.ax_.get_legend().get_title().get_text() == "w: adversary_weight"


def _tradeoff(estimator, X, y, s, **kwargs):
    return FairnessTradeoffDisplay.from_estimator(estimator, X, y, X, y, adversary_weights=(0.0, 3.0), **kwargs)


@pytest.mark.parametrize("routing", [False, True])
def test_tradeoff_display_of_a_pipeline_ending_in_a_fair_classifier_matches_the_classifier_alone(routing):
    X, y, s = make_data()
    params = dict(max_epochs=2, batch_size=32, encoder__hidden_units=(4,), random_state=0)
    alone = _tradeoff(FairClassifier(**params), X, y, s, sensitive_features_train=s, sensitive_features_test=s)
    with sklearn.config_context(enable_metadata_routing=routing):
        model = FairClassifier(**params)
        if routing:
            model.set_fit_request(sensitive_features=True)
        pipeline = make_pipeline(FunctionTransformer(), model)
        display = _tradeoff(pipeline, X, y, s, sensitive_features_train=s, sensitive_features_test=s)
    # The same points: each weight reached the pipeline's classifier, and so did the attribute.
    np.testing.assert_allclose(display.scores, alone.scores)
    np.testing.assert_allclose(display.disparities, alone.disparities)
    assert display.line_.get_label() == "FairClassifier"


def test_tradeoff_display_of_a_pipeline_reads_the_test_attribute_from_its_classifiers_column():
    X, y, s = make_data()
    frame = pd.DataFrame(X, columns=["proxy", "a", "b"]).assign(sex=np.where(s == 1, "m", "f"))
    params = dict(max_epochs=2, batch_size=32, encoder__hidden_units=(4,), random_state=0)
    pipeline = make_pipeline(FunctionTransformer(), FairClassifier("sex", **params))
    display = _tradeoff(pipeline, frame, y, s)
    assert len(display.scores) == 2


def test_tradeoff_display_refuses_a_model_without_an_adversary_weight():
    X, y, s = make_data()
    with pytest.raises(TypeError, match="adversary_weight"):
        _tradeoff(make_pipeline(FunctionTransformer(), LogisticRegression()), X, y, s, sensitive_features_test=s)
