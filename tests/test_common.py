"""Conformance of every public estimator: scikit-learn's checks, imbalanced-learn's, and ours.

Estimators are discovered from ``sklearn_adv.__all__``; ``tests/instances.py``
says how to build a fast instance and which upstream checks fail on purpose.
"""

import inspect
import io
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from imblearn.utils.estimator_checks import parametrize_with_checks as parametrize_with_sampler_checks
from instances import (
    DIVERGENCE_PARAMS,
    EXPECTED_FAILED_CHECKS,
    EXTRA_CONFIGURATIONS,
    FIT_DATA,
    INSTANCE_FACTORIES,
    QUICK_PARAMS,
    SKIP_OWN_CHECKS,
)
from sklearn.base import BaseEstimator, clone
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_adv


def _public_estimators():
    for name in sklearn_adv.__all__:
        obj = getattr(sklearn_adv, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            yield name, obj


def _instance(name, cls):
    if name in INSTANCE_FACTORIES:
        return INSTANCE_FACTORIES[name]()
    return cls(**QUICK_PARAMS.get(name, {}))


ESTIMATORS = [_instance(name, cls) for name, cls in _public_estimators()]
_LABELS = {id(est): type(est).__name__ for est in ESTIMATORS}
for _label, (_name, _params) in EXTRA_CONFIGURATIONS.items():
    ESTIMATORS.append(getattr(sklearn_adv, _name)(**_params))
    _LABELS[id(ESTIMATORS[-1])] = _label
SAMPLERS = [est for est in ESTIMATORS if hasattr(est, "fit_resample")]


def _expected_failures(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def test_every_public_estimator_is_checked():
    assert {type(est).__name__ for est in ESTIMATORS} == {name for name, _ in _public_estimators()}
    assert ESTIMATORS, "sklearn_adv exports no estimator"


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@parametrize_with_sampler_checks(SAMPLERS, expected_failed_checks=_expected_failures)
def test_imblearn_sampler_compatible(estimator, check):
    check(estimator)


# -- our own checks ---------------------------------------------------------


def _default_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 4))
    y = np.array([0, 1] * 20)
    X[y == 1] += 1.5
    return X, y


def _data(estimator):
    factory = FIT_DATA.get(type(estimator).__name__, _default_data)
    return factory()


def _fit(estimator, X, y):
    if hasattr(estimator, "fit_resample"):
        return estimator.fit_resample(X, y)
    return estimator.fit(X, y)


def _fit_and_return(estimator, X, y):
    _fit(estimator, X, y)
    return estimator


def _outputs(estimator, X, y):
    """Everything a fitted estimator says about X, for comparing two fits."""
    outputs = {}
    if hasattr(estimator, "fit_resample"):
        X_res, y_res = clone(estimator).fit_resample(X, y)
        outputs["fit_resample X"], outputs["fit_resample y"] = np.asarray(X_res), np.asarray(y_res)
    for method in ("predict_proba", "decision_function", "predict", "transform", "score_samples", "generate"):
        if hasattr(estimator, method):
            try:
                outputs[method] = np.asarray(getattr(estimator, method)(X))
            except TypeError:  # methods that also need y, such as an auditor's
                outputs[method] = np.asarray(getattr(estimator, method)(X, y))
    return outputs


def _own_check_params(checks):
    params = []
    for est in ESTIMATORS:
        skipped = SKIP_OWN_CHECKS.get(_LABELS[id(est)], {})
        for check in checks:
            marks = [pytest.mark.skip(reason=skipped[check])] if check in skipped else []
            params.append(pytest.param(est, check, id=f"{_LABELS[id(est)]}-{check}", marks=marks))
    return params


def _is_classification(estimator):
    tags = get_tags(estimator)
    return tags.target_tags.required and (tags.classifier_tags is not None or hasattr(estimator, "fit_resample"))


BAD_INPUTS = ["nan", "inf", "empty", "one_row", "one_dim", "mismatched_lengths", "string_features", "one_class"]


