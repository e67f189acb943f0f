"""Container helpers that several families share, torch-free.

The families do not import each other, and these helpers are not about
networks, so they live here rather than in the engine (``sklearn_adv.nn``,
which imports torch): the samplers of ``augmentation``, its quality report,
and the ``privacy`` auditor all stack rows of whatever container their
caller used. Row selection needs no helper of ours: it is scikit-learn's
``sklearn.utils._safe_indexing``.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["concat_rows"]


def concat_rows(A, B, *, sparse_format=None):
    """The rows of ``A`` followed by the rows of ``B``, in ``A``'s container type.

    Parameters
    ----------
    A : DataFrame, Series, sparse matrix or array-like
        The first rows; its type is the result's type.
    B : same rows as ``A``
        The rows to append. Next to a DataFrame, an array (or list) becomes a
        DataFrame with ``A``'s columns; next to a Series, a Series with
        ``A``'s name.
    sparse_format : str or None, default=None
        The format of a sparse result; None keeps ``A``'s.

    Returns
    -------
    stacked : DataFrame, Series, sparse matrix or ndarray
        Pandas results get a fresh ``RangeIndex``; anything else that is not
        sparse becomes a numpy array.

    Examples
    --------
    >>> import numpy as np
    >>> concat_rows(np.zeros((2, 3)), np.ones((1, 3))).shape
    (3, 3)
    """
    if sp.issparse(A):
        return sp.vstack([A, B], format=sparse_format or A.format)
    if isinstance(A, pd.DataFrame):
        if not isinstance(B, pd.DataFrame):
            B = pd.DataFrame(B, columns=A.columns)
        return pd.concat([A, B], ignore_index=True)
    if isinstance(A, pd.Series):
        return pd.concat([A, pd.Series(B, name=A.name)], ignore_index=True)
    return np.concatenate([np.asarray(A), np.asarray(B)])
