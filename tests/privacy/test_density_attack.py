"""The density attack (DOMIAS): the ratio of the synthetic density to the population density at a record."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity

from sklearn_adv import plugins
from sklearn_adv.privacy import MembershipAuditor
from sklearn_adv.privacy.attacks import DensityAttack


class Copier:
    """A generator that samples its training records themselves (complete memorisation)."""

    def __init__(self, train):
        self.train = train

    def sample(self, n, random_state=None):
        rng = np.random.RandomState(random_state)
        rows = rng.randint(len(self.train), size=n)
        return self.train.iloc[rows].reset_index(drop=True) if hasattr(self.train, "iloc") else self.train[rows]


class PopulationSampler:
    """A generator that leaks nothing: fresh records of the distribution its training records came from."""

    def __init__(self, draw):
        self.draw = draw

    def sample(self, n, random_state=None):
        return self.draw(n, np.random.RandomState(random_state))


def _gaussian_rows(n, rng):
    return rng.standard_normal((n, 4)) @ np.diag([1.0, 2.0, 0.5, 1.0])


@pytest.fixture(scope="module")
def rows():
    X = _gaussian_rows(2400, np.random.RandomState(0))
    return X[:200], X[200:400], X[400:]  # members, non-members, population


def _auc(auditor, members, nonmembers):
    scores = np.r_[auditor.score_samples(members), auditor.score_samples(nonmembers)]
    assert np.isfinite(scores).all()
    return roc_auc_score(np.r_[np.ones(len(members)), np.zeros(len(nonmembers))], scores)


def test_it_is_registered_and_reachable_by_name(rows):
    members, nonmembers, population = rows
    assert plugins.get("attack", "density") is DensityAttack
    auditor = MembershipAuditor(Copier(members), attack="density", random_state=0).fit(population)
    assert isinstance(auditor.attack_, DensityAttack)
    report = auditor.evaluate(members, None, nonmembers, None)
    assert list(report.index) == ["density"]


def test_a_generator_that_copies_its_training_records_is_exposed(rows):
    members, nonmembers, population = rows
    auditor = MembershipAuditor(Copier(members), attack="density", random_state=0).fit(population)
    assert _auc(auditor, members, nonmembers) > 0.95


def test_a_generator_of_fresh_population_records_leaks_nothing(rows):
    members, nonmembers, population = rows
    auditor = MembershipAuditor(PopulationSampler(_gaussian_rows), attack="density", random_state=0).fit(population)
    assert abs(_auc(auditor, members, nonmembers) - 0.5) < 0.08


def test_the_score_is_the_log_ratio_of_the_synthetic_to_the_population_density(rows):
    members, _, population = rows
    auditor = MembershipAuditor(Copier(members), attack="density", random_state=0).fit(population)
    attack = auditor.attack_
    projected = attack.projection_.transform(attack.encoder_.transform(members))
    expected = attack.synthetic_density_.score_samples(projected) - attack.population_density_.score_samples(projected)
    np.testing.assert_allclose(auditor.score_samples(members), expected)
    # The projection is whitened: unit variance in every kept direction, over population and synthetic records.
    assert attack.projection_.whiten and attack.projection_.n_components_ == 4


def test_scores_are_reproducible_with_random_state(rows):
    members, nonmembers, population = rows
    gan = PopulationSampler(_gaussian_rows)
    scores = []
    for global_seed in (1, 2):
        np.random.seed(global_seed)
        auditor = MembershipAuditor(gan, attack=DensityAttack(n_synthetic=500), random_state=0).fit(population)
        scores.append(auditor.score_samples(nonmembers))
    np.testing.assert_array_equal(*scores)
    other = MembershipAuditor(gan, attack=DensityAttack(n_synthetic=500), random_state=1).fit(population)
    assert not np.allclose(other.score_samples(nonmembers), scores[0])


def test_a_density_model_of_the_users_is_cloned_fitted_on_each_set_and_seeded(rows):
    members, nonmembers, population = rows
    density = GaussianMixture(n_components=3)
    attack = DensityAttack(n_synthetic=1000, density=density, random_state=0)
    first = MembershipAuditor(Copier(members), attack=attack, random_state=0).fit(population)
    assert not hasattr(density, "means_")  # the given model stays unfitted
    fitted = first.attack_
    assert fitted.synthetic_density_ is not fitted.population_density_
    assert fitted.synthetic_density_.random_state == fitted.population_density_.random_state is not None
    again = MembershipAuditor(Copier(members), attack=attack, random_state=0).fit(population)
    np.testing.assert_array_equal(first.score_samples(members), again.score_samples(members))


def test_a_grid_search_over_the_bandwidth_is_a_density_model_too(rows):
    members, nonmembers, population = rows
    density = GridSearchCV(KernelDensity(), {"bandwidth": [0.05, 0.2, 1.0]}, cv=3)
    auditor = MembershipAuditor(Copier(members), attack=DensityAttack(n_synthetic=2000, density=density), random_state=0)
    assert _auc(auditor.fit(population), members, nonmembers) > 0.95


def test_dataframes_with_categorical_and_missing_values_are_encoded():
    rng = np.random.RandomState(0)
    n = 2400
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "job": pd.Categorical(rng.choice(["a", "b", "c", "d"], n)),
            "hours": rng.normal(40, 5, n),
            "owner": pd.array(rng.rand(n) < 0.5, dtype="boolean"),
        }
    )
    frame.loc[rng.rand(n) < 0.1, "age"] = np.nan
    frame.loc[rng.rand(n) < 0.1, "owner"] = pd.NA
    members, nonmembers, population = frame.iloc[:200], frame.iloc[200:400], frame.iloc[400:]
    auditor = MembershipAuditor(Copier(members), attack="density", random_state=0).fit(population)
    # Two numbers and a few categories: Scott's bandwidth blurs neighbouring copies together (see the Notes).
    assert _auc(auditor, members, nonmembers) > 0.75
    # A bandwidth fitted by likelihood shrinks onto the copies and exposes them all.
    density = GridSearchCV(KernelDensity(), {"bandwidth": np.geomspace(0.02, 2, 13)}, cv=3)
    auditor = MembershipAuditor(Copier(members), attack=DensityAttack(n_synthetic=2000, density=density), random_state=0)
    assert _auc(auditor.fit(population), members, nonmembers) > 0.95
    fresh = PopulationSampler(lambda k, r: frame.iloc[r.randint(400, n, size=k)].reset_index(drop=True))
    auditor = MembershipAuditor(fresh, attack="density", random_state=0).fit(population)
    assert abs(_auc(auditor, members, nonmembers) - 0.5) < 0.08


@pytest.mark.parametrize("shape", [(6, 6), (1, 6, 6)], ids=["n-H-W", "n-C-H-W"])
def test_image_arrays_are_flattened_and_audited(shape):
    images = np.random.RandomState(0).uniform(0, 1, (1400, *shape))
    members, nonmembers, population = images[:200], images[200:400], images[400:]
    auditor = MembershipAuditor(Copier(members), attack=DensityAttack(n_synthetic=2000), random_state=0).fit(population)
    assert _auc(auditor, members, nonmembers) > 0.95


@pytest.mark.parametrize(
    "params, match",
    [
        ({"density": object()}, "density"),
        ({"n_components": 0}, "n_components"),
        ({"n_synthetic": 0}, "n_synthetic"),
    ],
)
def test_bad_parameters_are_refused_before_sampling(params, match, rows):
    members, _, population = rows

    class CountingCopier(Copier):
        calls = 0

        def sample(self, n, random_state=None):
            CountingCopier.calls += 1
            return super().sample(n, random_state)

    with pytest.raises((ValueError, TypeError), match=match):
        MembershipAuditor(CountingCopier(members), attack=DensityAttack(**params), random_state=0).fit(population)
    assert CountingCopier.calls == 0


def test_records_that_never_vary_are_refused_with_a_reason():
    X = np.ones((700, 3))
    with pytest.raises(ValueError, match="no variation"):
        MembershipAuditor(Copier(X[:100]), attack="density", random_state=0).fit(X[100:])


def test_a_generator_without_sample_is_refused_before_any_work():
    class NoSample:
        discriminator_ = staticmethod(lambda X: np.zeros(len(X)))

    with pytest.raises(TypeError, match="sample"):
        MembershipAuditor(NoSample(), attack="density").fit(np.zeros((20, 2)))


def test_synthetic_columns_in_another_order_are_realigned():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"age": rng.normal(40, 10, 1000), "job": rng.choice(["a", "b", "c"], 1000)})
    scores = []
    for columns in (["age", "job"], ["job", "age"]):
        generator = PopulationSampler(lambda n, r, columns=columns: frame.iloc[r.randint(1000, size=n)][columns])
        auditor = MembershipAuditor(generator, attack=DensityAttack(n_synthetic=500), random_state=0).fit(frame.iloc[200:])
        scores.append(auditor.score_samples(frame.iloc[:200]))
    np.testing.assert_allclose(scores[1], scores[0])
