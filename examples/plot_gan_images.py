"""
=========================================
Conditional GAN digits, and are they new?
=========================================

For images, :class:`~sklearn_adv.GANAugmenter` builds a small conditional
DCGAN: the generator upsamples noise and a class one-hot into an image, the
discriminator judges realness and, as in AC-GAN, predicts the class. Here it
learns the 8x8 scikit-learn digits; we ask for ten of each digit, put each
synthetic digit next to its nearest training digits to see whether it is a
copy, and read the quality report.
"""

# %%
# Training
# --------
# Images come in as ``(n, 8, 8)`` with values 0-16 and come back the same.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_adv import GANAugmenter
from sklearn_adv.augmentation.quality import plot_image_neighbours, quality_report

X, y = load_digits(return_X_y=True)
images = X.reshape(-1, 8, 8)
X_train, X_test, y_train, y_test = train_test_split(images, y, test_size=0.3, stratify=y, random_state=0)

gan = GANAugmenter(max_epochs=20, batch_size=64, random_state=0)
gan.fit(X_train, y_train)

# %%
# Ten samples of each class
# -------------------------
fig, axes = plt.subplots(10, 10, figsize=(5, 5))
for digit in range(10):
    samples, _ = gan.sample(10, y=digit, random_state=digit)
    for k in range(10):
        axes[digit, k].imshow(samples[k], cmap="gray_r", vmin=0, vmax=16)
        axes[digit, k].axis("off")
fig.suptitle("One row per digit asked for")

# %%
# Synthetic digits next to their nearest training digits
# -------------------------------------------------------
# A memorising generator would show the same image in every column.
samples, labels = gan.sample(10, y=np.arange(10), random_state=0)
plot_image_neighbours(X_train, samples, n_images=10)

# %%
# Quality report, and a classifier trained on synthetic digits only
# -----------------------------------------------------------------
synthetic, y_synthetic = gan.sample(len(X_train), y=y_train, random_state=1)
report = quality_report(
    X_train, synthetic, X_test, y_train=y_train, y_synthetic=y_synthetic, y_holdout=y_test,
    estimator=make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)),
)
print(report[["section", "metric", "value", "reference"]].round(3).to_string())
plt.show()

# %%
# After a few seconds of training on a CPU the digits are new (no copies,
# synthetic digits further from the training digits than test digits are)
# but far from real: a detector tells them apart, and a classifier trained on
# them only is much worse than one trained on the real digits. Adding them to
# the real digits does not help either; the benchmark shows the same with
# longer training.
