"""How tests/test_common.py builds a fast instance of each public estimator.

A new estimator is checked without editing test_common.py: it is found in
``sklearn_adv.__all__`` and built with its defaults, or with the entries
below when its defaults are too slow for a unit test or it needs arguments.
"""

# Constructor parameters for a fast instance (tiny networks, few epochs).
QUICK_PARAMS = {
    "MixupTransformer": {"random_state": 0},
}

# Zero-argument callables for estimators that need constructor arguments
# (for example a fitted target model).
INSTANCE_FACTORIES = {}

# scikit-learn / imbalanced-learn checks that an estimator fails on purpose, with the reason.
EXPECTED_FAILED_CHECKS = {
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
}

# Zero-argument callables returning a valid (X, y) for an estimator whose fit
# needs more than rows and binary labels (the default: 40 rows, 4 features,
# labels 0/1). The checks corrupt these data to test bad inputs.
FIT_DATA = {}

# Our own checks in test_common.py that do not apply to an estimator, with the reason.
SKIP_OWN_CHECKS = {}
