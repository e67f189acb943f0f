"""
=====================================================
Income predictions that do not depend on sex (Adult)
=====================================================

A model that predicts income from census rows learns the applicant's sex even
when the ``sex`` column is removed: marital status, relationship, occupation
and hours worked are proxies for it. :class:`~sklearn_adv.FairClassifier`
trains an encoder and a label head against an adversary that tries to
recover sex from the encoder's representation, so that neither the
predictions nor the representation carry it.

This example fits it on 3,000 rows of UCI Adult, reads the fairness report,
draws the accuracy/fairness trade-off across ``adversary_weight``, picks the
weight by cross-validation with a fairness-aware scorer, and checks that a
downstream model cannot read sex from :meth:`~sklearn_adv.FairClassifier.transform`.
"""

# %%
# Data: the protected column stays in the frame
# ---------------------------------------------
# ``FairClassifier("sex")`` removes the ``sex`` column from the model's inputs
# and gives it to the adversary; it is never read at prediction time.
import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV

from sklearn_adv import FairClassifier
from sklearn_adv.datasets import load_adult
from sklearn_adv.fairness import FairnessTradeoffDisplay, fairness_report, make_tradeoff_scorer

X_all, y_all = load_adult(subset="train", return_X_y=True)
X_test, y_test = load_adult(subset="test", return_X_y=True)
rows = np.random.default_rng(0).choice(len(y_all), 3000, replace=False)
X_train, y_train = X_all.iloc[rows].reset_index(drop=True), y_all.iloc[rows].to_numpy()
y_test = y_test.to_numpy()

params = dict(max_epochs=6, batch_size=128, random_state=0)
plain = FairClassifier("sex", adversary_weight=0.0, **params).fit(X_train, y_train)
fair = FairClassifier("sex", adversary_weight=1.0, **params).fit(X_train, y_train)

# %%
# The fairness report
# -------------------
# fairlearn's summaries (demographic parity, equalized odds, equal
# opportunity), then per group: selection rate (the share predicted
# ``>50K``), true and false positive rates, accuracy, and their difference
# and ratio between the groups. The frames are the report's keys
# (``report.by_group``, ``report.summary``).
for name, model in [("plain network", plain), ("FairClassifier, weight 1", fair)]:
    report = fairness_report(y_test, model.predict(X_test), sensitive_features=X_test["sex"])
    print(name, report, sep="\n", end="\n\n")

# %%
# The trade-off across adversary weights
# --------------------------------------
# Each point is a model refitted at the weight ``w`` written beside it;
# accuracy against the demographic parity difference on the test file.
display = FairnessTradeoffDisplay.from_estimator(
    FairClassifier("sex", **params),
    X_train,
    y_train,
    X_test,
    y_test,
    adversary_weights=(0.0, 0.3, 1.0, 3.0),
)
display.ax_.set_title("FairClassifier on Adult")
plt.show()

# %%
# Choosing the weight by cross-validation
# ---------------------------------------
# ``make_tradeoff_scorer`` scores ``accuracy - penalty * demographic parity
# difference``. It reads the sensitive features through scikit-learn's
# metadata routing; the model takes them from its ``sex`` column, so it does
# not request them itself.
with sklearn.config_context(enable_metadata_routing=True):
    search = GridSearchCV(
        FairClassifier("sex", **params).set_fit_request(sensitive_features=False),
        {"adversary_weight": [0.0, 0.3, 1.0]},
        scoring=make_tradeoff_scorer(penalty=1.0),
        cv=2,
    )
    search.fit(X_train, y_train, sensitive_features=X_train["sex"])
print("chosen:", search.best_params_)

# %%
# A downstream model on the fair features
# ---------------------------------------
# A logistic regression trained to recover sex from the representation
# (``transform``) does much worse than on the encoded raw features.
is_male_train, is_male_test = X_train["sex"] == "Male", X_test["sex"] == "Male"
for name, model in [("plain network", plain), ("FairClassifier, weight 1", fair)]:
    probe = LogisticRegression(max_iter=2000).fit(model.transform(X_train), is_male_train)
    auc = roc_auc_score(is_male_test, probe.predict_proba(model.transform(X_test))[:, 1])
    print(f"{name}: ROC AUC of the probe for sex = {auc:.3f}")
