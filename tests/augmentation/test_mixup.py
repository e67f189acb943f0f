import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_adv import MixupTransformer
from sklearn_adv.pipeline import make_pipeline


def _classification(n=30, d=3, seed=0):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n, d)), np.arange(n) % 3


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 25),
    n_samples=st.integers(0, 60),
    alpha=st.floats(0.05, 4.0),
    n_classes=st.integers(2, 4),
    seed=st.integers(0, 2**16),
)
def test_mixed_rows_lie_between_two_parents_and_pair_weights_sum_to_one(n, n_samples, alpha, n_classes, seed):
    # One-hot rows: a convex combination of two of them has at most two
    # non-zero entries, both in [0, 1], summing to 1.
    X = np.eye(n)
    y = np.arange(n) % n_classes
    mixup = MixupTransformer(alpha=alpha, n_samples=n_samples, random_state=seed)
    X_res, y_res = mixup.fit_resample(X, y)

    np.testing.assert_array_equal(X_res[:n], X)
    np.testing.assert_array_equal(y_res[:n], y)
    new, weights = X_res[n:], mixup.sample_weight_[n:]
    assert len(mixup.sample_weight_) == len(X_res) == len(y_res)
    assert np.all(mixup.sample_weight_[:n] == 1)
    assert np.all((new >= -1e-12) & (new <= 1 + 1e-12))
    np.testing.assert_allclose(new.sum(axis=1), 1.0)
    assert np.all((new > 1e-12).sum(axis=1) <= 2)
    # Each mixed row's label belongs to a parent it visibly draws on.
    for row, label, weight in zip(new, y_res[n:], weights):
        assert weight < 1e-9 or label in y[row > 1e-12]
    # Every mixed row carries a total weight of 1, split over at most two labels.
    assert np.all((weights >= 0) & (weights <= 1))
    np.testing.assert_allclose(weights.sum(), n_samples)
    assert n_samples <= len(new) <= 2 * n_samples


@settings(max_examples=25, deadline=None)
@given(dtype=st.sampled_from([np.float32, np.float64]), ndim=st.sampled_from([2, 3, 4]), seed=st.integers(0, 100))
def test_shapes_and_dtypes_are_kept(dtype, ndim, seed):
    shape = {2: (12, 5), 3: (12, 4, 4), 4: (12, 2, 4, 4)}[ndim]
    X = np.random.RandomState(seed).rand(*shape).astype(dtype)
    y = np.arange(12) % 2
    X_res, y_res = MixupTransformer(n_samples=7, random_state=seed).fit_resample(X, y)
    assert X_res.dtype == dtype and X_res.shape[1:] == X.shape[1:] and y_res.dtype == y.dtype
    assert len(X_res) >= 12 + 7


