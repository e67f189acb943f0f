"""How tests/test_common.py builds a fast instance of each public estimator.

A new estimator is checked without editing test_common.py: it is found in
``sklearn_adv.__all__`` and built with its defaults, or with the entries
below when its defaults are too slow for a unit test or it needs arguments.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_array

# Constructor parameters for a fast instance (tiny networks, few epochs).
QUICK_PARAMS = {
    "MixupTransformer": {"random_state": 0},
    "GANAugmenter": {
        "max_epochs": 1,
        "batch_size": 256,
        "noise_dim": 4,
        "pac": 2,
        "numeric": "standard",  # mode-specific mixtures are tested in tests/augmentation/test_gan.py
        "random_state": 0,
    },
    "DomainAdversarialClassifier": {
        "max_epochs": 3,
        "batch_size": 16,
        "on_missing_target": "warn",  # scikit-learn's checks pass no y == -1 rows
        "random_state": 0,
    },
    "NeuralClassifier": {"max_epochs": 3, "batch_size": 16, "random_state": 0},
    "AdversarialTrainingClassifier": {"max_epochs": 3, "batch_size": 16, "random_state": 0},
    "TICKMeans": {"n_clusters": 3, "n_init": 1, "n_swaps": 1, "max_iter": 20, "random_state": 0},
    "FairClassifier": {
        "sensitive": 0,  # column 0 of the checks' arrays is the protected attribute
        "max_epochs": 3,
        "batch_size": 16,
        "random_state": 0,
    },
    "SemiSupervisedGANClassifier": {
        "max_epochs": 4,
        "batch_size": 16,
        "noise_dim": 8,
        "random_state": 0,
    },
}


class RowMean(TransformerMixin, BaseEstimator):
    """One feature, the mean of each row: lets a fitted target read any number of features.

    A class rather than a FunctionTransformer, whose repr would hold a
    function's address and so give each test worker different test ids.
    """

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return check_array(X).mean(axis=1, keepdims=True)


def _membership_auditor():
    """MembershipAuditor over a frozen, fitted target that reads any number of features and knows labels 0-5.

    scikit-learn's checks clone the auditor (hence FrozenEstimator) and vary
    the number of features and the labels of their data.
    """
    from sklearn.frozen import FrozenEstimator
    from sklearn.naive_bayes import GaussianNB
    from sklearn.pipeline import make_pipeline

    from sklearn_adv import MembershipAuditor

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(60, 4)), np.arange(60) % 6
    target = make_pipeline(RowMean(), GaussianNB()).fit(X, y)
    return MembershipAuditor(FrozenEstimator(target), n_reference_models=2, random_state=0)


# Further configurations run through the same checks as the quick instances:
# label -> (class name, constructor parameters).
EXTRA_CONFIGURATIONS = {
    # Trained with DP-SGD; public bounds for every numeric column, as private fits need.
    "GANAugmenter-private": (
        "GANAugmenter",
        {**QUICK_PARAMS["GANAugmenter"], "pac": 1, "epsilon": 20.0, "bounds": (-10.0, 10.0)},
    ),
}

def _attack(name):
    """An attack over a frozen, fitted target that reads any number of features (labels 0/1).

    RowMean's gradients are registered with the gradient attacks' public extension point.
    """

    def factory():
        from sklearn.frozen import FrozenEstimator
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        from sklearn_adv.robustness import torch_forward

        torch_forward.register(RowMean, lambda model, X: lambda x: x.flatten(1).mean(1, keepdim=True))
        import sklearn_adv

        cls = getattr(sklearn_adv, name)
        rng = np.random.RandomState(0)
        X, y = rng.normal(size=(40, 4)), np.array([0, 1] * 20)
        target = make_pipeline(RowMean(), LogisticRegression()).fit(X, y)
        # With one feature, lbfgs leaves coef_ a view with a zero stride, which a deep copy does not keep and joblib
        # hashes: scikit-learn's check that fit leaves parameters alone would see a change that is not there.
        target[-1].coef_ = target[-1].coef_.copy()
        params = {"max_queries": 5} if name == "SquareAttack" else {"steps": 3}
        return cls(FrozenEstimator(target), eps=0.3, random_state=0, **params)

    return factory


# Settings under which an estimator trains a network, for the divergence check
# (its learning rate is then set far too large).
DIVERGENCE_PARAMS = {"TICKMeans": {"method": "deep", "max_epochs": 3}, "GANAugmenter": {"max_epochs": 5}}

# Zero-argument callables for estimators that need constructor arguments
# (for example a fitted target model).
INSTANCE_FACTORIES = {
    "MembershipAuditor": _membership_auditor,
    "PGDAttack": _attack("PGDAttack"),
    "SquareAttack": _attack("SquareAttack"),
}

# scikit-learn / imbalanced-learn checks that an estimator fails on purpose, with the reason.
EXPECTED_FAILED_CHECKS = {
    "GANAugmenter": {
        "check_do_not_raise_errors_in_init_or_set_params": (
            "the check passes the **role_params catch-all by its name; only role-prefixed keys (generator__...) are accepted"
        ),
        "check_samplers_multiclass_ova": (
            "the GAN conditions on one class label per row; one-hot (label-binarized) y is not accepted"
        ),
        **{
            check: "a sampler refuses fit_transform, so that a plain sklearn Pipeline fails loudly"
            for check in (
                "check_fit_score_takes_y",
                "check_pipeline_consistency",
                "check_transformer_data_not_an_array",
                "check_transformer_general",
                "check_transformer_preserve_dtypes",
            )
        },
    },
    "MixupTransformer": {
        "check_target_type": "mixup also mixes continuous and multi-output targets, which a class-balancing sampler rejects",
        "check_samplers_fit": "mixup adds n_samples rows; it has no per-class sampling_strategy_",
        **{
            check: "a sampler refuses fit_transform, so that a plain sklearn Pipeline fails loudly"
            for check in (
                "check_fit_score_takes_y",
                "check_pipeline_consistency",
                "check_transformer_data_not_an_array",
                "check_transformer_general",
                "check_transformer_preserve_dtypes",
            )
        },
    },
    "DomainAdversarialClassifier": {
        "check_classifiers_classes": (
            "y == -1 marks unlabelled target rows (scikit-learn's semi-supervised convention), so -1 cannot be a class"
        ),
        "check_do_not_raise_errors_in_init_or_set_params": (
            "the check passes the **role_params catch-all by its name; only role-prefixed keys (encoder__...) are accepted"
        ),
        "check_sample_weight_equivalence_on_dense_data": (
            "trained by minibatch SGD: a row of weight 2 is one row in one batch, not two rows that may fall in two batches"
        ),
    },
    "TICKMeans": {
        "check_do_not_raise_errors_in_init_or_set_params": (
            "the check passes the **role_params catch-all by its name; only role-prefixed keys (encoder__...) are accepted"
        ),
    },
    "NeuralClassifier": {
        "check_do_not_raise_errors_in_init_or_set_params": (
            "the check passes the **role_params catch-all by its name; only role-prefixed keys (encoder__...) are accepted"
        ),
        "check_sample_weight_equivalence_on_dense_data": (
            "trained by minibatch SGD: a row of weight 2 is one row in one batch, not two rows that may fall in two batches"
        ),
    },
    "SemiSupervisedGANClassifier": {
        "check_do_not_raise_errors_in_init_or_set_params": (
            "the check passes the **role_params catch-all by its name; only role-prefixed keys (generator__...) are accepted"
        ),
        "check_classifiers_classes": (
            "y == -1 marks unlabelled rows (scikit-learn's semi-supervised convention), so -1 cannot be a class"
        ),
        "check_sample_weight_equivalence_on_dense_data": (
            "trained by minibatch SGD: a row of weight 2 is one row in one batch, not two rows that may fall in two batches"
        ),
    },
    "AdversarialTrainingClassifier": {
        "check_classifiers_classes": (
            "y == -1 marks unlabelled rows (scikit-learn's semi-supervised convention, learnt from by method='vat'), "
            "so -1 cannot be a class"
        ),
        "check_do_not_raise_errors_in_init_or_set_params": (
            "the check passes the **role_params catch-all by its name; only role-prefixed keys (encoder__...) are accepted"
        ),
        "check_sample_weight_equivalence_on_dense_data": (
            "trained by minibatch SGD: a row of weight 2 is one row in one batch, not two rows that may fall in two batches"
        ),
    },
    "FairClassifier": {
        "check_do_not_raise_errors_in_init_or_set_params": (
            "the check passes the **role_params catch-all by its name; only role-prefixed keys (encoder__...) are accepted"
        ),
        "check_classifiers_train": (
            "with sensitive=0 the model sees one of the check's two blob features and is trained to hide the other, "
            "so it cannot reach 0.83 accuracy"
        ),
        "check_sample_weight_equivalence_on_dense_data": (
            "trained by minibatch SGD: a row of weight 2 is one row in one batch, not two rows that may fall in two batches"
        ),
    },
}

# Zero-argument callables returning a valid (X, y) for an estimator whose fit
# needs more than rows and binary labels (the default: 40 rows, 4 features,
# labels 0/1). The checks corrupt these data to test bad inputs.
FIT_DATA = {
    # 24 labelled source rows and 16 unlabelled (y == -1), shifted target rows.
    "DomainAdversarialClassifier": lambda: (
        np.vstack([np.random.RandomState(0).normal(size=(24, 4)), np.random.RandomState(1).normal(1.0, 1.0, size=(16, 4))]),
        np.r_[[0, 1] * 12, [-1] * 16],
    ),
    # 40 flat rows read as 1-D signals of length 12: two bump shapes, each shifted.
    "TICKMeans": lambda: (
        np.stack(
            [np.roll([0, 0, 1, 2, 1, 0, 0, 0, 0, 0, 0, 0], s) for s in range(4)] * 5
            + [np.roll([0, 0, 3, 0, 0, 3, 0, 0, 0, 0, 0, 0], s) for s in range(4)] * 5
        ).astype(float)
        + 0.05 * np.random.RandomState(0).normal(size=(40, 12)),
        np.repeat([0, 1], 20),
    ),
    # Column 0 is a binary protected attribute (sensitive=0), the label leans on it.
    "FairClassifier": lambda: (
        np.c_[np.arange(40) % 3 == 0, np.random.RandomState(0).normal(size=(40, 3))].astype(float),
        np.array([0, 1] * 20),
    ),
}

# Our own checks in test_common.py that do not apply to an estimator, with the reason.
_ATTACK_SKIPS = {
    "one_row": "an attack's fit reads the box of valid inputs, which one row defines",
    "mismatched_lengths": "an attack's fit reads X only; y is ignored, as in a transformer's fit",
}
SKIP_OWN_CHECKS = {
    "GANAugmenter": {"nan": "missing values in a table are modelled (indicator columns), not rejected"},
    "PGDAttack": _ATTACK_SKIPS,
    "SquareAttack": _ATTACK_SKIPS,
}
