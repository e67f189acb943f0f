"""TabularEncoder: layout, round trip, dtypes, missing values and errors."""

import copy
import doctest
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

from sklearn_adv.preprocessing import Span, TabularEncoder, _modes, _tabular


def mixed_frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "height": rng.normal(170.0, 10.0, n),
            "age": rng.integers(18, 90, n),
            "smoker": rng.random(n) < 0.3,
            "job": pd.Categorical(rng.choice(["tech", "admin", "sales"], n), categories=["tech", "sales", "admin"]),
            "city": pd.Series(rng.choice(["Oslo", "Lima", "Pune"], n), dtype=object),
        }
    )


# --------------------------------------------------------------------------- round trip (hypothesis)

_KINDS = ["float", "float_nan", "int", "bool", "category", "object", "object_nan", "string_nan"]


@st.composite
def frames(draw, int_bound=2**40, float_bound=1e9):
    n_rows = draw(st.integers(1, 25))
    kinds = draw(st.lists(st.sampled_from(_KINDS), min_size=1, max_size=6))
    columns = {}
    for j, kind in enumerate(kinds):
        name = f"{kind}{j}"
        if kind.startswith("float"):
            element = st.floats(-float_bound, float_bound, allow_nan=False, allow_subnormal=False)
            # Spreads below about 1e-150 underflow to a zero variance: not data anyone scales.
            element = element.map(lambda v: 0.0 if abs(v) < 1e-100 else v)
            values = np.array(draw(st.lists(element, min_size=n_rows, max_size=n_rows)))
            if kind == "float_nan":
                nan = np.array(draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows)))
                nan[0] = False  # at least one observed value
                values[nan] = np.nan
            columns[name] = values
        elif kind == "int":
            element = st.integers(-int_bound, int_bound)
            columns[name] = np.array(draw(st.lists(element, min_size=n_rows, max_size=n_rows)), dtype=np.int64)
        elif kind == "bool":
            columns[name] = np.array(draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows)))
        else:
            levels = ["a", "b", "c", "dd"] + ([None] if kind.endswith("nan") else [])
            values = draw(st.lists(st.sampled_from(levels), min_size=n_rows, max_size=n_rows))
            if kind == "category":
                columns[name] = pd.Categorical(values, categories=["dd", "c", "b", "a", "unused"])
            elif kind == "string_nan":
                columns[name] = pd.Series(values, dtype="str")
            else:
                columns[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(columns)


def assert_round_trip(X, back, float_tolerance):
    assert list(back.columns) == list(X.columns)
    assert back.index.equals(pd.RangeIndex(len(X)))
    for name in X.columns:
        assert back[name].dtype == X[name].dtype, name
        if pd.api.types.is_float_dtype(X[name].dtype):
            expected = X[name].to_numpy()
            scale = np.nanmax(np.abs(expected)) or 1.0
            np.testing.assert_array_equal(np.isnan(back[name].to_numpy()), np.isnan(expected))
            np.testing.assert_allclose(
                back[name].to_numpy(), expected, rtol=float_tolerance, atol=float_tolerance * scale
            )
        else:
            pd.testing.assert_series_equal(back[name], X[name], check_exact=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(X=frames())
def test_round_trip_is_exact_for_categorical_int_bool_and_float64_precise_for_floats(X):
    encoder = TabularEncoder(dtype=np.float64).fit(X)
    assert_round_trip(X, encoder.inverse_transform(encoder.transform(X)), float_tolerance=1e-6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(X=frames(int_bound=2**21, float_bound=1e6))
def test_round_trip_in_float32_is_exact_for_moderate_ints_and_float32_precise_for_floats(X):
    encoder = TabularEncoder().fit(X)
    assert_round_trip(X, encoder.inverse_transform(encoder.transform(X)), float_tolerance=1e-5)


# --------------------------------------------------------------------------- output and layout


def test_transform_output_dtype_is_float32_by_default_and_float64_on_request():
    X = mixed_frame()
    assert TabularEncoder().fit_transform(X).dtype == np.float32
    assert TabularEncoder(dtype=np.float64).fit_transform(X).dtype == np.float64
    assert TabularEncoder(dtype="float64").fit_transform(X).dtype == np.float64


def test_float32_output_limits_the_numeric_round_trip_to_float32_precision():
    X = pd.DataFrame({"x": np.linspace(1000.0, 1001.0, 7) + 1e-9})
    back32 = TabularEncoder().fit(X).inverse_transform(TabularEncoder().fit_transform(X))
    back64 = TabularEncoder(dtype=np.float64).fit(X)
    back64 = back64.inverse_transform(back64.transform(X))
    np.testing.assert_allclose(back32["x"], X["x"], rtol=1e-6)
    np.testing.assert_allclose(back64["x"], X["x"], rtol=1e-13)


def test_output_info_spans_cover_the_output_contiguously_in_column_order():
    X = mixed_frame()
    X.loc[3, "height"] = np.nan
    encoder = TabularEncoder().fit(X)
    spans = encoder.output_info_
    assert all(isinstance(span, Span) for span in spans)
    assert spans[0].start == 0 and spans[-1].stop == encoder.n_features_out_ == encoder.transform(X).shape[1]
    assert all(a.stop == b.start for a, b in zip(spans, spans[1:]))
    assert [(s.column, s.kind) for s in spans] == [
        ("height", "numeric"),
        ("height", "missing"),
        ("age", "numeric"),
        ("smoker", "onehot"),
        ("job", "onehot"),
        ("city", "onehot"),
    ]


def test_categorical_spans_are_the_onehot_spans_with_one_level_per_column():
    X = mixed_frame()
    encoder = TabularEncoder().fit(X)
    assert encoder.categorical_spans_ == [s for s in encoder.output_info_ if s.kind == "onehot"]
    Z = encoder.transform(X)
    for span in encoder.categorical_spans_:
        assert span.stop - span.start == len(encoder.categories_[span.column])
        np.testing.assert_array_equal(Z[:, span.start : span.stop].sum(axis=1), 1.0)


def test_get_feature_names_out_names_scalars_levels_and_indicators():
    X = pd.DataFrame({"x": [1.0, np.nan, 3.0], "c": ["b", "a", None]})
    names = TabularEncoder().fit(X).get_feature_names_out()
    assert names.tolist() == ["x", "x_missing", "c_a", "c_b", "c_nan"]


def test_set_output_pandas_returns_a_frame_with_the_output_names_and_the_input_index():
    X = mixed_frame().set_index(pd.RangeIndex(100, 140))
    encoder = TabularEncoder().set_output(transform="pandas").fit(X)
    Z = encoder.transform(X)
    assert isinstance(Z, pd.DataFrame)
    assert Z.columns.tolist() == encoder.get_feature_names_out().tolist()
    assert Z.index.equals(X.index)


def test_inverse_of_a_frame_keeps_its_index_and_of_an_array_gives_a_fresh_range_index():
    X = mixed_frame().set_index(pd.RangeIndex(100, 140))
    encoder = TabularEncoder().set_output(transform="pandas").fit(X)
    Z = encoder.transform(X)
    assert encoder.inverse_transform(Z).index.equals(X.index)
    assert encoder.inverse_transform(Z.to_numpy()).index.equals(pd.RangeIndex(40))


def test_standard_numeric_columns_are_scaled_to_zero_mean_and_unit_variance():
    X = mixed_frame(n=200)
    encoder = TabularEncoder(dtype=np.float64).fit(X)
    Z = encoder.transform(X)
    for span in encoder.output_info_:
        if span.kind == "numeric":
            assert abs(Z[:, span.start].mean()) < 1e-9
            assert abs(Z[:, span.start].std() - 1.0) < 1e-9


# --------------------------------------------------------------------------- dtypes on the way back


def test_integer_columns_come_back_rounded_and_clipped_to_the_observed_range():
    X = pd.DataFrame({"n": np.array([3, 7, 5], dtype=np.int16)})
    encoder = TabularEncoder().fit(X)
    generated = np.array([[-50.0], [0.2], [50.0]])
    back = encoder.inverse_transform(generated)
    assert back["n"].dtype == np.int16
    assert back["n"].min() >= 3 and back["n"].max() <= 7
    assert back["n"].tolist() == [3, 5, 7]


def test_float_columns_are_clipped_to_the_observed_range_unless_clip_is_false():
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0]})
    generated = np.array([[-10.0], [10.0]])
    assert TabularEncoder().fit(X).inverse_transform(generated)["x"].tolist() == [0.0, 2.0]
    unclipped = TabularEncoder(clip=False).fit(X).inverse_transform(generated)["x"]
    assert unclipped.min() < 0.0 and unclipped.max() > 2.0


