"""
==========================================
Mixup and CutMix on a small set of digits
==========================================

Mixup trains a model on convex combinations of pairs of training rows and of
their labels (Zhang et al. 2018); CutMix pastes a box of one image into
another and mixes the labels by area (Yun et al. 2019). Both are meant to
regularize a model trained on few labelled examples.

Here 300 labelled digits train a logistic regression. A grid search chooses
the mixup strength ``alpha``, with ``alpha=0`` meaning "no mixup", so that the
search can also decide that mixup does not help. The last figure shows what
the classifier is trained on: mixed digits, each with its two labels and
their weights.
"""

# %%
# 300 labelled digits
# -------------------
# Pixels are divided by 16 so that they lie in [0, 1]; the rest of the digits
# is a held-out test set.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_adv import MixupTransformer
from sklearn_adv.pipeline import make_pipeline

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=300, stratify=y, random_state=0)

# %%
# Choosing alpha by cross-validation
# ----------------------------------
# :class:`~sklearn_adv.MixupTransformer` is a sampler: inside
# :func:`sklearn_adv.pipeline.make_pipeline` it adds mixed rows while the
# pipeline is fitted, and passes new data through untouched at prediction
# time. Each mixed row reaches the classifier as two rows, one per label,
# weighted by ``lam`` and ``1 - lam``; the pipeline hands these weights to
# ``LogisticRegression.fit`` as ``sample_weight``.
#
# The grid holds ``alpha=0`` (mixup off), several mixup strengths, and CutMix
# on the 8x8 images. Log loss is the refit criterion: mixup mostly improves
# how well calibrated the probabilities are.
model = make_pipeline(MixupTransformer(random_state=0), LogisticRegression(max_iter=2000))
param_grid = [
    {"mixuptransformer__alpha": [0.0, 0.1, 0.2, 0.4, 1.0]},
    {
        "mixuptransformer__method": ["cutmix"],
        "mixuptransformer__image_shape": [(8, 8)],
        "mixuptransformer__alpha": [1.0],
    },
]
search = GridSearchCV(
    model, param_grid, scoring={"log_loss": "neg_log_loss", "accuracy": "accuracy"}, refit="log_loss", cv=5
)
search.fit(X_train, y_train)

results = pd.DataFrame(search.cv_results_)
results["setting"] = [
    "off (alpha=0)"
    if params["mixuptransformer__alpha"] == 0
    else f"{params.get('mixuptransformer__method', 'mixup')} alpha={params['mixuptransformer__alpha']}"
    for params in results["params"]
]
results["cv log loss"] = -results["mean_test_log_loss"]
results["cv accuracy"] = results["mean_test_accuracy"]
print(results[["setting", "cv log loss", "cv accuracy"]].round(3).to_string(index=False))
print("best:", search.best_params_)

# %%
# Cross-validated log loss against the setting (lower is better; bars show
# the spread over the five folds).
fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.errorbar(
    results["setting"], results["cv log loss"], yerr=results["std_test_log_loss"], fmt="o", capsize=3
)
ax.set_ylabel("CV log loss")
ax.set_title("Logistic regression on 300 digits")
ax.tick_params(axis="x", labelrotation=20)
fig.tight_layout()

# %%
# On the held-out digits, the chosen setting against no mixup:
plain = LogisticRegression(max_iter=2000).fit(X_train, y_train)
for name, fitted in [("no mixup", plain), ("chosen by the search", search.best_estimator_)]:
    proba = fitted.predict_proba(X_test)
    print(
        f"{name:>22}: accuracy {accuracy_score(y_test, proba.argmax(axis=1)):.3f}, "
        f"log loss {log_loss(y_test, proba):.3f}"
    )

# %%
# What the classifier sees
# ------------------------
# ``fit_resample`` returns the 300 original digits, in order, then the mixed
# ones. A mixed digit whose two parents have different labels comes twice in
# a row, once with each label; ``sample_weight_`` holds the two weights, which
# sum to 1. (When both parents share a label it comes once, with weight 1.)
# CutMix weights are the share of the image each parent covers.


def first_mixed_pairs(X_res, y_res, weights, n_original, limit):
    """The first mixed rows with two different labels: (image, labels, weights)."""
    pairs, k = [], n_original
    while k + 1 < len(X_res) and len(pairs) < limit:
        if weights[k] < 1 and np.array_equal(X_res[k], X_res[k + 1]):
            pairs.append((X_res[k], y_res[k : k + 2], weights[k : k + 2]))
            k += 2
        else:
            k += 1
    return pairs


fig, axes = plt.subplots(2, 6, figsize=(9, 3.6))
for axes_row, method in zip(axes, ["mixup", "cutmix"]):
    sampler = MixupTransformer(alpha=1.0, method=method, image_shape=(8, 8), random_state=0)
    X_res, y_res = sampler.fit_resample(X_train, y_train)
    pairs = first_mixed_pairs(X_res, y_res, sampler.sample_weight_, len(X_train), len(axes_row))
    for ax, (image, labels, weights) in zip(axes_row, pairs):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{weights[0]:.2f}·{labels[0]} + {weights[1]:.2f}·{labels[1]}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes_row[0].set_ylabel(method)
fig.suptitle("Mixed digits with their two labels and weights (alpha=1)")
fig.tight_layout()
plt.show()

# %%
# Mixup does not always help. On these digits it improves the log loss of a
# logistic regression but not its accuracy, and CutMix, whose boxes cut
# through the strokes of 8x8 digits, makes both worse; on one-hot encoded
# census rows (UCI Adult) mixup makes both worse. Keep ``alpha=0`` in the
# grid and let cross-validation decide. See the user guide's mixup page for
# the benchmark figures.
