"""
====================================================
Synthetic census rows with a conditional tabular GAN
====================================================

:class:`~sklearn_adv.GANAugmenter` learns to generate rows of a mixed table:
numeric columns with several modes, categorical columns with rare levels,
integer columns. Here it learns 3,000 rows of UCI Adult, conditioned on the
income class, and :func:`~sklearn_adv.augmentation.quality.quality_report`
asks the questions that matter before using such rows: are they copies of
the training rows, do they cover the data's diversity, do they look real,
and does a model trained on them work on real data?

The GAN here trains for a few seconds only; the benchmark
(``benchmarks/bench_gan.py``) trains on the whole file.
"""

# %%
# Training the GAN
# ----------------
# The label is what the GAN is conditioned on; ``sample(n, y=...)`` then
# generates rows of the class asked for.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sklearn_adv import GANAugmenter
from sklearn_adv.augmentation.quality import plot_distance_to_closest_record, plot_marginals, quality_report
from sklearn_adv.datasets import load_adult

X, y = load_adult(subset="train", return_X_y=True)
X_test, y_test = load_adult(subset="test", return_X_y=True)
rows = np.random.RandomState(0).choice(len(X), 3000, replace=False)
X_train, y_train = X.iloc[rows].reset_index(drop=True), y.iloc[rows].to_numpy()
X_holdout, y_holdout = X_test.iloc[:3000].reset_index(drop=True), y_test.iloc[:3000].to_numpy()

gan = GANAugmenter(max_epochs=40, batch_size=500, random_state=0)
gan.fit(X_train, y_train)
synthetic, y_synthetic = gan.sample(3000, random_state=0)
synthetic.head()

# %%
# Same columns, dtypes and categories; integers stay integers and values
# stay in the observed range.
pd.DataFrame({"real": X_train.dtypes.astype(str), "synthetic": synthetic.dtypes.astype(str)}).head(6)

# %%
# The quality report
# ------------------
# ``reference`` is the same metric for real data: holdout rows for
# memorization, the training rows for diversity, a model trained on real
# rows for utility.
report = quality_report(
    X_train, synthetic, X_holdout, y_train=y_train, y_synthetic=y_synthetic, y_holdout=y_holdout
)
report[["section", "metric", "value", "reference"]].round(3)

# %%
# Memorization: distance to the closest training record
# ------------------------------------------------------
# Synthetic rows that sit closer to the training rows than fresh rows do
# would be copies; here they sit further away.
plot_distance_to_closest_record(X_train, synthetic, X_holdout)
plt.tight_layout()

# %%
# Fidelity: marginals
# -------------------
plot_marginals(X_train, synthetic, columns=["age", "hours-per-week", "education", "marital-status", "race", "sex"])
plt.show()
