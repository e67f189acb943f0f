"""quality_report: memorization, diversity, fidelity and utility of synthetic data, and its plots."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from sklearn_adv.augmentation.quality import (  # noqa: E402
    alpha_precision_beta_recall,
    birthday_support,
    manifold_precision_recall,
    plot_distance_to_closest_record,
    plot_image_neighbours,
    plot_marginals,
    quality_report,
)

COVERAGE = ["alpha-precision", "beta-recall", "k-NN precision", "k-NN recall"]


def _population(n, seed, shift=0.0):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, n)
    X = rng.normal(size=(n, 3)) + y[:, None] + shift
    return X, y


def _values(report):
    return report.set_index("metric")["value"]


def test_copies_of_training_rows_are_flagged_as_memorised():
    X_train, _ = _population(300, 0)
    X_holdout, _ = _population(300, 1)
    values = _values(quality_report(X_train, X_train[:150], X_holdout, sections=["memorization"]))
    assert values["exact copy fraction"] == 1.0
    assert values["DCR ratio (median)"] == 0.0
    assert values["closer than holdout fraction"] == 1.0


def test_memorization_compares_with_every_training_row_not_a_subsample():
    X_train, _ = _population(600, 0)
    X_holdout, _ = _population(300, 1)
    copies = X_train[np.random.RandomState(1).choice(600, 200, replace=False)]
    values = _values(quality_report(X_train, copies, X_holdout, sections=["memorization"], max_rows=100))
    assert values["exact copy fraction"] == 1.0
    assert values["DCR ratio (median)"] == 0.0 and values["DCR ratio (5th percentile)"] == 0.0
    assert values["closer than holdout fraction"] == 1.0
    ax = plot_distance_to_closest_record(X_train, copies, X_holdout, max_rows=100)
    assert "synthetic (median 0.00)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_fresh_rows_from_the_population_are_as_far_as_holdout_rows():
    X_train, _ = _population(400, 0)
    X_holdout, _ = _population(400, 1)
    X_fresh, _ = _population(400, 2)
    values = _values(quality_report(X_train, X_fresh, X_holdout, sections=["memorization"]))
    assert values["exact copy fraction"] == 0.0
    assert 0.8 < values["DCR ratio (median)"] < 1.25


def test_birthday_support_is_small_for_few_distinct_rows_and_a_lower_bound_for_continuous_ones():
    rng = np.random.RandomState(0)
    few = np.repeat(rng.normal(size=(10, 2)), 50, axis=0)
    support, lower_bound = birthday_support(few, threshold=1e-9)
    assert support <= 64 and not lower_bound  # collisions appear in batches of about sqrt(10) rows
    support, lower_bound = birthday_support(rng.normal(size=(500, 2)), threshold=1e-9)
    assert lower_bound and support == 256.0**2


def test_a_collapsed_generator_has_a_tiny_support_ratio():
    X_train, y_train = _population(600, 0)
    collapsed = np.repeat(X_train[:3], 200, axis=0)
    values = _values(quality_report(X_train, collapsed, sections=["diversity"]))
    assert values["birthday support ratio"] < 0.01


def test_class_and_category_coverage_count_what_synthetic_rows_miss():
    rng = np.random.RandomState(0)
    n = 400
    train = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n, p=[0.6, 0.395, 0.005])),
            "size": rng.choice(["S", "L"], n).astype(object),
        }
    )
    synth = train[train["colour"] == "red"].reset_index(drop=True)
    y_train = np.arange(n) % 3
    values = _values(quality_report(train, synth, y_train=y_train, y_synthetic=np.zeros(len(synth), int),
                                    sections=["diversity"]))
    assert values["category coverage"] == pytest.approx(3 / 5)  # red, S, L of red, green, blue, S, L
    assert values["rare category coverage"] == 0.0  # blue
    assert values["class coverage"] == pytest.approx(1 / 3)


def test_fidelity_tells_a_shifted_generator_from_a_faithful_one():
    X_train, _ = _population(500, 0)
    X_same, _ = _population(500, 1)
    X_shifted, _ = _population(500, 1, shift=2.0)
    same = _values(quality_report(X_train, X_same, sections=["fidelity"]))
    shifted = _values(quality_report(X_train, X_shifted, sections=["fidelity"]))
    assert same["detector ROC AUC"] < 0.65 < 0.9 < shifted["detector ROC AUC"]
    assert same["marginal distance (mean)"] < 0.15 < 0.5 < shifted["marginal distance (mean)"]
    assert same["correlation difference"] < 0.15


def test_utility_compares_synthetic_training_with_real_training():
    X_train, y_train = _population(300, 0)
    X_holdout, y_holdout = _population(300, 1)
    report = quality_report(
        X_train, X_train, X_holdout, y_train=y_train, y_synthetic=1 - y_train, y_holdout=y_holdout,
        estimator=LogisticRegression(), sections=["utility"],
    ).set_index("metric")
    # Labels flipped: a model trained on the synthetic rows is worse than chance, the real one is good.
    assert report.loc["TSTR ROC AUC", "value"] < 0.3 < 0.8 < report.loc["TSTR ROC AUC", "reference"]
    assert {"TSTR macro F1", "real+synthetic accuracy"} <= set(report.index)


def test_report_on_mixed_frames_with_missing_values_has_every_section():
    rng = np.random.RandomState(0)
    n = 200
    frame = pd.DataFrame({"age": rng.randint(18, 80, n).astype(float), "job": rng.choice(["a", "b"], n).astype(object)})
    frame.loc[::7, "age"] = np.nan
    frame.loc[::11, "job"] = None
    y = rng.randint(0, 2, n)
    report = quality_report(frame.iloc[:100], frame.iloc[100:150], frame.iloc[150:], y_train=y[:100],
                            y_synthetic=y[100:150], y_holdout=y[150:])
    assert set(report["section"]) == {"memorization", "diversity", "fidelity", "utility"}
    assert list(report.columns) == ["section", "metric", "value", "reference", "description"]


def _frame_with_missing_values(n, seed):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, n)
    frame = pd.DataFrame({
        "age": pd.array(rng.randint(18, 80, n) + 10 * y, dtype="Int64"),
        "income": rng.normal(size=n) + y,
        "job": pd.array(rng.choice(["a", "b", "c"], n), dtype="string"),
        "owner": pd.Categorical(rng.choice(["yes", "no"], n)),
    })
    frame.loc[::5, "age"] = pd.NA
    frame.loc[::7, "job"] = pd.NA
    return frame, y


def test_default_utility_model_takes_strings_categories_and_missing_values():
    train, y_train = _frame_with_missing_values(300, 0)
    synth, y_synth = _frame_with_missing_values(200, 1)
    holdout, y_holdout = _frame_with_missing_values(200, 2)
    holdout.loc[::9, "income"] = np.nan  # missing where the training rows have none
    holdout.loc[3, "job"] = "never seen"
    synth = synth[list(reversed(synth.columns))]  # columns are matched by name
    report = quality_report(train, synth, holdout, y_train=y_train, y_synthetic=y_synth, y_holdout=y_holdout)
    values = report.set_index("metric")
    assert set(report["section"]) == {"memorization", "diversity", "fidelity", "utility"}
    # Same population: a model on synthetic rows is about as good as one on training rows, and both learn y.
    assert values.loc["TSTR ROC AUC", "reference"] > 0.7 and values.loc["TSTR ROC AUC", "value"] > 0.7
    assert np.isfinite(report["value"]).all()


def test_columns_must_match_the_training_rows():
    train, _ = _frame_with_missing_values(50, 0)
    with pytest.raises(ValueError, match="columns of X_train"):
        quality_report(train, train.drop(columns="job"))


def test_images_are_compared_as_flattened_pixels():
    rng = np.random.RandomState(0)
    images = rng.uniform(size=(60, 8, 8))
    values = _values(quality_report(images[:30], images[:10], images[30:], sections=["memorization"]))
    assert values["exact copy fraction"] == 1.0


def test_bad_arguments_raise():
    X, _ = _population(20, 0)
    with pytest.raises(ValueError, match="sections"):
        quality_report(X, X, sections=["beauty"])
    with pytest.raises(TypeError, match="format"):
        quality_report(pd.DataFrame(X), X)


def test_plots_draw_neighbours_dcr_and_marginals():
    rng = np.random.RandomState(0)
    images = rng.uniform(size=(40, 8, 8))
    fig = plot_image_neighbours(images, images[:5], n_images=5, n_neighbours=2)
    assert len(fig.axes) == 15
    X_train, _ = _population(100, 0)
    X_holdout, _ = _population(100, 1)
    ax = plot_distance_to_closest_record(X_train, X_holdout[:50], X_holdout[50:])
    assert len(ax.patches) > 0
    frame = pd.DataFrame({"x": X_train[:, 0], "c": rng.choice(["a", "b"], 100).astype(object)})
    assert len(plot_marginals(frame, frame, n_columns=2).axes) == 2


# -- coverage: alpha-precision / beta-recall and k-NN precision / recall -------------

_MODES = 10.0 * np.array([[np.cos(t), np.sin(t)] for t in np.linspace(0, 2 * np.pi, 8, endpoint=False)])


def _mixture(n, seed, modes=range(8)):
    """Rows around eight modes on a circle (or only the listed ones)."""
    rng = np.random.RandomState(seed)
    return _MODES[rng.choice(list(modes), n)] + rng.normal(size=(n, 2))


def test_identical_sets_have_full_precision_and_recall():
    real = _mixture(1000, 0)
    assert alpha_precision_beta_recall(real, real) == pytest.approx((1.0, 1.0), abs=0.01)
    assert manifold_precision_recall(real, real) == (1.0, 1.0)


def test_half_the_modes_gives_full_precision_and_half_the_recall():
    real, fresh, half = _mixture(2000, 0), _mixture(2000, 1), _mixture(2000, 2, modes=range(0, 8, 2))
    precision, recall = manifold_precision_recall(real, half)
    assert precision > 0.95 and 0.4 < recall < 0.6
    assert manifold_precision_recall(real, fresh)[1] > 0.95
    # beta-recall of fresh rows is about 0.5 (see its Notes); half the modes cover about half of that.
    alpha_precision, beta_recall = alpha_precision_beta_recall(real, half)
    fresh_beta_recall = alpha_precision_beta_recall(real, fresh)[1]
    assert alpha_precision > 0.9 and 0.4 < beta_recall / fresh_beta_recall < 0.7


def test_fresh_rows_score_about_one_in_precision_and_one_half_in_beta_recall():
    alpha_precision, beta_recall = alpha_precision_beta_recall(_mixture(2000, 0), _mixture(2000, 1))
    assert alpha_precision > 0.9 and 0.4 < beta_recall < 0.6


@pytest.mark.parametrize("synthetic", ["far", "collapsed"])
def test_noise_far_from_the_data_or_piled_at_its_centre_has_no_precision(synthetic):
    rng = np.random.RandomState(0)
    real = _mixture(1000, 0)
    synthetic = rng.normal(size=(1000, 2)) + 100 if synthetic == "far" else 0.1 * rng.normal(size=(1000, 2))
    assert alpha_precision_beta_recall(real, synthetic) == (0.0, 0.0)
    assert manifold_precision_recall(real, synthetic) == (0.0, 0.0)


def test_coverage_compares_equal_subsamples_deterministically():
    real, synthetic = _mixture(3000, 0), _mixture(500, 1, modes=range(4))
    first = manifold_precision_recall(real, synthetic, max_rows=300, random_state=3)
    assert first == manifold_precision_recall(real, synthetic, max_rows=300, random_state=3)
    assert alpha_precision_beta_recall(real, synthetic, random_state=1) == alpha_precision_beta_recall(
        real, synthetic, random_state=1
    )
    # 500 synthetic rows against 500 of the 3,000 real ones: half the modes, half the recall.
    assert 0.35 < manifold_precision_recall(real, synthetic)[1] < 0.65


def test_coverage_rejects_sets_too_small_for_k_and_bad_arguments():
    real = _mixture(20, 0)
    with pytest.raises(ValueError, match="n_neighbors"):
        manifold_precision_recall(real, real[:5], n_neighbors=5)
    assert manifold_precision_recall(real, real[:6], n_neighbors=5)[0] == 1.0  # k + 1 rows are enough
    with pytest.raises(ValueError, match="at least 2 rows"):
        alpha_precision_beta_recall(real, real[:1])
    with pytest.raises(ValueError, match="columns"):
        manifold_precision_recall(real, real[:, :1])
    with pytest.raises(ValueError, match="NaN"):
        alpha_precision_beta_recall(real, np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="n_alphas"):
        alpha_precision_beta_recall(real, real, n_alphas=1)
    with pytest.raises(ValueError, match="max_rows"):
        manifold_precision_recall(real, real, max_rows=3)


@settings(max_examples=60, deadline=None)
@given(
    real=hnp.arrays(np.float64, st.tuples(st.integers(6, 25), st.integers(1, 4)), elements=st.floats(-1e3, 1e3)),
    synthetic=hnp.arrays(np.float64, st.tuples(st.integers(6, 25), st.integers(1, 4)), elements=st.floats(-1e3, 1e3)),
)
def test_coverage_scores_are_shares_and_precision_and_recall_swap_with_the_sets(real, synthetic):
    synthetic = np.resize(synthetic, (len(real), real.shape[1]))  # same size: no subsampling
    precision, recall = manifold_precision_recall(real, synthetic, n_neighbors=3)
    assert 0.0 <= precision <= 1.0 and 0.0 <= recall <= 1.0
    assert manifold_precision_recall(synthetic, real, n_neighbors=3) == (recall, precision)
    assert manifold_precision_recall(real, real, n_neighbors=3) == (1.0, 1.0)  # duplicates included
    assert all(0.0 <= score <= 1.0 for score in alpha_precision_beta_recall(real, synthetic))


def test_report_gives_coverage_with_holdout_rows_as_reference():
    real, holdout = _mixture(600, 0), _mixture(600, 1)
    report = quality_report(real, _mixture(600, 2, modes=range(0, 8, 2)), holdout, sections=["diversity", "fidelity"])
    rows = report.set_index("metric").loc[COVERAGE]
    assert list(rows["section"]) == ["fidelity", "diversity", "fidelity", "diversity"]
    assert rows.loc["k-NN recall", "value"] < 0.65 < 0.9 < rows.loc["k-NN recall", "reference"]
    assert rows.loc["k-NN precision", "value"] > 0.9 and rows.loc["alpha-precision", "reference"] > 0.9
    assert rows.loc["beta-recall", "value"] < rows.loc["beta-recall", "reference"]
    no_holdout = quality_report(real, holdout, sections=["fidelity"]).set_index("metric")
    assert np.isnan(no_holdout.loc["k-NN precision", "reference"]) and "k-NN recall" not in no_holdout.index
    assert report.equals(
        quality_report(real, _mixture(600, 2, modes=range(0, 8, 2)), holdout, sections=["diversity", "fidelity"])
    )


def test_report_coverage_on_tiny_sets_uses_fewer_neighbours():
    real = _mixture(4, 0)
    values = _values(quality_report(real, real[:3], sections=["diversity", "fidelity"]))
    assert values["k-NN precision"] == 1.0 and values["alpha-precision"] > 0.5


def test_coverage_of_images_reads_pixels():
    digits = load_digits()
    images = digits.images
    ones = images[digits.target == 1]
    report = quality_report(images[:600], ones, images[600:1200], sections=["diversity", "fidelity"])
    values = report.set_index("metric")
    # Only ones: where real digits are (precision), but a small part of them (recall).
    assert values.loc["k-NN precision", "value"] > 0.8
    assert values.loc["k-NN recall", "value"] < 0.3 < 0.7 < values.loc["k-NN recall", "reference"]
