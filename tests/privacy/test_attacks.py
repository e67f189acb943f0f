"""Behaviour of the membership-inference attacks and their helpers."""

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from sklearn_adv import plugins
from sklearn_adv.privacy import MembershipAuditor
from sklearn_adv.privacy._reference import fit_reference_models, paired_half_masks
from sklearn_adv.privacy.attacks import MembershipAttack, _rmia_score, class_proba, true_class_logit

CLASSIFIER_ATTACKS = ["confidence", "loss", "shadow", "lira", "lira_online", "rmia"]


@pytest.fixture(scope="module")
def overfit_split():
    X, y = make_classification(n_samples=1500, n_features=8, n_informative=5, flip_y=0.2, random_state=0)
    target = RandomForestClassifier(n_estimators=25, random_state=0).fit(X[:300], y[:300])
    return target, (X[:300], y[:300]), (X[300:600], y[300:600]), (X[600:], y[600:])


def _auc(auditor, members, nonmembers):
    return auditor.evaluate(*members, *nonmembers)["roc_auc"].iloc[0]


@pytest.mark.parametrize("attack", CLASSIFIER_ATTACKS)
def test_every_classifier_attack_exposes_an_overfit_forest(attack, overfit_split):
    target, members, nonmembers, population = overfit_split
    auditor = MembershipAuditor(target, attack=attack, n_reference_models=4, random_state=0).fit(*population)
    assert _auc(auditor, members, nonmembers) > 0.6


def test_rmia_beats_the_loss_attack_on_an_overfit_forest(overfit_split):
    target, members, nonmembers, population = overfit_split
    rmia = MembershipAuditor(target, attack="rmia", n_reference_models=4, random_state=0).fit(*population)
    loss = MembershipAuditor(target, attack="loss", random_state=0).fit(*population)
    assert _auc(rmia, members, nonmembers) > _auc(loss, members, nonmembers) + 0.03


def test_attack_objects_and_their_parameters_are_accepted(overfit_split):
    from sklearn_adv.privacy.attacks import RMIAAttack

    target, members, nonmembers, population = overfit_split
    auditor = MembershipAuditor(target, attack=RMIAAttack(offline_a=0.5, gamma=2.0), random_state=0)
    auditor.set_params(attack__gamma=1.5).fit(*population)
    assert auditor.attack_.gamma == 1.5 and auditor.attack_.offline_a_ == 0.5
    assert auditor.attack.get_params()["gamma"] == 1.5  # the parameter object itself is cloned, not fitted


def test_a_third_party_attack_is_one_class_and_a_registration(overfit_split):
    target, members, nonmembers, population = overfit_split

    @plugins.register("attack", "entropy_test")
    class EntropyAttack(MembershipAttack):
        needs_proba = True

        def fit(self, context):
            self.target_, self.classes_ = context.target, context.classes
            return self

        def score(self, X, y):
            proba = class_proba(self.target_, X, self.classes_)
            return (proba * np.log(np.clip(proba, 1e-12, 1))).sum(axis=1)

    try:
        auditor = MembershipAuditor(target, attack="entropy_test", random_state=0).fit(*population)
        report = auditor.evaluate(*members, *nonmembers)
        assert report.index[0] == "entropy_test" and report["roc_auc"].iloc[0] > 0.55
    finally:
        plugins.unregister("attack", "entropy_test")


def test_class_proba_gives_zero_to_classes_a_reference_model_never_saw():
    X = np.arange(12, dtype=float).reshape(-1, 1)
    model = LogisticRegression().fit(X[:8], np.r_[np.zeros(4), np.full(4, 2)])
    proba = class_proba(model, X, classes=np.array([0.0, 1.0, 2.0]))
    assert proba.shape == (12, 3)
    np.testing.assert_array_equal(proba[:, 1], 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1)


def test_true_class_logit_uses_the_signed_margin_without_predict_proba():
    X, y = make_classification(n_samples=80, n_features=4, random_state=0)
    model = LinearSVC().fit(X, y)
    margin = model.decision_function(X)
    np.testing.assert_allclose(true_class_logit(model, X, y, model.classes_), np.where(y == 1, margin, -margin))


