import gzip
import uuid

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits

from sklearn_adv import datasets
from sklearn_adv.datasets import (
    load_adult,
    load_digit_images,
    make_digit_shift,
    make_transformed_digits,
)

FEATURES = [
    "age", "workclass", "fnlwgt", "education", "education-num",
    "marital-status", "occupation", "relationship", "race", "sex",
    "capital-gain", "capital-loss", "hours-per-week", "native-country",
]  # fmt: skip
CATEGORICAL = [
    "workclass", "education", "marital-status", "occupation",
    "relationship", "race", "sex", "native-country",
]  # fmt: skip
INTEGER = [name for name in FEATURES if name not in CATEGORICAL]

ROWS = [
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, "
    "Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K",
    "50, ?, 83311, Bachelors, 13, Married-civ-spouse, ?, Husband, White, "
    "Male, 0, 0, 13, ?, >50K",
    "38, Private, 215646, HS-grad, 9, Divorced, Handlers-cleaners, "
    "Not-in-family, White, Female, 0, 0, 40, Atlantis, >50K.",
]


def _raw_rows(name):
    """The rows of a packaged file, parsed by hand: the reference."""
    path = datasets._packaged_data_dir() / f"{name}.gz"
    with gzip.open(path, "rt") as stream:
        lines = [line.strip() for line in stream]
    return [line.split(", ") for line in lines if line and not line.startswith("|")]


def _write(path, rows, compress):
    text = "\n".join(rows) + "\n"
    if compress:
        with gzip.open(path, "wt") as stream:
            stream.write(text)
    else:
        path.write_text(text)
    return path


# ---------------------------------------------------------------- load_adult


@pytest.mark.parametrize(
    "subset, n_rows", [("train", 32561), ("test", 16281), ("all", 48842)]
)
def test_load_adult_has_the_documented_shape(subset, n_rows):
    adult = load_adult(subset=subset)
    assert adult.data.shape == (n_rows, 14)
    assert adult.target.shape == (n_rows,)
    assert adult.frame.shape == (n_rows, 15)


def test_load_adult_positive_rate_is_about_a_quarter():
    assert load_adult(subset="all").target.mean() == pytest.approx(0.24, abs=0.01)


def test_load_adult_columns_and_dtypes():
    adult = load_adult()
    assert adult.feature_names == FEATURES
    assert list(adult.data.columns) == FEATURES
    assert list(adult.frame.columns) == FEATURES + ["income"]
    assert adult.categorical_features == CATEGORICAL
    for name in CATEGORICAL:
        assert isinstance(adult.data[name].dtype, pd.CategoricalDtype)
    for name in INTEGER:
        assert adult.data[name].dtype == np.int64
    assert adult.target.dtype == np.int64
    assert adult.target.name == "income"


@pytest.mark.parametrize(
    "subset, name", [("train", "adult.data"), ("test", "adult.test")]
)
def test_load_adult_round_trips_the_raw_file(subset, name):
    raw = _raw_rows(name)
    adult = load_adult(subset=subset)
    assert len(raw) == len(adult.data)
    for j, feature in enumerate(FEATURES):
        values = [row[j] for row in raw]
        if feature in INTEGER:
            expected = np.array(values, dtype=np.int64)
            np.testing.assert_array_equal(adult.data[feature].to_numpy(), expected)
        else:
            parsed = adult.data[feature].astype(object)
            expected = [None if v == "?" else v for v in values]
            assert [None if pd.isna(v) else v for v in parsed] == expected
    labels = [row[-1].rstrip(".") for row in raw]
    expected_target = np.array([label == ">50K" for label in labels], dtype=np.int64)
    np.testing.assert_array_equal(adult.target.to_numpy(), expected_target)


def test_load_adult_question_marks_are_missing_values():
    adult = load_adult()
    raw = _raw_rows("adult.data")
    for name in ("workclass", "occupation", "native-country"):
        j = FEATURES.index(name)
        n_question = sum(row[j] == "?" for row in raw)
        assert n_question > 0
        assert adult.data[name].isna().sum() == n_question
        assert "?" not in adult.data[name].cat.categories


def test_load_adult_target_names_match_the_codes():
    adult = load_adult()
    assert adult.target_names == ["<=50K", ">50K"]
    raw = _raw_rows("adult.data")
    first_rich = next(i for i, row in enumerate(raw) if row[-1] == ">50K")
    assert adult.target_names[adult.target[first_rich]] == ">50K"


