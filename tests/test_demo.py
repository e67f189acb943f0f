from importlib import import_module

import pandas as pd

from sklearn_adv.demo import SECTIONS
from sklearn_adv.demo.__main__ import _format_results


def test_every_section_of_the_tour_has_a_run_function():
    for name in SECTIONS:
        assert callable(import_module(f"sklearn_adv.demo.{name}").run), name


def test_results_are_grouped_by_estimator_and_task_with_every_metric():
    table = pd.DataFrame(
        [
            ("MixupTransformer", "digits", "accuracy", 0.9, 0.8, "no mixup"),
            ("MixupTransformer", "digits", "log loss", 0.3, 0.35, "no mixup"),
            ("TICKMeans", "shifted digits", "NMI", 0.7, 0.1, "KMeans"),
        ],
        columns=["estimator", "task", "metric", "ours", "baseline", "baseline_name"],
    )
    text = _format_results(table)
    assert text.count("MixupTransformer: digits") == 1 and "TICKMeans: shifted digits" in text
    assert "0.900" in text and "0.350" in text and "(KMeans)" in text
    assert text.index("log loss") < text.index("TICKMeans")


def test_the_membership_section_reports_the_whole_row_of_each_audit():
    from sklearn_adv.demo.membership import METRIC_NAMES, _audit_rows
    from sklearn_adv.privacy import membership_metrics

    row = pd.Series(membership_metrics([1, 1, 0, 0], [0.9, 0.2, 0.3, 0.1]))
    rows = _audit_rows("digits", {"rmia": row, "loss": row / 2})
    assert [r["metric"] for r in rows] == [METRIC_NAMES[key] for key in row.index]
    assert [r["ours"] for r in rows] == row.tolist() and [r["baseline"] for r in rows] == (row / 2).tolist()
