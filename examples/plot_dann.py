"""
=====================================================
Domain-adversarial training on rotated digits (DANN)
=====================================================

A classifier trained on one kind of images loses accuracy on images of
another kind: here the source domain is half of scikit-learn's 8x8 digits,
with labels, and the target domain is the other half turned by 30 degrees,
without labels. DANN (Ganin et al. 2016) trains an encoder whose features
predict the digit on the source and cannot tell the two domains apart, so
that the label head carries over to the target.

We compare it with the same networks trained on the source alone, look at the
features before and after adaptation, follow the training, and choose the
adversary's weight without a single target label.
"""

# %%
# Source digits with labels, rotated target digits without
# ---------------------------------------------------------
# :func:`~sklearn_adv.datasets.make_digit_shift` splits the digits into two
# halves and rotates the second. Target rows enter ``fit`` with the label
# ``-1``, scikit-learn's marker for an unlabelled row; their true labels are
# kept aside to score the models.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV

from sklearn_adv import DomainAdversarialClassifier
from sklearn_adv.datasets import make_digit_shift
from sklearn_adv.domain import importance_weighted_accuracy, plot_domain_features, target_entropy_score

(X_source, y_source), (X_target, y_target) = make_digit_shift("rotate", angle=30, random_state=0)
X_source, X_target = X_source.reshape(len(X_source), -1), X_target.reshape(len(X_target), -1)
X = np.vstack([X_source, X_target])
y = np.r_[y_source, np.full(len(y_target), -1)]

fig, axes = plt.subplots(2, 8, figsize=(8, 2.3))
for k in range(8):
    axes[0, k].imshow(X_source[k].reshape(8, 8), cmap="gray_r")
    axes[1, k].imshow(X_target[k].reshape(8, 8), cmap="gray_r")
    axes[0, k].set_title(str(y_source[k]), fontsize=9)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_ylabel("source")
axes[1, 0].set_ylabel("target")
fig.suptitle("Labelled source digits and unlabelled rotated target digits")
plt.show()

# %%
# DANN against the same networks without adaptation
# --------------------------------------------------
# ``adversary_weight=0`` keeps the domain head but gives the encoder no
# gradient from it: a source-only model with exactly the same networks, batches
# and epochs. The default encoder for flat rows is an MLP with two hidden
# layers of 64 units; the adversary's weight follows the paper's schedule
# ``2 / (1 + exp(-10 p)) - 1`` and the learning rate is annealed as in the paper.
params = dict(max_epochs=100, batch_size=128, random_state=0)
dann = DomainAdversarialClassifier(**params).fit(X, y)
source_only = DomainAdversarialClassifier(adversary_weight=0.0, **params).fit(X, y)
print(f"target accuracy, source only: {source_only.score(X_target, y_target):.3f}")
print(f"target accuracy, DANN:        {dann.score(X_target, y_target):.3f}")
print(f"source accuracy, DANN:        {dann.score(X_source, y_source):.3f}")

# %%
# Features before and after adaptation
# ------------------------------------
# :func:`~sklearn_adv.domain.plot_domain_features` projects the inputs and the
# learned features (``transform``) to 2-D by PCA. Source rows are dots, target
# rows crosses, both coloured by their true digit. Without adaptation the
# rotated digits sit apart from the source; with DANN they fall closer to the
# source digits of their class.
y_true = np.r_[y_source, y_target]
fig, axes = plt.subplots(1, 3, figsize=(12, 4), layout="constrained")
plot_domain_features(source_only, X, y, y_true=y_true, axes=axes[:2])
plot_domain_features(dann, X, y, y_true=y_true, inputs=False, axes=axes[2:])
axes[1].set_title("features, source only")
axes[2].set_title("features, DANN")
plt.show()

# %%
# Training curves
# ---------------
# ``history_`` records, per epoch, the label loss on source rows, the domain
# head's loss and its accuracy at telling source from target. Without
# adaptation the domain head soon tells the domains apart almost perfectly;
# with DANN it stays far lower, swinging up and down as the encoder and the
# domain head play against each other, while the label loss stays close.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
for model, name in [(source_only, "source only"), (dann, "DANN")]:
    axes[0].plot(model.history_[:, "main_loss"], label=name)
    axes[1].plot(model.history_[:, "adversary_accuracy"], label=name)
axes[0].set(title="label loss (source)", xlabel="epoch")
axes[1].set(title="domain head accuracy", xlabel="epoch", ylim=(0.4, 1.0))
axes[1].legend()
plt.show()

# %%
# Choosing the adversary's weight without target labels
# -----------------------------------------------------
# ``GridSearchCV`` works unchanged: each validation fold holds source rows and
# unlabelled target rows. Its default score, the estimator's ``score``, is the
# accuracy on the labelled rows only (the string ``"accuracy"`` would count
# every ``-1`` row as an error): it measures the source and cannot see the
# target. The
# label-free scorers of :mod:`sklearn_adv.domain` read the target rows:
# :func:`~sklearn_adv.domain.target_entropy_score` prefers models that are
# confident on the target, :func:`~sklearn_adv.domain.importance_weighted_accuracy`
# weights source rows by how target-like they are. The last column, the true
# target accuracy, is shown for reference only: it needs the hidden labels.
scoring = {
    "source accuracy": lambda model, X_fold, y_fold: model.score(X_fold, y_fold),
    "target entropy": target_entropy_score,
    "importance weighted": importance_weighted_accuracy,
    "true target accuracy": lambda model, X_fold, y_fold: model.score(X_target, y_target),
}
search = GridSearchCV(
    DomainAdversarialClassifier(max_epochs=100, batch_size=128, random_state=0),
    {"adversary_weight": [0.0, 0.3, 1.0]},
    scoring=scoring,
    refit=False,
    cv=2,
).fit(X, y)
results = pd.DataFrame(search.cv_results_)
columns = ["param_adversary_weight"] + [f"mean_test_{name}" for name in scoring]
print(results[columns].round(3).to_string(index=False))
for name in ["source accuracy", "target entropy", "importance weighted"]:
    best = results.loc[results[f"mean_test_{name}"].idxmax()]
    print(f"{name} picks adversary_weight={best['param_adversary_weight']}: "
          f"true target accuracy {best['mean_test_true target accuracy']:.3f}")

# %%
# Target entropy picks a weight that adapts, as the true target accuracy
# would. Importance-weighted validation separates the candidates by less than
# its noise when the domains barely overlap, as rotated images do; source
# accuracy cannot tell them apart at all. None of these is a guarantee: check
# the candidates that a label-free score prefers on a few labelled target
# rows when you can.