def test_category_columns_keep_their_categories_in_order_including_unused_ones():
    dtype = pd.CategoricalDtype(["low", "mid", "high", "never"], ordered=True)
    X = pd.DataFrame({"level": pd.Series(["high", "low", "high", "mid"], dtype=dtype)})
    encoder = TabularEncoder().fit(X)
    back = encoder.inverse_transform(encoder.transform(X))
    assert back["level"].dtype == dtype
    pd.testing.assert_series_equal(back["level"], X["level"])
    assert encoder.categories_["level"].tolist() == ["low", "mid", "high"]


def test_object_string_and_bool_columns_keep_their_dtypes():
    X = pd.DataFrame(
        {
            "o": pd.Series(["x", "y", "x"], dtype=object),
            "s": pd.Series(["u", "v", "u"], dtype="str"),
            "b": [True, False, True],
        }
    )
    encoder = TabularEncoder().fit(X)
    back = encoder.inverse_transform(encoder.transform(X))
    pd.testing.assert_frame_equal(back, X)


def test_nullable_integer_and_boolean_columns_round_trip_with_pd_na():
    X = pd.DataFrame(
        {
            "i": pd.array([1, None, 3, 4], dtype="Int64"),
            "b": pd.array([True, None, False, True], dtype="boolean"),
        }
    )
    encoder = TabularEncoder().fit(X)
    pd.testing.assert_frame_equal(encoder.inverse_transform(encoder.transform(X)), X)