@pytest.mark.parametrize("estimator, bad_input", _own_check_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error_before_training(estimator, bad_input):
    X, y = _data(estimator)
    X = np.array(X, dtype=float)
    expected = r"(?i)nan|inf|finite|sample|row|dimension|array|length|inconsistent|string|float|class|label|y"
    if bad_input == "nan":
        X[0, 0] = np.nan
        expected = r"(?i)nan"
    elif bad_input == "inf":
        X[0, 0] = np.inf
        expected = r"(?i)inf"
    elif bad_input == "empty":
        X, y = X[:0], y[:0]
        expected = r"(?i)0 sample|0 row|empty|at least"
    elif bad_input == "one_row":
        X, y = X[:1], y[:1]
        expected = r"(?i)sample|row|at least|class"
    elif bad_input == "one_dim":
        X = X[:, 0]
        expected = r"(?i)2d|dimension|reshape|shape"
    elif bad_input == "mismatched_lengths":
        y = y[:-1]
        expected = r"(?i)inconsistent|length|number of samples"
    elif bad_input == "string_features":
        X = X.astype(str).astype(object)
        X[:, 0] = "a"
        expected = r"(?i)string|float|numeric|could not convert"
    elif bad_input == "one_class":
        if not _is_classification(estimator):
            pytest.skip("not a classification estimator")
        y = np.full_like(y, y[0])
        expected = r"(?i)class"
    with pytest.raises((ValueError, TypeError), match=expected):
        _fit(clone(estimator), X, y)


class _TensorSpotter(pickle.Pickler):
    """A pickler that records every torch tensor or storage it is handed directly.

    skorch pickles the attributes it knows to depend on a device (modules,
    optimizers, criteria: ``cuda_dependent_attributes_``) through
    ``torch.save`` into bytes, which ``torch.load`` maps to an available
    device; any tensor that reaches the pickle otherwise would come back on
    the device it was trained on and fail to load on a machine without it.
    This finds such tensors without a GPU.
    """

    def __init__(self, file):
        super().__init__(file)
        self.found = []

    def reducer_override(self, obj):
        import torch

        if isinstance(obj, (torch.Tensor, torch.UntypedStorage, torch.TypedStorage)):
            self.found.append(f"{type(obj).__name__} of shape {tuple(getattr(obj, 'shape', ()))}")
        return NotImplemented


CONTRACTS = [
    "inputs_unchanged",
    "pickle_round_trip",
    "pickle_carries_no_device",
    "random_state_reproducible",
    "threaded_fits_match_sequential",
    "pandas_feature_names",
    "divergence_stops_with_an_error",
]


@pytest.mark.parametrize("estimator, contract", _own_check_params(CONTRACTS))
def test_estimator_contract(estimator, contract):
    X, y = _data(estimator)
    if contract == "inputs_unchanged":
        frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
        for data in (np.array(X, copy=True), frame):
            before = data.copy()
            target = np.array(y, copy=True)
            fitted = clone(estimator)
            _fit(fitted, data, target)
            _outputs(fitted, data, target)
            if isinstance(data, pd.DataFrame):
                pd.testing.assert_frame_equal(data, before)
            else:
                np.testing.assert_array_equal(data, before)
            np.testing.assert_array_equal(target, y)
    elif contract == "pickle_round_trip":
        fitted = clone(estimator)
        _fit(fitted, X, y)
        restored = pickle.loads(pickle.dumps(fitted))
        for method, output in _outputs(fitted, X, y).items():
            np.testing.assert_array_equal(_outputs(restored, X, y)[method], output, err_msg=method)
    elif contract == "pickle_carries_no_device":
        fitted = clone(estimator)
        _fit(fitted, X, y)
        _outputs(fitted, X, y)  # predictions may leave state behind, which must pickle safely too
        spotter = _TensorSpotter(io.BytesIO())
        spotter.dump(fitted)
        assert not spotter.found, f"tensors pickled outside skorch's device mapping: {spotter.found}"
    elif contract == "random_state_reproducible":
        if "random_state" not in estimator.get_params():
            pytest.skip("no random_state parameter")
        first, second = clone(estimator).set_params(random_state=3), clone(estimator).set_params(random_state=3)
        _fit(first, X, y)
        _fit(second, X, y)
        out_first, out_second = _outputs(first, X, y), _outputs(second, X, y)
        for method, output in out_first.items():
            np.testing.assert_array_equal(out_second[method], output, err_msg=method)
    elif contract == "divergence_stops_with_an_error":
        # Far too large a step: the loss explodes (finite, but orders of magnitude up) or becomes NaN;
        # the fit must stop and say so rather than return a model predicting garbage.
        if "lr" not in estimator.get_params():
            pytest.skip("trains no network")
        diverging = clone(estimator).set_params(lr=1e6, **DIVERGENCE_PARAMS.get(type(estimator).__name__, {}))
        with pytest.raises(FloatingPointError, match=r"diverged.*lr=1e\+06"):
            _fit(diverging, X, y)
    elif contract == "threaded_fits_match_sequential":
        # A fit owns its random generators: fits running side by side in threads (joblib's
        # threading backend, a threaded GridSearchCV) give what each gives alone.
        if "random_state" not in estimator.get_params():
            pytest.skip("no random_state parameter")
        sequential = _outputs(_fit_and_return(clone(estimator).set_params(random_state=3), X, y), X, y)
        clones = [clone(estimator).set_params(random_state=3) for _ in range(3)]
        with ThreadPoolExecutor(max_workers=3) as pool:
            fitted = list(pool.map(lambda est: _fit_and_return(est, X, y), clones))
        for threaded in fitted:
            for method, output in _outputs(threaded, X, y).items():
                np.testing.assert_array_equal(output, sequential[method], err_msg=method)
    elif contract == "pandas_feature_names":
        columns = [f"feature_{i}" for i in range(X.shape[1])]
        frame = pd.DataFrame(X, columns=columns)
        fitted = clone(estimator)
        result = _fit(fitted, frame, pd.Series(y, name="target"))
        np.testing.assert_array_equal(fitted.feature_names_in_, columns)
        if hasattr(fitted, "fit_resample"):
            X_res, y_res = result
            assert isinstance(X_res, pd.DataFrame) and list(X_res.columns) == columns
            assert isinstance(y_res, pd.Series) and y_res.name == "target"