def test_load_adult_all_stacks_train_then_test_with_shared_categories():
    train, test, both = (load_adult(subset=s) for s in ("train", "test", "all"))
    pd.testing.assert_frame_equal(both.frame.iloc[: len(train.frame)], train.frame)
    pd.testing.assert_frame_equal(
        both.frame.iloc[len(train.frame) :].reset_index(drop=True), test.frame
    )
    for name in CATEGORICAL:
        assert train.data[name].dtype == test.data[name].dtype


def test_load_adult_return_X_y_gives_data_and_target():
    X, y = load_adult(return_X_y=True)
    adult = load_adult()
    pd.testing.assert_frame_equal(X, adult.data)
    pd.testing.assert_series_equal(y, adult.target)


def test_load_adult_as_arrays_encodes_categories_as_codes():
    adult = load_adult(as_frame=False)
    frame = load_adult()
    assert adult.frame is None
    assert adult.data.dtype == np.float64 and adult.data.shape == (32561, 14)
    assert adult.target.dtype == np.int64
    j = FEATURES.index("workclass")
    codes = adult.data[:, j]
    decoded = [
        np.nan if np.isnan(c) else adult.categories["workclass"][int(c)] for c in codes
    ]
    expected = frame.data["workclass"].astype(object).tolist()
    assert [None if pd.isna(v) else v for v in decoded] == [
        None if pd.isna(v) else v for v in expected
    ]
    np.testing.assert_array_equal(adult.data[:, 0], frame.data["age"].to_numpy())


def test_load_adult_descr_credits_the_source_and_license():
    descr = load_adult().DESCR
    assert "10.24432/C5XW20" in descr
    assert "CC BY 4.0" in descr


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_load_adult_reads_a_users_file(tmp_path, compress):
    name = "mine.csv.gz" if compress else "mine.csv"
    file = _write(tmp_path / name, ROWS, compress)
    adult = load_adult(file)
    assert adult.data.shape == (3, 14)
    assert adult.target.tolist() == [0, 1, 1]
    assert adult.data["workclass"].isna().tolist() == [False, True, False]
    assert adult.data["native-country"].isna().tolist() == [False, True, False]
    assert adult.data["age"].tolist() == [39, 50, 38]
    assert adult.data["age"].dtype == np.int64


def test_load_adult_gzip_is_detected_by_content_not_name(tmp_path):
    file = _write(tmp_path / "adult_copy.txt", ROWS, compress=True)
    assert load_adult(str(file)).data.shape == (3, 14)


def test_load_adult_keeps_unknown_categories_of_a_users_file(tmp_path):
    adult = load_adult(_write(tmp_path / "mine.csv", ROWS, compress=False))
    assert adult.data["native-country"].iloc[2] == "Atlantis"
    assert "Atlantis" in adult.categories["native-country"]


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_load_adult_reads_a_users_directory(tmp_path, compress):
    suffix = ".gz" if compress else ""
    _write(tmp_path / f"adult.data{suffix}", ROWS[:2], compress)
    test_rows = ["|1x3 Cross validator", ROWS[2]]
    _write(tmp_path / f"adult.test{suffix}", test_rows, compress)
    assert load_adult(tmp_path, subset="train").data.shape == (2, 14)
    test = load_adult(tmp_path, subset="test")
    assert test.data.shape == (1, 14)
    assert test.target.tolist() == [1]
    assert load_adult(tmp_path, subset="all").target.tolist() == [0, 1, 1]


def test_load_adult_reads_an_integer_column_with_gaps_as_float(tmp_path):
    rows = [ROWS[0], ROWS[1].replace("50,", "?,", 1)]
    adult = load_adult(_write(tmp_path / "gaps.csv", rows, compress=False))
    assert adult.data["age"].dtype == np.float64
    assert adult.data["age"].isna().tolist() == [False, True]


def test_load_adult_rereads_a_file_that_changed(tmp_path):
    file = tmp_path / "mine.csv"
    _write(file, ROWS[:1], compress=False)
    assert len(load_adult(file).data) == 1
    _write(file, ROWS, compress=False)
    assert len(load_adult(file).data) == 3


def test_load_adult_second_call_is_cached():
    load_adult(subset="test")
    hits = datasets._read_adult_file.cache_info().hits
    load_adult(subset="test")
    assert datasets._read_adult_file.cache_info().hits == hits + 1