def test_array_input_gives_array_output_of_the_same_dtype():
    X = np.arange(12, dtype=np.int32).reshape(4, 3)
    encoder = TabularEncoder(categorical_features=[2]).fit(X)
    back = encoder.inverse_transform(encoder.transform(X))
    assert isinstance(back, np.ndarray) and back.dtype == np.int32
    np.testing.assert_array_equal(back, X)


def test_object_array_input_treats_string_columns_as_categorical():
    X = np.array([["a", 1.5], ["b", 2.5], ["a", 3.0]], dtype=object)
    encoder = TabularEncoder(dtype=np.float64).fit(X)
    assert encoder.is_categorical_.tolist() == [True, False]
    back = encoder.inverse_transform(encoder.transform(X))
    assert back.dtype == object and back[:, 0].tolist() == ["a", "b", "a"]
    np.testing.assert_allclose(back[:, 1].astype(float), [1.5, 2.5, 3.0])


def test_inverse_takes_the_argmax_of_soft_onehot_outputs():
    X = pd.DataFrame({"c": ["a", "b", "c"]})
    encoder = TabularEncoder().fit(X)
    soft = np.array([[0.2, 0.7, 0.1], [5.0, -1.0, 0.3], [0.0, 0.1, 0.11]])
    assert encoder.inverse_transform(soft)["c"].tolist() == ["b", "a", "c"]


# --------------------------------------------------------------------------- categorical_features


def test_auto_treats_category_object_string_and_bool_columns_as_categorical():
    encoder = TabularEncoder().fit(mixed_frame())
    assert encoder.is_categorical_.tolist() == [False, False, True, True, True]


@pytest.mark.parametrize("categorical_features", [["age", "job", "city"], [1, 3, 4], [False, True, False, True, True]])
def test_categorical_features_by_names_positions_or_mask_overrides_the_dtypes(categorical_features):
    X = mixed_frame()
    encoder = TabularEncoder(categorical_features=categorical_features).fit(X)
    assert encoder.is_categorical_.tolist() == [False, True, False, True, True]
    assert encoder.categories_["age"].tolist() == sorted(X["age"].unique())
    pd.testing.assert_frame_equal(encoder.inverse_transform(encoder.transform(X)), X)


def test_string_column_left_out_of_categorical_features_is_an_error():
    with pytest.raises(ValueError, match=r"\['city'\].*categorical_features"):
        TabularEncoder(categorical_features=["job"]).fit(mixed_frame())