def test_true_class_logit_is_the_logit_of_the_true_class_probability():
    X, y = make_classification(n_samples=80, n_features=4, random_state=0)
    model = LogisticRegression().fit(X, y)
    p = model.predict_proba(X)[np.arange(80), y]
    np.testing.assert_allclose(true_class_logit(model, X, y, model.classes_), np.log(p / (1 - p)), rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    labels=st.lists(st.integers(0, 3), min_size=4, max_size=60),
    n_pairs=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
def test_paired_masks_put_every_record_in_exactly_half_of_the_models(labels, n_pairs, seed):
    y = np.asarray(labels)
    masks = paired_half_masks(y, 2 * n_pairs, seed)
    np.testing.assert_array_equal(masks.sum(axis=0), n_pairs)
    for label in np.unique(y):
        per_class = masks[:, y == label].sum(axis=1)
        assert np.all(np.abs(per_class - (y == label).sum() / 2) <= 0.5)


@settings(max_examples=50, deadline=None)
@given(
    population=st.lists(st.floats(-20, 20), min_size=1, max_size=50),
    ratios=st.lists(st.floats(-30, 30), min_size=2, max_size=20),
)
def test_rmia_score_is_a_fraction_that_grows_with_the_likelihood_ratio(population, ratios):
    ratios = np.sort(np.asarray(ratios))
    scores = _rmia_score(ratios, np.sort(population), gamma=1.0)
    assert np.all(scores >= 0) and np.all(scores <= 1 + 1e-9)
    assert np.all(np.diff(scores) >= 0)


def test_reference_models_get_distinct_seeds_and_train_on_their_masks():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    masks = paired_half_masks(y, 4, 0)
    template = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0))
    models = fit_reference_models(template, X, y, masks, random_state=1)
    assert len({m[-1].random_state for m in models}) == 4
    assert [m[0].n_samples_seen_ for m in models] == list(masks.sum(axis=1))


# --------------------------------------------------------------------------
# Generator attacks, against a stand-in GAN that memorises its training rows
# --------------------------------------------------------------------------


class MemorisingGAN:
    """Duck-typed GAN: samples are noisy copies of training rows; the discriminator remembers them."""

    def __init__(self, X_train, noise=0.05, seed=0):
        self.X_train = np.asarray(X_train)
        self.rng = np.random.RandomState(seed)
        self.noise = noise

    def sample(self, n):
        rows = self.X_train[self.rng.randint(len(self.X_train), size=n)]
        return rows + self.noise * self.rng.standard_normal(rows.shape), np.zeros(n)

    def discriminator_(self, X):
        distances = np.linalg.norm(np.asarray(X)[:, None, :] - self.X_train[None, :, :], axis=2)
        return -distances.min(axis=1)


@pytest.fixture(scope="module")
def gan_split():
    X = np.random.RandomState(0).standard_normal((600, 4))
    return MemorisingGAN(X[:200]), X[:200], X[200:400], X[400:]


@pytest.mark.parametrize("attack, min_auc", [("distance", 0.95), ("discriminator", 0.95), ("detector", 0.6)])
def test_generator_attacks_expose_a_memorising_generator(attack, min_auc, gan_split):
    gan, members, nonmembers, population = gan_split
    auditor = MembershipAuditor(gan, attack=attack, random_state=0).fit(population)
    assert auditor.evaluate(members, None, nonmembers, None)["roc_auc"].iloc[0] > min_auc


def test_generator_attacks_take_dataframes_with_categorical_columns():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"age": rng.normal(40, 10, 400), "job": rng.choice(["a", "b", "c"], 400)})

    class FrameGAN:
        def sample(self, n):
            return frame.iloc[:100].sample(n=n, replace=True, random_state=0).reset_index(drop=True)

    auditor = MembershipAuditor(FrameGAN(), attack="distance", random_state=0).fit(frame.iloc[200:])
    scores = auditor.score_samples(frame.iloc[:200])
    assert roc_auc_score(np.r_[np.ones(100), np.zeros(100)], scores) > 0.9


@pytest.mark.parametrize("attack", ["distance", "detector"])
def test_generator_samples_with_columns_in_another_order_are_realigned(attack):
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"age": rng.normal(40, 10, 400), "job": rng.choice(["a", "b", "c"], 400)})

    class ReorderingGAN:
        def __init__(self, columns):
            self.columns = columns

        def sample(self, n):
            return frame.iloc[:100].sample(n=n, replace=True, random_state=0).reset_index(drop=True)[self.columns]

    scores = [
        MembershipAuditor(ReorderingGAN(columns), attack=attack, random_state=0)
        .fit(frame.iloc[200:])
        .score_samples(frame.iloc[:200])
        for columns in (["age", "job"], ["job", "age"])
    ]
    np.testing.assert_allclose(scores[1], scores[0])
    with pytest.raises(ValueError, match="same columns"):
        MembershipAuditor(ReorderingGAN(["age"]), attack=attack, random_state=0).fit(frame.iloc[200:])


