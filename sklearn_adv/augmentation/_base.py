"""What every sampler of the package shares: the fit-only contract, the pipeline guard, the output's container."""

import numpy as np
import pandas as pd
import scipy.sparse as sp

# imbalanced-learn's tags (its Tags adds sampler_tags, its InputTags dataframe) have no public import path.
from imblearn.utils._tags import InputTags, SamplerTags, Tags
from sklearn.base import OneToOneFeatureMixin
from sklearn.utils import TransformerTags

# set_output without TransformerMixin's fit_transform, which a sampler must refuse: no public mixin offers that.
from sklearn.utils._set_output import _SetOutputMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from sklearn_adv.utils import concat_rows


class SamplerMixin(OneToOneFeatureMixin, _SetOutputMixin):
    """Mixin (before ``BaseEstimator``) for estimators that add rows during fit.

    A sampler follows the imbalanced-learn API: ``fit_resample(X, y)`` returns
    the original rows unchanged and in order, followed by the new rows; the
    weight of every returned row is left in ``sample_weight_``, which
    :class:`sklearn_adv.pipeline.Pipeline` hands to the final estimator.
    ``transform`` passes data through untouched, as a sampler does at
    prediction time (``set_output(transform="pandas")`` makes it return a
    DataFrame, as a transformer's). A plain :class:`sklearn.pipeline.Pipeline`
    would call ``fit_transform`` and silently drop the new rows, so that raises.
    """

    _estimator_type = "sampler"

    def fit(self, X, y):
        """Validate the data and fit the sampler; use :meth:`fit_resample` to get the new rows."""
        self.fit_resample(X, y)
        return self

    def transform(self, X):
        """Return ``X`` unchanged: new rows are made during fit only."""
        check_is_fitted(self)
        if hasattr(X, "columns") and hasattr(X, "dtypes"):
            # A DataFrame's columns are checked, not its values: any frame
            # that fit_resample takes (categories with missing values
            # included) passes through.
            validate_data(self, X, reset=False, skip_check_array=True)
        else:
            input_tags = self.__sklearn_tags__().input_tags
            validate_data(
                self,
                X,
                reset=False,
                dtype=None,
                allow_nd=True,
                ensure_all_finite=not input_tags.allow_nan,
                accept_sparse=input_tags.sparse,
            )
        return X

    def fit_transform(self, X, y=None, **fit_params):
        raise TypeError(
            f"{type(self).__name__} is a sampler: it adds rows during fit, which "
            "sklearn.pipeline.Pipeline would silently drop. Use sklearn_adv.pipeline.Pipeline "
            "or sklearn_adv.pipeline.make_pipeline, or call fit_resample(X, y) directly."
        )

    def __sklearn_tags__(self):
        base = super().__sklearn_tags__()
        # imbalanced-learn's tags, which its sampler checks read, extend scikit-learn's.
        tags = Tags(
            estimator_type="sampler",
            target_tags=base.target_tags,
            # transform is the identity, so it keeps every dtype.
            transformer_tags=TransformerTags(preserves_dtype=["float64", "float32"]),
            regressor_tags=None,
            classifier_tags=None,
            sampler_tags=SamplerTags(),
        )
        tags.target_tags.required = True
        tags.input_tags = InputTags(three_d_array=True, dataframe=True)
        return tags


def stack_like_input(original, validated, new):
    """The rows a sampler was given followed by ``new``, in the container type the caller used.

    Parameters
    ----------
    original : DataFrame, Series, list, array or sparse matrix
        What the caller passed to ``fit_resample`` (``X`` or ``y``).
    validated : ndarray or sparse matrix
        The same rows after validation (images may be flat rows there).
    new : DataFrame or ndarray
        The sampler's new rows, shaped as ``validated``'s rows or as images.

    Returns
    -------
    stacked : same type as ``original``
        A list stays a list, a column vector ``(n, 1)`` stays one, a sparse
        matrix keeps its format, pandas objects get a fresh ``RangeIndex``.
    """
    if sp.issparse(validated):
        return concat_rows(validated, new)
    if isinstance(original, pd.DataFrame) and not isinstance(new, pd.DataFrame):
        new = np.asarray(new).reshape(len(new), -1)  # generated images back to the frame's flat rows
    if isinstance(original, (pd.DataFrame, pd.Series)):
        return concat_rows(original, new)
    stacked = (
        np.concatenate([np.asarray(validated).reshape((len(validated), *np.shape(new)[1:])), new])
        if len(new)
        else np.asarray(validated)
    )
    if isinstance(original, list):
        return stacked.tolist()
    if np.ndim(original) == 2 and stacked.ndim == 1 and np.shape(original)[1] == 1:
        return stacked.reshape(-1, 1)
    return stacked