def test_load_adult_caller_cannot_corrupt_the_cache():
    reference = load_adult()
    adult = load_adult()
    adult.data.iloc[0, 0] = -1
    adult.data["sex"] = adult.data["sex"].cat.rename_categories(["F", "M"])
    adult.target.iloc[:] = 7
    del adult.frame["income"]
    adult.feature_names.append("extra")
    adult.categories["sex"].append("extra")
    X, y = load_adult(as_frame=False, return_X_y=True)
    X[:] = -1
    y[:] = -1
    again = load_adult()
    pd.testing.assert_frame_equal(again.frame, reference.frame)
    assert again.feature_names == FEATURES
    assert again.categories["sex"] == ["Female", "Male"]
    np.testing.assert_array_equal(
        load_adult(as_frame=False).data[:, 0], reference.data["age"].to_numpy()
    )


def test_load_adult_rejects_an_unknown_subset():
    with pytest.raises(ValueError, match="subset"):
        load_adult(subset="validation")


def test_load_adult_rejects_a_path_of_the_wrong_type():
    with pytest.raises(TypeError, match="path"):
        load_adult(42)


def test_load_adult_rejects_a_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="path"):
        load_adult(tmp_path / "nowhere")


def test_load_adult_rejects_a_directory_without_the_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="adult.data"):
        load_adult(tmp_path)


def test_load_adult_rejects_a_file_with_unknown_labels(tmp_path):
    rows = [ROWS[0].replace("<=50K", "rich")]
    with pytest.raises(ValueError, match="labels"):
        load_adult(_write(tmp_path / "bad.csv", rows, compress=False))


def test_load_adult_rejects_a_file_with_too_many_columns(tmp_path):
    rows = [ROWS[0], ROWS[0] + ", extra"]
    with pytest.raises(ValueError, match="path"):
        load_adult(_write(tmp_path / "bad.csv", rows, compress=False))


def test_load_adult_rejects_text_in_an_integer_column(tmp_path):
    rows = [ROWS[0].replace("39,", "old,", 1)]
    with pytest.raises(ValueError, match="age"):
        load_adult(_write(tmp_path / "bad.csv", rows, compress=False))


def test_load_adult_rejects_an_empty_file(tmp_path):
    file = tmp_path / "empty.csv"
    file.write_text("| only a comment\n")
    with pytest.raises(ValueError, match="no rows"):
        load_adult(file)


_categorical_values = {
    name: st.sampled_from(list(datasets._ADULT_CATEGORIES[name]) + ["?"])
    for name in CATEGORICAL
}


@st.composite
def _adult_rows(draw):
    n_rows = draw(st.integers(1, 6))
    rows = []
    for _ in range(n_rows):
        row = {}
        for name in FEATURES:
            if name in CATEGORICAL:
                row[name] = draw(_categorical_values[name])
            else:
                row[name] = draw(st.integers(0, 10**6))
        row["income"] = draw(st.sampled_from(["<=50K", ">50K", "<=50K.", ">50K."]))
        rows.append(row)
    return rows


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=_adult_rows(), compress=st.booleans())
def test_load_adult_round_trips_any_written_rows(tmp_path, rows, compress):
    lines = [", ".join(str(row[k]) for k in FEATURES + ["income"]) for row in rows]
    # A fresh name per example: a file rewritten within the file system's
    # timestamp resolution with the same size would be served from the cache.
    file = _write(tmp_path / f"rows-{uuid.uuid4().hex}.csv", lines, compress)
    adult = load_adult(file)
    for i, row in enumerate(rows):
        for name in FEATURES:
            value = adult.data[name].iloc[i]
            if row[name] == "?":
                assert pd.isna(value)
            else:
                assert value == row[name]
        assert adult.target.iloc[i] == int(row["income"].startswith(">"))


# ----------------------------------------------------------- digit helpers


def test_load_digit_images_shapes_and_range():
    images, labels = load_digit_images()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float64
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(labels.tolist()) == set(range(10))


def test_load_digit_images_integer_levels():
    images, _ = load_digit_images(as_float=False)
    floats, _ = load_digit_images()
    assert images.dtype == np.int64
    assert images.min() == 0 and images.max() == 16
    np.testing.assert_allclose(images / 16, floats)


@pytest.mark.parametrize("transformation", ["rotate", "blur", "invert"])
def test_make_digit_shift_shapes_and_range(transformation):
    (X_s, y_s), (X_t, y_t) = make_digit_shift(transformation, noise=0.1)
    assert X_s.shape == (len(y_s), 8, 8) and X_t.shape == (len(y_t), 8, 8)
    assert len(y_s) + len(y_t) == 1797
    assert abs(len(y_s) - len(y_t)) <= 1
    for X in (X_s, X_t):
        assert X.dtype == np.float64
        assert X.min() >= 0.0 and X.max() <= 1.0


