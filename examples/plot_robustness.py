"""
===========================================
Adversarial examples and robustness curves
===========================================

A digit classifier with 97% test accuracy can be fooled by changes to its
pixels too small to matter to a person. :class:`~sklearn_adv.PGDAttack`
finds such changes by following the model's gradients (projected gradient
descent); :class:`~sklearn_adv.SquareAttack` needs only the model's
probabilities, so it also attacks models without gradients, such as a random
forest. :class:`~sklearn_adv.RobustnessDisplay` draws each model's accuracy
as the attacker's budget ``eps`` (the most any pixel may move) grows.

Robust accuracy is an upper bound: an attack that fails on an image does not
prove that the image has no adversarial example.
"""

# %%
# Three models of the digits
# --------------------------
# Pixels scaled to [0, 1]; the attacks keep them there (``bounds=(0, 1)``).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from sklearn_adv import NeuralClassifier, PGDAttack, RobustnessDisplay, SquareAttack

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=300, random_state=0, stratify=y)

models = {
    "network": NeuralClassifier(max_epochs=30, random_state=0).fit(X_train, y_train),
    "logistic regression": LogisticRegression(max_iter=1000).fit(X_train, y_train),
    "random forest": RandomForestClassifier(n_estimators=30, random_state=0).fit(X_train, y_train),
}
for name, model in models.items():
    print(f"{name}: test accuracy {model.score(X_test, y_test):.3f}")

# %%
# Adversarial digits
# ------------------
# Each pixel moves by at most 0.15. The network's predictions change on most
# images, though the digits still read the same.
attack = PGDAttack(models["network"], eps=0.15, bounds=(0, 1), random_state=0).fit(X_train)
X_adv = attack.generate(X_test, y_test)
print(f"largest pixel change: {np.abs(X_adv - X_test).max():.2f}")
print(f"network accuracy on the adversarial digits: {models['network'].score(X_adv, y_test):.3f}")

predicted = models["network"].predict(X_adv)
fig, axes = plt.subplots(2, 6, figsize=(9, 3.4))
for column, i in enumerate(range(6)):
    axes[0, column].imshow(X_test[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    axes[0, column].set_title(f"{y_test[i]}", fontsize=9)
    axes[1, column].imshow(X_adv[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    axes[1, column].set_title(f"read as {predicted[i]}", fontsize=9)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_ylabel("clean")
axes[1, 0].set_ylabel("attacked")
fig.tight_layout()

# %%
# Accuracy against the budget
# ---------------------------
# PGD (20 steps) for the two models with gradients, the black-box Square
# Attack (150 queries per image) for the random forest; each model gets its
# attack object, with its own settings. At ``eps=0`` each curve starts at the
# clean accuracy. The forest's curve comes from a black-box attack with a
# small query budget, weaker than a gradient attack: a higher curve there does
# not show that the forest is more robust, only that this attack found fewer
# adversarial examples.
display = RobustnessDisplay.from_estimator(
    models,
    X_test,
    y_test,
    eps=[0, 0.05, 0.1, 0.15, 0.2],
    attack={
        "network": PGDAttack(steps=20, bounds=(0, 1), random_state=0),
        "logistic regression": PGDAttack(steps=20, bounds=(0, 1), random_state=0),
        "random forest": SquareAttack(max_queries=150, bounds=(0, 1), random_state=0),
    },
)
display.ax_.set_title("Accuracy under attack (L-infinity)")
plt.show()