def test_a_generator_without_sample_is_rejected_before_any_training():
    class NoSample:
        discriminator_ = staticmethod(lambda X: np.zeros(len(X)))

    X = np.zeros((20, 2))
    with pytest.raises(TypeError, match="sample"):
        MembershipAuditor(NoSample(), attack="distance").fit(X)
    MembershipAuditor(NoSample(), attack="discriminator").fit(X)  # the discriminator is all it needs


def test_a_bare_torch_module_as_discriminator_is_rejected_with_advice():
    class ModuleGAN:
        discriminator_ = torch.nn.Linear(2, 1)

    with pytest.raises(TypeError, match="function from records"):
        MembershipAuditor(ModuleGAN(), attack="discriminator").fit(np.zeros((20, 2)))


def test_the_discriminator_attack_scores_are_the_gans_own_and_may_be_tensors(gan_split):
    gan, members, nonmembers, population = gan_split

    class TensorGAN:
        def discriminator_(self, X):  # several columns: the realness first
            realness = torch.as_tensor(gan.discriminator_(X))
            return torch.stack([realness, torch.zeros_like(realness)], dim=1)

    auditor = MembershipAuditor(TensorGAN(), attack="discriminator", random_state=0).fit(population)
    np.testing.assert_allclose(auditor.score_samples(members), gan.discriminator_(members))


def _member_auc(auditor, members, nonmembers):
    scores = np.r_[auditor.score_samples(members), auditor.score_samples(nonmembers)]
    assert np.isfinite(scores).all()
    return roc_auc_score(np.r_[np.ones(len(members)), np.zeros(len(nonmembers))], scores)


@pytest.mark.parametrize("attack, min_auc", [("distance", 0.95), ("detector", 0.6)])
def test_sampling_attacks_take_arrays_with_missing_values(attack, min_auc):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((600, 4))
    X[rng.rand(*X.shape) < 0.1] = np.nan
    gan = MemorisingGAN(X[:200])  # its samples keep the NaN of the rows they copy
    auditor = MembershipAuditor(gan, attack=attack, random_state=0).fit(X[400:])
    assert _member_auc(auditor, X[:200], X[200:400]) > min_auc


@pytest.fixture(scope="module")
def frame_with_missing_values():
    rng = np.random.RandomState(0)
    n = 600
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "job": pd.array(rng.choice(["a", "b", "c"], n), dtype="string"),
            "hours": rng.normal(40, 5, n),
            "owner": pd.array(rng.rand(n) < 0.5, dtype="boolean"),
        }
    )
    frame.loc[rng.rand(n) < 0.1, "job"] = pd.NA
    frame.loc[rng.rand(n) < 0.1, "age"] = np.nan
    # "hours" misses values among the training rows only: in synthetic and member rows, never in the population.
    frame.loc[np.flatnonzero(rng.rand(200) < 0.2), "hours"] = np.nan
    frame.loc[rng.rand(n) < 0.1, "owner"] = pd.NA
    return frame.iloc[:200], frame.iloc[200:400].reset_index(drop=True), frame.iloc[400:].reset_index(drop=True)


class FrameGAN:
    """Samples are copies of training rows of a DataFrame, missing values included."""

    def __init__(self, train):
        self.train = train

    def sample(self, n, random_state=None):
        return self.train.sample(n=n, replace=True, random_state=random_state).reset_index(drop=True)


@pytest.mark.parametrize("attack, min_auc", [("distance", 0.95), ("detector", 0.6)])
def test_sampling_attacks_take_frames_with_missing_values_of_every_kind(attack, min_auc, frame_with_missing_values):
    members, nonmembers, population = frame_with_missing_values
    auditor = MembershipAuditor(FrameGAN(members), attack=attack, random_state=0).fit(population)
    assert _member_auc(auditor, members, nonmembers) > min_auc
    nonmembers = nonmembers.copy()
    nonmembers["job"] = pd.array([pd.NA] * len(nonmembers), dtype="string")  # missing everywhere: still encoded
    assert np.isfinite(auditor.score_samples(nonmembers)).all()


