import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from sklearn_adv.metrics import distance_to_closest_record, real_vs_synthetic, synthetic_detector


def test_distance_to_closest_record_is_the_nearest_euclidean_distance():
    reference = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(distance_to_closest_record(reference, [[3.0, 0.0], [3.0, 5.0]]), [3.0, 1.0])


def test_distance_to_closest_record_can_skip_each_row_itself():
    rows = np.array([[0.0], [1.0], [5.0]])
    np.testing.assert_allclose(distance_to_closest_record(rows, rows, exclude_self=True), [1.0, 1.0, 4.0])


def test_real_vs_synthetic_labels_real_rows_0_then_synthetic_rows_1():
    X, y = real_vs_synthetic(np.zeros((3, 2)), np.ones((2, 2)))
    assert X.shape == (5, 2)
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1])


def test_synthetic_detector_clones_a_given_classifier_or_defaults_to_gradient_boosting():
    given = LogisticRegression(C=0.5)
    detector = synthetic_detector(given)
    assert detector is not given and detector.get_params() == given.get_params()
    default = synthetic_detector(random_state=3)
    assert isinstance(default, HistGradientBoostingClassifier) and default.random_state == 3
