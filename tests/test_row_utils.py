import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from sklearn_adv.utils import concat_rows


def test_concat_rows_of_arrays_is_an_array_of_both():
    stacked = concat_rows(np.zeros((2, 3)), [[1.0, 1.0, 1.0]])
    assert isinstance(stacked, np.ndarray)
    np.testing.assert_array_equal(stacked, [[0, 0, 0], [0, 0, 0], [1, 1, 1]])


def test_concat_rows_puts_an_array_under_a_frame_with_its_columns_and_a_fresh_index():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}, index=[10, 11])
    stacked = concat_rows(frame, np.array([[5.0, 6.0]]))
    assert list(stacked.columns) == ["a", "b"]
    assert list(stacked.index) == [0, 1, 2]
    assert stacked.loc[2, "b"] == 6.0


def test_concat_rows_keeps_a_series_name():
    stacked = concat_rows(pd.Series([1, 2], name="y"), np.array([3]))
    assert stacked.name == "y" and stacked.tolist() == [1, 2, 3]


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_concat_rows_keeps_the_sparse_format_unless_told(fmt):
    A = sp.random(3, 4, density=0.5, format=fmt, random_state=0)
    B = sp.random(2, 4, density=0.5, format=fmt, random_state=1)
    assert concat_rows(A, B).format == fmt
    stacked = concat_rows(A, B, sparse_format="csr")
    assert stacked.format == "csr"
    np.testing.assert_array_equal(stacked.toarray(), np.vstack([A.toarray(), B.toarray()]))
