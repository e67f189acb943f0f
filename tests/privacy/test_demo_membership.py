"""The membership section of the demo tour."""

import pytest


@pytest.mark.slow
def test_the_demo_section_finds_the_forest_leaking_more_than_the_logistic_regression(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from sklearn_adv.demo import SECTIONS, membership

    assert "membership" in SECTIONS
    rows = membership.run(tmp_path)
    assert (tmp_path / "membership_roc.png").exists()
    auc = {row["task"].split(",")[0]: row["ours"] for row in rows if row["metric"] == "membership ROC AUC"}
    assert auc["Adult random forest (overfit)"] > 0.7
    assert abs(auc["Adult logistic regression C=0.01"] - 0.5) < 0.08
