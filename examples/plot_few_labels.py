"""
==============================================================
Learning from few labels: a semi-supervised GAN on 50 digits
==============================================================

Labels are expensive, unlabelled rows cheap. Here 50 of scikit-learn's 8x8
digits carry a label (5 per digit) and the other 1,207 training images do
not. :class:`~sklearn_adv.SemiSupervisedGANClassifier` (Salimans et al.
2016) trains a GAN whose discriminator classifies the 10 digits plus a
"generated" class: telling real images from generated near-misses puts the
class boundaries where the unlabelled images are rare.

We compare it with the same network trained on the 50 labelled images alone
and with label propagation, look at what the generator draws, and see what
label smoothing does to the confidence of the predictions.
"""

# %%
# Fifty labels, the rest unlabelled
# ---------------------------------
# Unlabelled rows enter ``fit`` with the label ``-1``, scikit-learn's
# semi-supervised convention.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.semi_supervised import LabelSpreading

from sklearn_adv import NeuralClassifier, SemiSupervisedGANClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=540, stratify=y, random_state=0)
rng = np.random.RandomState(0)
labelled = np.concatenate([rng.choice(np.flatnonzero(y_train == digit), 5, replace=False) for digit in range(10)])
y_partial = np.full(len(y_train), -1)
y_partial[labelled] = y_train[labelled]
print(f"{len(labelled)} labelled rows, {np.sum(y_partial == -1)} unlabelled")

# %%
# The semi-supervised GAN against the labelled rows alone
# -------------------------------------------------------
# A budget of 40 epochs (about 520 steps) keeps the example fast; the
# default runs about 700 (see the User Guide). The labelled-only model is the
# estimator's first discriminator network, trained on the 50 labelled images.
ssgan = SemiSupervisedGANClassifier(max_epochs=40, random_state=0).fit(X_train, y_partial)
alone = NeuralClassifier(
    encoder="mlp", encoder__hidden_units=(500, 250, 250), encoder__weight_norm=True, encoder__input_noise=0.3,
    encoder__noise=0.3, random_state=0,
).fit(X_train[labelled], y_train[labelled])
spreading = LabelSpreading(kernel="knn").fit(X_train, y_partial)
for name, model in [("labelled rows alone", alone), ("LabelSpreading (knn)", spreading), ("semi-supervised GAN", ssgan)]:
    print(f"{name:<22} test accuracy {model.score(X_test, y_test):.3f}")

# %%
# What the generator draws
# ------------------------
# Trained by feature matching, the generator is a helper of the classifier:
# its images look like strokes of digits rather than clean digits, which is
# what the discriminator needs to learn where real images are not.
fig, axes = plt.subplots(3, 10, figsize=(8, 2.6))
for ax, image in zip(axes.ravel(), ssgan.sample(30, random_state=0)):
    ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")
fig.suptitle("Drawn from the generator")
plt.show()

# %%
# Label smoothing tempers the confidence
# --------------------------------------
# ``label_smoothing`` (every network classifier of the package takes it)
# trains on targets ``0.9`` for the true class and ``0.1 / 10`` for the
# others at 0.1: the top probabilities no longer pile up at 1.
smooth = SemiSupervisedGANClassifier(max_epochs=40, label_smoothing=0.1, random_state=0).fit(X_train, y_partial)
fig, ax = plt.subplots(figsize=(6, 3))
for name, model in [("no smoothing", ssgan), ("label_smoothing=0.1", smooth)]:
    confidence = model.predict_proba(X_test).max(axis=1)
    ax.hist(confidence, bins=20, range=(0, 1), histtype="step", label=f"{name} (accuracy {model.score(X_test, y_test):.3f})")
ax.set_xlabel("top predicted probability on test images")
ax.set_ylabel("images")
ax.legend(loc="upper left")
plt.show()