def test_categorical_features_naming_an_absent_column_is_an_error():
    with pytest.raises(ValueError, match="nope"):
        TabularEncoder(categorical_features=["job", "city", "nope"]).fit(mixed_frame())


def test_categorical_features_mask_of_wrong_length_is_an_error():
    with pytest.raises(ValueError, match="boolean mask of length 2"):
        TabularEncoder(categorical_features=[True, False]).fit(mixed_frame())


# --------------------------------------------------------------------------- mode-specific normalisation


def bimodal_frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    values = np.concatenate([rng.normal(-10.0, 1.0, n // 2), rng.normal(20.0, 2.0, n - n // 2)])
    return pd.DataFrame({"x": values, "c": rng.choice(["a", "b"], n)})


def test_mode_specific_finds_the_modes_of_a_bimodal_column():
    encoder = TabularEncoder(numeric="mode_specific", n_modes=5, random_state=0).fit(bimodal_frame())
    modes = encoder.modes_["x"]
    assert 2 <= len(modes) <= 5
    assert modes["weight"].is_monotonic_decreasing and abs(modes["weight"].sum() - 1.0) < 1e-9
    heavy = np.sort(modes["mean"][modes["weight"] > 0.2].to_numpy())
    np.testing.assert_allclose(heavy, [-10.0, 20.0], atol=1.0)


def test_mode_specific_layout_is_a_scalar_in_unit_range_then_a_mode_onehot():
    X = bimodal_frame()
    encoder = TabularEncoder(numeric="mode_specific", random_state=0).fit(X)
    Z = encoder.transform(X)
    scalar, mode = encoder.output_info_[0], encoder.output_info_[1]
    assert (scalar.kind, mode.kind) == ("numeric", "mode")
    assert mode.stop - mode.start == len(encoder.modes_["x"])
    assert np.abs(Z[:, scalar.start]).max() <= 1.0
    np.testing.assert_array_equal(Z[:, mode.start : mode.stop].sum(axis=1), 1.0)


@pytest.mark.parametrize("mode_sampling", ["sample", "argmax"])
def test_mode_specific_round_trips_values_within_four_stds_of_their_mode(mode_sampling):
    X = bimodal_frame()
    encoder = TabularEncoder(numeric="mode_specific", mode_sampling=mode_sampling, dtype=np.float64, random_state=0)
    back = encoder.fit(X).inverse_transform(encoder.transform(X))
    np.testing.assert_allclose(back["x"], X["x"], rtol=1e-6, atol=1e-9)
    pd.testing.assert_series_equal(back["c"], X["c"])


def test_mode_sampling_with_a_fixed_random_state_is_reproducible_and_argmax_is_deterministic():
    X = bimodal_frame()
    Z1 = TabularEncoder(numeric="mode_specific", random_state=3).fit_transform(X)
    Z2 = TabularEncoder(numeric="mode_specific", random_state=3).fit_transform(X)
    np.testing.assert_array_equal(Z1, Z2)
    argmax = TabularEncoder(numeric="mode_specific", mode_sampling="argmax", random_state=3).fit(X)
    np.testing.assert_array_equal(argmax.transform(X), argmax.transform(X))


def test_argmax_mode_sampling_picks_the_most_probable_mode_and_sampling_sometimes_does_not():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": np.concatenate([rng.normal(0.0, 1.0, 300), rng.normal(3.0, 1.0, 300)])})
    middle = pd.DataFrame({"x": np.full(500, 1.5)})
    argmax = TabularEncoder(numeric="mode_specific", n_modes=2, mode_sampling="argmax", random_state=0).fit(X)
    sample = TabularEncoder(numeric="mode_specific", n_modes=2, random_state=0).fit(X)
    modes = slice(1, 1 + len(argmax.modes_["x"]))
    assert len(np.unique(argmax.transform(middle)[:, modes].argmax(axis=1))) == 1
    assert len(np.unique(sample.transform(middle)[:, modes].argmax(axis=1))) == 2


def test_mixtures_are_fitted_on_at_most_max_fit_rows_values(monkeypatch):
    seen = []

    class Recording(_modes.BayesianGaussianMixture):
        def fit(self, X, y=None):
            seen.append(len(X))
            return super().fit(X, y)

    monkeypatch.setattr(_modes, "BayesianGaussianMixture", Recording)
    TabularEncoder(numeric="mode_specific", max_fit_rows=50, random_state=0).fit(bimodal_frame(n=400))
    assert seen == [50]


def test_mode_specific_missing_value_is_mode_zero_mean_with_an_indicator():
    X = bimodal_frame()
    X.loc[[0, 5], "x"] = np.nan
    encoder = TabularEncoder(numeric="mode_specific", random_state=0).fit(X)
    Z = encoder.transform(X)
    scalar, mode, missing = encoder.output_info_[:3]
    assert missing.kind == "missing"
    np.testing.assert_array_equal(Z[[0, 5], scalar.start], 0.0)
    np.testing.assert_array_equal(Z[[0, 5], mode.start], 1.0)
    np.testing.assert_array_equal(np.flatnonzero(Z[:, missing.start]), [0, 5])
    assert encoder.inverse_transform(Z)["x"].isna().tolist() == X["x"].isna().tolist()


# --------------------------------------------------------------------------- missing values


def test_numeric_missing_value_becomes_the_mean_plus_an_indicator_only_where_fit_saw_missing():
    X = pd.DataFrame({"x": [1.0, np.nan, 3.0], "y": [1.0, 2.0, 3.0]})
    encoder = TabularEncoder(dtype=np.float64).fit(X)
    Z = encoder.transform(X)
    assert encoder.get_feature_names_out().tolist() == ["x", "x_missing", "y"]
    assert Z[1, 0] == 0.0  # the scaled mean
    np.testing.assert_array_equal(Z[:, 1], [0.0, 1.0, 0.0])
    assert np.isnan(encoder.inverse_transform(Z)["x"][1])


def test_numeric_missing_value_in_transform_without_an_indicator_is_an_error():
    encoder = TabularEncoder().fit(pd.DataFrame({"y": [1.0, 2.0, 3.0]}))
    with pytest.raises(ValueError, match=r"\['y'\].*missing values in transform"):
        encoder.transform(pd.DataFrame({"y": [1.0, np.nan, 3.0]}))


def test_categorical_missing_value_is_a_level_of_its_own():
    X = pd.DataFrame({"c": pd.Series(["a", None, "b", None], dtype=object)})
    encoder = TabularEncoder().fit(X)
    Z = encoder.transform(X)
    assert encoder.categories_["c"][:2].tolist() == ["a", "b"] and encoder.categories_["c"][2] is None
    np.testing.assert_array_equal(Z[:, 2], [0.0, 1.0, 0.0, 1.0])
    pd.testing.assert_frame_equal(encoder.inverse_transform(Z), X)


def test_missing_indicators_all_gives_every_numeric_column_an_indicator_and_every_categorical_a_missing_level():
    X = mixed_frame()
    encoder = TabularEncoder(missing_indicators="all", dtype=np.float64).fit(X)
    assert [(s.column, s.kind) for s in encoder.output_info_ if s.column in ("height", "age")] == [
        ("height", "numeric"),
        ("height", "missing"),
        ("age", "numeric"),
        ("age", "missing"),
    ]
    assert all(pd.isna(encoder.categories_[c][-1]) for c in ("smoker", "job", "city"))
    Z = encoder.transform(X)
    np.testing.assert_array_equal(Z[:, [s.start for s in encoder.output_info_ if s.kind == "missing"]], 0.0)
    pd.testing.assert_frame_equal(encoder.inverse_transform(Z), X)


def test_missing_indicators_all_encodes_missing_values_that_fit_never_saw():
    X = mixed_frame()
    encoder = TabularEncoder(missing_indicators="all", dtype=np.float64).fit(X)
    gappy = X.astype({"age": "float64", "smoker": object})
    gappy.loc[[1, 4], ["height", "age", "smoker", "job", "city"]] = np.nan
    Z = encoder.transform(gappy)
    for span in encoder.output_info_:
        if span.kind == "missing":
            np.testing.assert_array_equal(np.flatnonzero(Z[:, span.start]), [1, 4])
        elif span.kind == "onehot":
            np.testing.assert_array_equal(np.flatnonzero(Z[:, span.stop - 1]), [1, 4])
    back = encoder.inverse_transform(Z)
    assert back.loc[[1, 4]].isna().all(axis=None)
    assert back["age"].dtype == np.float64 and back["smoker"].dtype == object  # NumPy int and bool hold no NaN
    assert back["job"].dtype == X["job"].dtype


def test_missing_indicators_listed_columns_get_one_as_well_as_those_missing_in_fit():
    X = pd.DataFrame({"x": [1.0, np.nan, 3.0], "y": [1.0, 2.0, 3.0], "z": [4.0, 5.0, 6.0], "c": ["a", "b", "a"]})
    encoder = TabularEncoder(missing_indicators=["z"]).fit(X)
    assert encoder.get_feature_names_out().tolist() == ["x", "x_missing", "y", "z", "z_missing", "c_a", "c_b"]
    by_position = TabularEncoder(missing_indicators=[2]).fit(X)
    assert by_position.get_feature_names_out().tolist() == encoder.get_feature_names_out().tolist()
    np.testing.assert_array_equal(encoder.transform(X.assign(z=[4.0, np.nan, 6.0]))[:, 4], [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match=r"\['y'\].*missing_indicators"):
        encoder.transform(X.assign(y=[np.nan, 2.0, 3.0]))


def test_missing_indicators_naming_an_absent_column_is_an_error():
    with pytest.raises(ValueError, match="missing_indicators names columns \\['nope'\\]"):
        TabularEncoder(missing_indicators=["nope"]).fit(mixed_frame())


def test_missing_indicators_do_not_change_the_scales_or_levels():
    X = mixed_frame()
    default = TabularEncoder(dtype=np.float64).fit(X)
    indicated = TabularEncoder(missing_indicators="all", dtype=np.float64).fit(X)
    Z_default, Z_indicated = default.transform(X), indicated.transform(X)
    for span in default.output_info_:
        other = next(s for s in indicated.output_info_ if (s.column, s.kind) == (span.column, span.kind))
        np.testing.assert_array_equal(Z_indicated[:, other.start : other.start + span.stop - span.start],
                                      Z_default[:, span.start : span.stop])


# --------------------------------------------------------------------------- scikit-learn parts


def test_forward_direction_is_a_fitted_column_transformer_of_scikit_learn_parts():
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import MissingIndicator
    from sklearn.preprocessing import OneHotEncoder

    X = mixed_frame()
    X.loc[3, "height"] = np.nan
    encoder = TabularEncoder().fit(X)
    transformers = encoder.column_transformer_.named_transformers_
    assert isinstance(encoder.column_transformer_, ColumnTransformer)
    assert transformers["numeric"]["scale"] is encoder.scaler_
    assert isinstance(transformers["missing"]["indicate"], MissingIndicator)
    assert isinstance(transformers["categorical"]["onehot"], OneHotEncoder)


def test_global_pandas_output_gives_a_frame_with_the_encoders_layout():
    from sklearn import config_context

    X = mixed_frame()
    expected = TabularEncoder().fit(X)
    with config_context(transform_output="pandas"):
        encoder = TabularEncoder().fit(X)
        Z = encoder.transform(X)
    assert isinstance(Z, pd.DataFrame)
    assert Z.columns.tolist() == expected.get_feature_names_out().tolist()
    np.testing.assert_array_equal(Z.to_numpy(), expected.transform(X))


def test_mode_sampling_set_on_a_copy_after_fit_applies_to_its_transform():
    X = bimodal_frame()
    encoder = TabularEncoder(numeric="mode_specific", random_state=0).fit(X)
    scoring = copy.copy(encoder)
    scoring.mode_sampling = "argmax"
    argmax = TabularEncoder(numeric="mode_specific", mode_sampling="argmax", random_state=0).fit(X)
    np.testing.assert_array_equal(scoring.transform(X), argmax.transform(X))
    np.testing.assert_array_equal(encoder.transform(X), TabularEncoder(numeric="mode_specific", random_state=0).fit_transform(X))


# --------------------------------------------------------------------------- unknown categories


def test_unknown_category_raises_an_error_naming_the_column_and_value():
    encoder = TabularEncoder().fit(mixed_frame())
    X = mixed_frame()
    X.loc[0, "city"] = "Paris"
    with pytest.raises(ValueError, match=r"'Paris'.*column 'city'.*handle_unknown='ignore'"):
        encoder.transform(X)


def test_unknown_category_with_handle_unknown_ignore_is_an_all_zero_block():
    encoder = TabularEncoder(handle_unknown="ignore").fit(mixed_frame())
    X = mixed_frame()
    X.loc[0, "city"] = "Paris"
    Z = encoder.transform(X)
    span = next(s for s in encoder.categorical_spans_ if s.column == "city")
    np.testing.assert_array_equal(Z[0, span.start : span.stop], 0.0)
    assert Z[1, span.start : span.stop].sum() == 1.0


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("method", ["transform", "inverse_transform", "get_feature_names_out"])
def test_unfitted_encoder_raises_not_fitted(method):
    args = () if method == "get_feature_names_out" else (np.zeros((2, 2)),)
    with pytest.raises(NotFittedError):
        getattr(TabularEncoder(), method)(*args)


@pytest.mark.parametrize(
    "change",
    [
        lambda X: X.drop(columns="age"),
        lambda X: X.assign(extra=1.0),
        lambda X: X[["age", "height", "smoker", "job", "city"]],
    ],
    ids=["missing", "extra", "reordered"],
)
def test_transform_with_other_columns_than_fit_is_an_error(change):
    encoder = TabularEncoder().fit(mixed_frame())
    with pytest.raises(ValueError, match="feature names"):
        encoder.transform(change(mixed_frame()))


def test_transform_with_other_non_string_column_labels_than_fit_is_an_error():
    X = pd.DataFrame({0: [1.0, 2.0], 1: [3.0, 4.0]})
    encoder = TabularEncoder().fit(X)
    with pytest.raises(ValueError, match="same names in the same order"):
        encoder.transform(X[[1, 0]])


def test_all_missing_numeric_column_is_an_error_naming_it():
    X = pd.DataFrame({"ok": [1.0, 2.0], "empty": [np.nan, np.nan]})
    with pytest.raises(ValueError, match="'empty'.*only missing values"):
        TabularEncoder().fit(X)


def test_infinite_value_is_an_error_naming_the_column():
    with pytest.raises(ValueError, match="'x'.*infinity"):
        TabularEncoder().fit(pd.DataFrame({"x": [1.0, np.inf]}))


@pytest.mark.parametrize("X", [pd.DataFrame({"x": []}), pd.DataFrame(index=range(3)), np.empty((0, 2))])
def test_empty_input_is_an_error(X):
    with pytest.raises(ValueError, match="empty|0 sample|0 feature"):
        TabularEncoder().fit(X)


def test_unsupported_column_dtype_is_a_type_error_naming_the_column():
    X = pd.DataFrame({"when": pd.date_range("2020-01-01", periods=3)})
    with pytest.raises(TypeError, match="'when'"):
        TabularEncoder().fit(X)


def test_inverse_of_a_matrix_of_the_wrong_width_is_an_error():
    encoder = TabularEncoder().fit(mixed_frame())
    with pytest.raises(ValueError, match="Z has 3 columns"):
        encoder.inverse_transform(np.zeros((2, 3)))


def test_unsupported_output_dtype_is_an_error():
    with pytest.raises(ValueError, match="dtype must be np.float32 or np.float64"):
        TabularEncoder(dtype=np.int64).fit(mixed_frame())


# --------------------------------------------------------------------------- estimator behaviour


def test_fit_and_transform_leave_the_callers_frame_untouched():
    X = mixed_frame()
    X.loc[2, "height"] = np.nan
    copy = X.copy(deep=True)
    TabularEncoder(numeric="mode_specific", random_state=0).fit(X).transform(X)
    pd.testing.assert_frame_equal(X, copy)


def test_pickled_encoder_transforms_and_inverts_identically():
    X = mixed_frame()
    encoder = TabularEncoder(numeric="mode_specific", random_state=0).fit(X)
    clone = pickle.loads(pickle.dumps(encoder))
    np.testing.assert_array_equal(clone.transform(X), encoder.transform(X))
    Z = encoder.transform(X)
    pd.testing.assert_frame_equal(clone.inverse_transform(Z), encoder.inverse_transform(Z))


def test_docstring_examples_run():
    result = doctest.testmod(_tabular, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