def test_weighted_pairs_are_exactly_the_soft_label_objective_for_logistic_regression():
    X, y = _classification(40, 2, seed=1)
    y = (y == 0).astype(int)
    mixup = MixupTransformer(alpha=1.0, n_samples=40, random_state=0)
    X_res, y_res = mixup.fit_resample(X, y)
    weighted = LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(X_res, y_res, sample_weight=mixup.sample_weight_)

    # The same mixed rows, each once, with its soft label, fitted by a direct
    # minimisation of the soft-label log loss plus the same L2 penalty.
    rows, first_index = np.unique(X_res, axis=0, return_index=True)
    soft = np.zeros(len(rows))
    for k, row in enumerate(rows):
        same = np.all(X_res == row, axis=1)
        soft[k] = np.sum(mixup.sample_weight_[same] * y_res[same]) / np.sum(mixup.sample_weight_[same])
    counts = np.array([np.sum(mixup.sample_weight_[np.all(X_res == row, axis=1)]) for row in rows])

    def objective(params):
        w, b = params[:-1], params[-1]
        p = np.clip(expit(rows @ w + b), 1e-12, 1 - 1e-12)
        return -np.sum(counts * (soft * np.log(p) + (1 - soft) * np.log(1 - p))) + 0.5 * w @ w

    direct = minimize(objective, np.zeros(3), method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(weighted.coef_.ravel(), direct[:-1], atol=1e-4)
    np.testing.assert_allclose(weighted.intercept_, direct[-1:], atol=1e-4)


def test_regression_targets_are_mixed_directly():
    X = np.arange(10.0)[:, None]
    y = 2.0 * np.arange(10.0) + 0.5
    mixup = MixupTransformer(alpha=1.0, n_samples=25, random_state=0)
    X_res, y_res = mixup.fit_resample(X, y)
    assert len(X_res) == 35
    # y is linear in x, and mixing keeps it so.
    np.testing.assert_allclose(y_res, 2.0 * X_res.ravel() + 0.5)
    np.testing.assert_array_equal(mixup.sample_weight_, 1.0)


def test_multi_output_targets_work():
    X, _ = _classification(20)
    y_continuous = np.c_[X[:, 0], 3 * X[:, 1]]
    X_res, y_res = MixupTransformer(alpha=1.0, n_samples=10, random_state=0).fit_resample(X, y_continuous)
    np.testing.assert_allclose(y_res, np.c_[X_res[:, 0], 3 * X_res[:, 1]])
    y_classes = np.c_[np.arange(20) % 2, np.arange(20) % 3]
    X_res, y_res = MixupTransformer(n_samples=10, random_state=0).fit_resample(X, y_classes)
    assert y_res.shape[1] == 2 and set(map(tuple, y_res)) <= set(map(tuple, y_classes))
    Ridge().fit(X_res, y_res)


def test_alpha_zero_switches_mixup_off():
    X, y = _classification()
    mixup = MixupTransformer(alpha=0.0, random_state=0)
    X_res, y_res = mixup.fit_resample(X, y)
    np.testing.assert_array_equal(X_res, X)
    np.testing.assert_array_equal(mixup.sample_weight_, 1.0)


def test_n_samples_as_a_ratio_of_the_input_size():
    X, y = _classification(30)
    mixup = MixupTransformer(n_samples=0.5, y_mixing="interpolate", random_state=0)
    X_res, _ = mixup.fit_resample(X, y.astype(float))
    assert len(X_res) == 45


def test_within_class_mixes_rows_of_one_class_only():
    X = np.repeat(np.arange(3.0), 10)[:, None] * 100 + np.random.RandomState(0).rand(30, 1)
    y = np.repeat([0, 1, 2], 10)
    mixup = MixupTransformer(alpha=1.0, n_samples=60, within_class=True, random_state=0)
    X_res, y_res = mixup.fit_resample(X, y)
    # Rows of class c lie in [100 c, 100 c + 1): so must their mixtures, one row per pair.
    np.testing.assert_array_equal(np.floor(X_res[30:, 0] / 100), y_res[30:])
    assert len(X_res) == 90 and np.all(mixup.sample_weight_ == 1)


def test_same_random_state_same_rows_and_different_states_differ():
    X, y = _classification()
    first = MixupTransformer(random_state=1).fit_resample(X, y)[0]
    np.testing.assert_array_equal(first, MixupTransformer(random_state=1).fit_resample(X, y)[0])
    assert not np.array_equal(first, MixupTransformer(random_state=2).fit_resample(X, y)[0])


def test_cutmix_pastes_a_box_and_weights_by_its_area():
    n = 8
    X = np.stack([np.full((2, 6, 6), float(i)) for i in range(n)])  # image i holds the value i
    y = np.arange(n)
    mixup = MixupTransformer(method="cutmix", alpha=1.0, n_samples=20, random_state=0)
    X_res, y_res = mixup.fit_resample(X, y)
    new, labels, weights = X_res[n:], y_res[n:], mixup.sample_weight_[n:]
    k = 0
    while k < len(new):
        values = np.unique(new[k])
        assert len(values) <= 2  # pixels from two images only, same box on every channel
        if k + 1 < len(new) and np.array_equal(new[k], new[k + 1]):
            first, second = labels[k], labels[k + 1]
            assert set(values) <= {first, second}
            np.testing.assert_allclose(weights[k], np.mean(new[k] == first))
            np.testing.assert_allclose(weights[k] + weights[k + 1], 1.0)
            k += 2
        else:
            assert weights[k] == 1.0
            k += 1


def test_cutmix_takes_flat_rows_with_image_shape():
    X = np.random.RandomState(0).rand(10, 16)
    X_res, _ = MixupTransformer(method="cutmix", image_shape=(4, 4), random_state=0).fit_resample(X, np.arange(10) % 2)
    assert X_res.shape[1] == 16


def test_cutmix_without_images_is_a_clear_error():
    with pytest.raises(ValueError, match="image_shape"):
        MixupTransformer(method="cutmix").fit_resample(np.zeros((4, 16)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="holds 9 values"):
        MixupTransformer(method="cutmix", image_shape=(3, 3)).fit_resample(np.zeros((4, 16)), [0, 1, 0, 1])


def test_dataframes_keep_columns_and_categories():
    frame = pd.DataFrame(
        {
            "age": [20, 30, 40, 50],
            "city": pd.Categorical(["a", "b", "a", "c"]),
            "member": [True, False, True, False],
            "name": ["w", "x", "y", "z"],
        }
    )
    y = pd.Series([0, 1, 0, 1], name="label")
    X_res, y_res = MixupTransformer(n_samples=6, random_state=0).fit_resample(frame, y)
    assert list(X_res.columns) == list(frame.columns)
    pd.testing.assert_frame_equal(X_res.iloc[:4], frame.astype({"age": X_res["age"].dtype}))
    assert X_res["city"].dtype == frame["city"].dtype
    assert X_res["member"].dtype == bool
    assert set(X_res["name"]) <= set(frame["name"])
    assert X_res["age"].between(20, 50).all()
    assert isinstance(y_res, pd.Series) and y_res.name == "label"


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_rows_are_mixed_as_dense_ones_and_stay_sparse(fmt):
    X, y = _classification(n=40, d=6)
    X[np.abs(X) < 0.8] = 0.0  # mostly zeros, as one-hot features are
    X_sparse = sp.csr_matrix(X).asformat(fmt)
    dense_X, dense_y = MixupTransformer(n_samples=30, random_state=0).fit_resample(X, y)
    mixer = MixupTransformer(n_samples=30, random_state=0)
    sparse_X, sparse_y = mixer.fit_resample(X_sparse, y)
    assert sp.issparse(sparse_X) and sparse_X.format == fmt
    np.testing.assert_allclose(sparse_X.toarray(), dense_X)
    np.testing.assert_array_equal(sparse_y, dense_y)
    assert mixer.transform(X_sparse) is X_sparse


def test_a_sparse_one_hot_encoding_feeds_mixup_in_a_pipeline():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"city": rng.choice(list("abcdefgh"), 200), "age": rng.uniform(20, 60, 200)})
    y = ((frame["city"] < "d") & (frame["age"] > 30)).astype(int)
    encode = ColumnTransformer([("city", OneHotEncoder(), ["city"]), ("age", StandardScaler(), ["age"])], sparse_threshold=1.0)
    assert sp.issparse(encode.fit_transform(frame))
    model = make_pipeline(encode, MixupTransformer(random_state=0), LogisticRegression()).fit(frame, y)
    assert model.score(frame, y) > 0.9  # 0.985


