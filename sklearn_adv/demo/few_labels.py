"""Few labels in the tour: the semi-supervised GAN against the same network trained on the labelled rows alone.

On ``load_digits`` with 50 labelled training images (5 per digit) and the
other 1,207 training images unlabelled, the unlabelled rows lift the
network's test accuracy well above the labelled rows alone. Label
propagation (scikit-learn's ``LabelSpreading``), strong on this small image
set, is shown beside it. The figure shows images drawn from the generator.
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.semi_supervised import LabelSpreading

from sklearn_adv import NeuralClassifier, SemiSupervisedGANClassifier

BASELINE = "the same network, 50 labelled rows alone"


def run(out_dir):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=540, stratify=y, random_state=0)
    rng = np.random.RandomState(0)
    labelled = np.concatenate([rng.choice(np.flatnonzero(y_train == c), 5, replace=False) for c in range(10)])
    y_partial = np.full(len(y_train), -1)
    y_partial[labelled] = y_train[labelled]

    ssgan = SemiSupervisedGANClassifier(random_state=0).fit(X_train, y_partial)
    network = dict(encoder="mlp", encoder__hidden_units=(500, 250, 250), encoder__weight_norm=True,
                   encoder__input_noise=0.3, encoder__noise=0.3)
    alone = NeuralClassifier(random_state=0, **network).fit(X_train[labelled], y_train[labelled])
    spreading = LabelSpreading(kernel="knn").fit(X_train, y_partial)
    _plot(out_dir / "few_labels_samples.png", ssgan.sample(40, random_state=0))
    row = dict(estimator="SemiSupervisedGANClassifier", task="digits, 50 labels", metric="test accuracy")
    return [
        {**row, "ours": ssgan.score(X_test, y_test), "baseline": alone.score(X_test, y_test), "baseline_name": BASELINE},
        {**row, "ours": ssgan.score(X_test, y_test), "baseline": spreading.score(X_test, y_test),
         "baseline_name": "LabelSpreading (knn)"},
    ]


def _plot(path, images):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(4, 10, figsize=(8, 3.4), layout="constrained")
    for ax, image in zip(axes.ravel(), images):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.axis("off")
    fig.suptitle("Images drawn from the semi-supervised GAN's generator (feature matching)")
    fig.savefig(path, dpi=100)
    plt.close(fig)