class ImageGAN:
    """Duck-typed image GAN: samples are noisy copies of training images; the discriminator remembers them."""

    def __init__(self, images, seed=0):
        self.images = np.asarray(images)
        self.rng = np.random.RandomState(seed)

    def sample(self, n):
        rows = self.images[self.rng.randint(len(self.images), size=n)]
        return rows + 0.05 * self.rng.standard_normal(rows.shape)

    def discriminator_(self, X):
        X = np.asarray(X)
        assert X.shape[1:] == self.images.shape[1:]  # the images as given
        flat, train = X.reshape(len(X), -1), self.images.reshape(len(self.images), -1)
        return -np.linalg.norm(flat[:, None, :] - train[None, :, :], axis=2).min(axis=1)


@pytest.mark.parametrize("shape", [(6, 6), (1, 6, 6)], ids=["n-H-W", "n-C-H-W"])
@pytest.mark.parametrize("attack, min_auc", [("distance", 0.95), ("discriminator", 0.95), ("detector", 0.6)])
def test_generator_attacks_take_image_arrays(attack, min_auc, shape):
    images = np.random.RandomState(0).uniform(0, 1, (600, *shape))
    auditor = MembershipAuditor(ImageGAN(images[:200]), attack=attack, random_state=0).fit(images[400:])
    assert _member_auc(auditor, images[:200], images[200:400]) > min_auc


def test_online_lira_gives_the_same_records_the_same_scores_at_every_call(overfit_split):
    target, members, nonmembers, population = overfit_split
    auditor = MembershipAuditor(target, attack="lira_online", n_reference_models=2, random_state=0)
    auditor.fit(*population)
    first = auditor.score_samples(*members)
    np.testing.assert_array_equal(auditor.score_samples(*members), first)
    np.testing.assert_array_equal(auditor.predict(*members), (first > auditor.threshold_).astype(int))


class SeededGAN(MemorisingGAN):
    """Samples from the global numpy generator unless given a random_state, as GANAugmenter does."""

    def sample(self, n, random_state=None):
        rng = np.random.mtrand._rand if random_state is None else np.random.RandomState(random_state)
        rows = self.X_train[rng.randint(len(self.X_train), size=n)]
        return rows + self.noise * rng.standard_normal(rows.shape)


@pytest.mark.parametrize("attack", ["distance", "detector"])
def test_sampling_attacks_seed_the_generator_from_the_auditors_random_state(attack, gan_split):
    _, members, _, population = gan_split
    gan = SeededGAN(members)
    scores = []
    for global_seed in (1, 2):
        np.random.seed(global_seed)
        auditor = MembershipAuditor(gan, attack=plugins.get("attack", attack)(n_synthetic=300), random_state=0)
        scores.append(auditor.fit(population).score_samples(members))
    np.testing.assert_array_equal(*scores)


@pytest.mark.slow
def test_a_gan_augmenter_with_missing_values_is_audited_by_the_three_generator_attacks():
    from sklearn_adv.augmentation import GANAugmenter

    rng = np.random.RandomState(0)
    n = 300
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "job": pd.array(rng.choice(["a", "b", "c"], n), dtype="string"),
            "hours": pd.array(rng.randint(20, 60, n), dtype="Int64"),
        }
    )
    frame.loc[rng.rand(n) < 0.15, "age"] = np.nan
    frame.loc[rng.rand(n) < 0.15, "job"] = pd.NA
    gan = GANAugmenter(max_epochs=2, batch_size=50, random_state=0).fit(frame.iloc[:100])
    synthetic = gan.sample(100, random_state=123)  # a fresh draw, with missing values of both kinds
    assert synthetic["age"].isna().any() and synthetic["job"].isna().any()
    records = pd.concat([synthetic, frame.iloc[100:200]], ignore_index=True)
    is_synthetic = np.r_[np.ones(100), np.zeros(100)]
    for attack in ["discriminator", "detector", "distance"]:
        auditor = MembershipAuditor(gan, attack=attack, random_state=0).fit(frame.iloc[200:])
        scores = auditor.score_samples(records)
        assert np.isfinite(scores).all()
        if attack == "discriminator":  # the GAN's own discriminator, on the records as given
            np.testing.assert_allclose(scores, gan.discriminator_(records))
        else:  # a 2-epoch GAN's rows are unlike real ones: both attacks single out its own output
            assert roc_auc_score(is_synthetic, scores) > 0.65