def test_cutmix_refuses_sparse_input():
    with pytest.raises(ValueError, match="method='cutmix' needs dense images, not a csr_matrix"):
        MixupTransformer(method="cutmix", image_shape=(2, 2)).fit_resample(sp.csr_matrix(np.eye(4)), [0, 1, 0, 1])


def test_transform_passes_data_through():
    X, y = _classification()
    mixup = MixupTransformer().fit(X, y)
    assert mixup.transform(X) is X


def test_set_output_pandas_makes_transform_return_a_named_frame():
    X, y = _classification()
    mixup = MixupTransformer().set_output(transform="pandas").fit(X, y)
    out = mixup.transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["x0", "x1", "x2"]
    np.testing.assert_array_equal(out.to_numpy(), X)
    # fit_resample is not a transform: its rows keep the input's type.
    assert isinstance(mixup.fit_resample(X, y)[0], np.ndarray)


def test_transform_passes_through_a_frame_with_missing_categories_that_fit_resample_takes():
    frame = pd.DataFrame({"age": [20.0, 30.0, 40.0, 50.0], "city": pd.Categorical(["a", None, "b", "a"])})
    frame["name"] = pd.Series(["w", None, "y", "z"], dtype=object)
    mixup = MixupTransformer(random_state=0)
    mixup.fit_resample(frame, [0, 1, 0, 1])
    assert mixup.transform(frame) is frame
    with pytest.raises(ValueError, match="Feature names unseen at fit time"):
        mixup.transform(frame.rename(columns={"age": "years"}))
    # Arrays keep the NaN check of fit (mixup does not accept missing numbers).
    with pytest.raises(ValueError, match="Input X contains NaN"):
        MixupTransformer().fit(np.ones((4, 2)), [0, 1, 0, 1]).transform(np.full((2, 2), np.nan))


def test_bad_parameters_are_rejected():
    X, y = _classification()
    with pytest.raises(ValueError, match="alpha"):
        MixupTransformer(alpha=-1).fit_resample(X, y)
    with pytest.raises(ValueError, match="within_class"):
        MixupTransformer(within_class=True).fit_resample(X, X[:, 0])
    with pytest.raises(ValueError, match="two classes"):
        MixupTransformer().fit_resample(X, np.zeros(len(X), dtype=int))


def test_memory_is_linear_in_the_rows_produced():
    import tracemalloc

    X = np.random.RandomState(0).rand(20_000, 50).astype(np.float32)
    y = np.arange(20_000) % 2
    tracemalloc.start()
    X_res, _ = MixupTransformer(n_samples=20_000, random_state=0).fit_resample(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # An n x n intermediate would take 1.6 GB; the output itself is at most 3 x 20k x 50 float32.
    assert peak < 12 * X_res.nbytes