def test_make_digit_shift_splits_the_digits_into_disjoint_halves():
    images, labels = load_digit_images()
    (X_s, y_s), (X_t, y_t) = make_digit_shift("rotate", angle=0)
    stacked = np.concatenate([X_s, X_t]).reshape(len(labels), -1)
    stacked_labels = np.concatenate([y_s, y_t])
    flat = images.reshape(len(labels), -1)
    order = np.lexsort(np.column_stack([stacked, stacked_labels]).T)
    expected = np.lexsort(np.column_stack([flat, labels]).T)
    np.testing.assert_allclose(stacked[order], flat[expected])
    np.testing.assert_array_equal(stacked_labels[order], labels[expected])


def test_make_digit_shift_keeps_every_digit_in_both_domains():
    (_, y_s), (_, y_t) = make_digit_shift()
    np.testing.assert_allclose(np.bincount(y_s), np.bincount(y_t), atol=1)


def test_make_digit_shift_invert_flips_grey_levels():
    (X_s, _), (X_t, _) = make_digit_shift("invert")
    # Digits are dark backgrounds with bright ink; inverted ones the opposite.
    assert X_s.mean() < 0.5 < X_t.mean()
    assert X_s.mean() + X_t.mean() == pytest.approx(1.0, abs=0.02)


def test_make_digit_shift_rotation_moves_the_ink():
    (X_s, _), (X_t, _) = make_digit_shift("rotate", angle=90)
    (_, _), (X_0, _) = make_digit_shift("rotate", angle=0)
    assert np.abs(X_t - X_0).mean() > 0.1


def test_make_digit_shift_blur_smooths_the_images():
    (_, _), (X_t, _) = make_digit_shift("blur")
    (_, _), (X_0, _) = make_digit_shift("rotate", angle=0)
    roughness = lambda X: np.abs(np.diff(X, axis=2)).mean()  # noqa: E731
    assert roughness(X_t) < 0.7 * roughness(X_0)


def test_make_digit_shift_is_deterministic():
    first = make_digit_shift("rotate", noise=0.2, random_state=3)
    second = make_digit_shift("rotate", noise=0.2, random_state=3)
    for a, b in zip(first, second):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_make_digit_shift_seed_changes_the_split():
    (_, y_a), _ = make_digit_shift(random_state=0)
    (_, y_b), _ = make_digit_shift(random_state=1)
    assert not np.array_equal(y_a, y_b)


def test_make_digit_shift_noise_touches_only_the_target():
    (X_s, _), (X_t, _) = make_digit_shift(noise=0.0)
    (X_s_noisy, _), (X_t_noisy, _) = make_digit_shift(noise=0.3)
    np.testing.assert_array_equal(X_s, X_s_noisy)
    assert not np.array_equal(X_t, X_t_noisy)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"transformation": "shear"}, "transformation"),
        ({"noise": -0.1}, "noise"),
        ({"angle": "big"}, "angle"),
    ],
)
def test_make_digit_shift_rejects_bad_parameters(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make_digit_shift(**params)


def test_make_transformed_digits_moves_each_digit_on_a_larger_canvas():
    images, target = make_transformed_digits(canvas_size=12, max_shift=2, max_rotation=20, random_state=0)
    digits = load_digits()
    assert images.shape == (1797, 12, 12) and target.shape == (1797,)
    np.testing.assert_array_equal(target, digits.target)
    assert images.min() >= 0 and images.max() <= 16
    # Rotation loses a little ink at the corners, but the digit stays whole.
    np.testing.assert_allclose(images.sum(axis=(1, 2)), digits.images.sum(axis=(1, 2)), rtol=0.25)
    centred = np.zeros((1797, 12, 12))
    centred[:, 2:10, 2:10] = digits.images
    assert not np.allclose(images, centred)


def test_make_transformed_digits_without_transformations_only_centres_the_digits():
    images, _ = make_transformed_digits(canvas_size=10, max_shift=0, max_rotation=0)
    np.testing.assert_allclose(images[:, 1:9, 1:9], load_digits().images)
    assert images[:, 0].sum() == 0 and images[:, :, -1].sum() == 0


def test_make_transformed_digits_depends_only_on_its_arguments():
    first, _ = make_transformed_digits(random_state=3)
    second, _ = make_transformed_digits(random_state=3)
    other, _ = make_transformed_digits(random_state=4)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    "params, match",
    [({"canvas_size": 6}, "canvas_size"), ({"max_shift": -1}, "max_shift"), ({"max_rotation": np.inf}, "max_rotation")],
)
def test_make_transformed_digits_rejects_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        make_transformed_digits(**params)
