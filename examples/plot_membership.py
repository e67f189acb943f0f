"""
=====================================================
Auditing an overfit and a regularised model for leaks
=====================================================

A model that is far more confident on the records it was trained on tells an
attacker who was in its training set. :class:`~sklearn_adv.MembershipAuditor`
measures that leak with the attacks of the literature: the loss threshold
(Yeom et al. 2018), the likelihood-ratio attack LiRA (Carlini et al. 2022) and
RMIA (Zarifzadeh et al. 2024), which compare the target with reference models
trained on population data the target never saw.

Here two models are trained on the same 1,500 census records of UCI Adult: a
fully grown random forest, which memorises its training set, and a
regularised logistic regression. Both are audited on their training records
(members) and on 1,500 records they never saw (non-members). What matters is
the true-positive rate at a *low* false-positive rate: an attack that names a
few members with near certainty is a real breach even when its ROC AUC looks
modest, which is why the curves are drawn on log-log axes.
"""

# %%
# Members, non-members and population
# -----------------------------------
# Three disjoint sets of complete Adult rows: the targets' training records,
# records they never saw, and a population sample from the same distribution
# for the auditor's reference models and threshold.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_adv import MembershipAuditor
from sklearn_adv.datasets import load_adult
from sklearn_adv.privacy import plot_membership_roc

X, y = load_adult(return_X_y=True)
complete = np.flatnonzero(X.notna().all(axis=1).to_numpy())
rows = np.random.RandomState(0).choice(complete, 4500, replace=False)
X, y = X.iloc[rows].reset_index(drop=True), y.iloc[rows].reset_index(drop=True)
members, nonmembers, population = (slice(0, 1500), slice(1500, 3000), slice(3000, 4500))


def encode():
    return make_column_transformer(
        (StandardScaler(), make_column_selector(dtype_include="number")),
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    )


targets = {
    "random forest (overfit)": make_pipeline(encode(), RandomForestClassifier(n_estimators=100, random_state=0)),
    "logistic regression, C=0.01": make_pipeline(encode(), LogisticRegression(C=0.01, max_iter=1000)),
}
for name, target in targets.items():
    target.fit(X[members], y[members])
    print(f"{name}: train accuracy {target.score(X[members], y[members]):.3f}, "
          f"test accuracy {target.score(X[nonmembers], y[nonmembers]):.3f}")

# %%
# Three attacks on each target
# ----------------------------
# The auditor takes the fitted target as it is (here a pipeline that reads the
# DataFrame), trains its reference models on halves of the population, and
# sets the threshold of ``predict`` at 1% false positives on held-out
# population records. ``evaluate`` reports the metrics of the literature.
reports, curves = [], {}
for name, target in targets.items():
    for attack in ["loss", "lira", "rmia"]:
        auditor = MembershipAuditor(target, attack=attack, n_reference_models=4, fpr=0.01, random_state=0)
        auditor.fit(X[population], y[population])
        report = auditor.evaluate(X[members], y[members], X[nonmembers], y[nonmembers])
        reports.append(report.assign(target=name).set_index("target", append=True))
        is_member = np.r_[np.ones(1500), np.zeros(1500)]
        scores = auditor.score_samples(pd.concat([X[members], X[nonmembers]]), np.r_[y[members], y[nonmembers]])
        curves[name, attack] = (is_member, scores)

table = pd.concat(reports).reorder_levels(["target", "attack"])
print(table[["roc_auc", "tpr_at_1%_fpr", "tpr_at_0.1%_fpr", "advantage"]].round(3).to_string())

# %%
# ROC curves on log-log axes
# --------------------------
# The dashed diagonal is guessing. The forest's curves rise far above it at
# the left, where a false positive is rare: RMIA names members of the
# forest's training set at a rate many times its false-positive rate. The
# regularised model's curves stay close to the diagonal, with an AUC near 0.5
# and no true positives to speak of at low false-positive rates: the audit
# finds little to fear.
fig, axes = plt.subplots(1, 2, figsize=(9, 4.5), sharey=True)
for ax, name in zip(axes, targets):
    for attack in ["loss", "lira", "rmia"]:
        plot_membership_roc(*curves[name, attack], ax=ax, label=attack)
    ax.set_title(name)
fig.tight_layout()
plt.show()

# %%
# Flagging members at a chosen false-positive rate
# ------------------------------------------------
# ``predict`` says "member" above the threshold that held 1% false positives
# on population records; on the overfit forest it flags many more members
# than non-members.
auditor = MembershipAuditor(targets["random forest (overfit)"], attack="rmia", n_reference_models=4, random_state=0)
auditor.fit(X[population], y[population])
flagged_members = auditor.predict(X[members], y[members]).mean()
flagged_nonmembers = auditor.predict(X[nonmembers], y[nonmembers]).mean()
print(f"flagged as members: {flagged_members:.1%} of members, {flagged_nonmembers:.1%} of non-members")
