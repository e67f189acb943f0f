"""GANAugmenter with differential privacy: the budget, the sampling, the refusals, the private preprocessing."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits

from sklearn_adv import GANAugmenter
from sklearn_adv.augmentation import _private
from sklearn_adv.nn.gan import _PoissonBatches
from sklearn_adv.nn.privacy import RDPAccountant

TINY = {"generator__hidden_units": (16,), "discriminator__hidden_units": (16,), "noise_dim": 8}


def _table(n=400, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame({
        "age": rng.randint(18, 80, n),
        "score": rng.normal(size=n),
        "job": pd.Categorical(rng.choice(["a", "b", "c"], n), categories=["a", "b", "c", "d"]),
    })
    y = (X["age"] > 50).astype(int).to_numpy()
    return X, y


def _private_gan(**params):
    defaults = {"epsilon": 3.0, "max_epochs": 2, "batch_size": 100, "random_state": 0,
                "bounds": {"age": (0, 100), "score": (-4, 4)}, **TINY}
    return GANAugmenter(**{**defaults, **params})


@pytest.fixture(scope="module")
def fitted():
    X, y = _table()
    return _private_gan().fit(X, y), X, y


def test_budget_never_exceeded_and_spent(fitted):
    gan, X, _ = fitted
    assert gan.epsilon_ <= 3.0
    assert gan.epsilon_ == pytest.approx(3.0, rel=1e-3)  # the planned steps spend it all
    assert gan.delta_ == pytest.approx(1 / (10 * len(X)))


def test_accountant_figures_are_the_preprocessing_then_the_steps(fitted):
    gan, X, _ = fitted
    assert gan.steps_ == 2 * math.ceil(len(X) / 100)
    own = RDPAccountant(gan.accountant_.orders)
    # 4 histograms: 2 numeric columns (bounds given), 1 categorical column, the classes.
    pre = _private.noise_multiplier_for(0.1 * 3.0, gan.delta_, 1.0, 1, gan.accountant_.orders)
    own.spend(pre)
    own.spend(gan.noise_multiplier_, sample_rate=100 / len(X), steps=gan.steps_)
    np.testing.assert_allclose(own.rdp, gan.accountant_.rdp)
    assert own.epsilon(gan.delta_) == pytest.approx(gan.epsilon_)


def test_a_callback_stopping_early_reports_less():
    from skorch.callbacks import Callback

    class StopAfterOne(Callback):
        def on_epoch_end(self, net, **kwargs):
            raise KeyboardInterrupt

    X, y = _table()
    gan = _private_gan(max_epochs=4, callbacks=[StopAfterOne()]).fit(X, y)
    assert gan.steps_ == math.ceil(len(X) / 100)
    assert gan.epsilon_ < 3.0


def test_poisson_sampling_draws_each_row_independently():
    generator = torch.Generator().manual_seed(0)
    batches = list(_PoissonBatches(1000, 0.1, 200, generator))
    sizes = np.array([len(b) for b in batches])
    assert len(batches) == 200
    assert sizes.mean() == pytest.approx(100, rel=0.05)
    assert sizes.std() == pytest.approx(math.sqrt(1000 * 0.1 * 0.9), rel=0.2)  # binomial, not fixed
    assert all(len(np.unique(b)) == len(b) for b in batches)  # no row twice in a batch
    counts = np.bincount(np.concatenate(batches), minlength=1000)
    assert counts.mean() == pytest.approx(20, rel=0.05)


def test_an_empty_poisson_batch_is_a_step_of_noise():
    X, y = _table(n=40)
    gan = _private_gan(batch_size=1, max_epochs=1, epsilon=50.0, bounds=(-100, 100)).fit(X, y)
    assert gan.steps_ == 40  # many of its batches were empty
    assert np.isfinite(gan.history_[-1, "discriminator_loss"])


def test_reproducible_with_random_state():
    X, y = _table()
    a = _private_gan().fit(X, y).sample(20, random_state=1)
    b = _private_gan().fit(X, y).sample(20, random_state=1)
    pd.testing.assert_frame_equal(a[0], b[0])
    c = _private_gan(random_state=1).fit(X, y).sample(20, random_state=1)
    assert not a[0].equals(c[0])


def test_not_private_is_unchanged():
    X, y = _table()
    params = {"max_epochs": 1, "batch_size": 100, "random_state": 0, **TINY}
    base = GANAugmenter(**params).fit(X, y)
    explicit = GANAugmenter(epsilon=None, delta="auto", max_grad_norm=5.0, privacy_split=0.5, **params).fit(X, y)
    pd.testing.assert_frame_equal(base.sample(30, random_state=0)[0], explicit.sample(30, random_state=0)[0])
    assert not hasattr(base, "epsilon_") and base.pac_ == 10


def test_private_fit_end_to_end_keeps_the_table_format(fitted):
    gan, X, _ = fitted
    rows, labels = gan.sample(50, random_state=0)
    assert list(rows.columns) == list(X.columns) and rows.dtypes.equals(X.dtypes)
    assert rows["age"].between(0, 100).all() and rows["score"].between(-4, 4).all()
    assert set(rows["job"].dropna()) <= {"a", "b", "c", "d"}
    assert set(labels) <= {0, 1}
    assert gan.pac_ == 1
    assert np.isfinite(gan.discriminator_(X.head())).all()


def test_private_fit_on_digit_images():
    X, y = load_digits(return_X_y=True)
    gan = GANAugmenter(epsilon=2.0, max_epochs=1, batch_size=200, bounds=(0, 16), image_shape=(8, 8), random_state=0)
    gan.fit(X[:600], y[:600])
    images, labels = gan.sample(10, random_state=0)
    assert images.shape == (10, 64) and images.min() >= 0 and images.max() <= 16
    assert gan.epsilon_ <= 2.0 and gan.steps_ == 3


@pytest.mark.parametrize(
    "params, message",
    [
        ({"pac": 5}, "pac"),
        ({"spectral_norm": True}, "spectral_norm"),
        ({"loss": "wgan_gp"}, "loss='wgan_gp'"),
        ({"discriminator_steps": 2}, "discriminator_steps"),
        ({"discriminator_mixup": 0.2}, "discriminator_mixup must be 0"),
        ({"discriminator__batch_norm": True}, "discriminator: .*mixes the rows"),
        ({"epsilon": 0.01}, "too small for 400 rows"),
        ({"epsilon": 1.0, "privacy_split": 0.999999}, "too small"),  # the rest of the budget buys too little
        ({"delta": 0.01}, "delta=0.01 is not below"),
    ],
)
def test_refusals_before_training(params, message):
    X, y = _table()
    with pytest.raises(ValueError, match=message):
        _private_gan(**params).fit(X, y)


@pytest.mark.parametrize(
    ("epsilon", "n_rows", "epochs"),
    [(None, 500, 2000), (None, 30_000, 34), (1.0, 500, 10), (1.0, 30_000, 10)],
)
def test_auto_epochs_are_the_step_budget_unless_private(epsilon, n_rows, epochs):
    # Not private: the base's budget of about 2,000 steps of 500 rows; private: 10 epochs of large noisy steps.
    assert GANAugmenter(epsilon=epsilon)._epochs_for(n_rows) == epochs


def test_undeclared_levels_are_refused():
    X, y = _table()
    X["job"] = X["job"].astype(str)
    with pytest.raises(ValueError, match="levels are not declared"):
        _private_gan().fit(X, y)


def test_images_need_public_bounds():
    X, y = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match="bounds=\\(low, high\\)"):
        GANAugmenter(epsilon=1.0, image_shape=(8, 8)).fit(X[:100], y[:100])


def test_missing_numbers_are_refused_and_missing_categories_modelled():
    X, y = _table()
    X.loc[:20, "job"] = np.nan
    rows, _ = _private_gan(epsilon=20.0).fit(X, y).sample(400, random_state=0)
    assert rows["job"].isna().any()
    X.loc[:5, "score"] = np.nan
    with pytest.raises(ValueError, match="'score' has missing values"):
        _private_gan().fit(X, y)


def test_bounds_forms():
    columns = ["a", "b"]
    assert _private.parse_bounds((0, 1), columns) == {"a": (0.0, 1.0), "b": (0.0, 1.0)}
    assert _private.parse_bounds([[0, 1], [2, 3]], columns) == {"a": (0.0, 2.0), "b": (1.0, 3.0)}  # (2, n): lows, highs
    assert _private.parse_bounds({"b": (2, 3)}, columns) == {"b": (2.0, 3.0)}
    with pytest.raises(ValueError, match="low < high"):
        _private.parse_bounds({"a": (1, 0)}, columns)
    with pytest.raises(ValueError, match="does not have"):
        _private.parse_bounds({"c": (1, 2)}, columns)


def test_noisy_counts_have_the_calibrated_scale():
    rng = np.random.RandomState(0)
    counts = _private.PrivateCounts(4, 1.0, 1e-5, rng)
    expected = _private.noise_multiplier_for(1.0, 1e-5, 1.0, 1, _private.PRIVATE_ORDERS) * 2.0  # sqrt(4 histograms)
    assert counts.sigma == pytest.approx(expected)
    noise = np.concatenate([counts.noisy(np.zeros(5000)) for _ in range(4)])
    assert noise.std() == pytest.approx(expected, rel=0.03)
    with pytest.raises(RuntimeError, match="paid for"):
        counts.noisy(np.zeros(3))
    accountant = _private.new_accountant()
    counts.spend(accountant)
    assert accountant.epsilon(1e-5) == pytest.approx(1.0, rel=1e-3)


def test_private_bounds_cover_the_data_on_the_geometric_grid():
    rng = np.random.RandomState(0)
    values = rng.uniform(20, 90, 20000)
    counts = _private.PrivateCounts(1, 1.0, 1e-6, rng)
    low, high = _private.private_bounds(values, counts, "age")
    assert low == 16.0 and high == 128.0


def test_quantile_map_round_trip_and_atoms():
    rng = np.random.RandomState(0)
    values = np.r_[np.zeros(8000), rng.uniform(1000, 5000, 2000)]
    counts = _private.PrivateCounts(1, 5.0, 1e-6, rng)
    qmap = _private._QuantileMap(0, 10000, 20, values, counts, integer=True)
    encoded = qmap.encode(values)
    assert encoded.min() >= -1 and encoded.max() <= 1
    decoded = qmap.decode(encoded)
    assert (decoded[:8000] == 0).all()  # the atom at the low bound comes back on it
    assert np.abs(decoded[8000:] - values[8000:]).max() <= 500 + 1  # within a bin
    assert qmap.decode(np.linspace(-1, 1, 101)).min() >= 0


@pytest.mark.parametrize("epsilon, batch_size, max_epochs", [(0.5, 200, 1), (1.0, 40, 3), (8.0, 400, 2)])
def test_the_reported_epsilon_never_exceeds_the_target(epsilon, batch_size, max_epochs):
    X, y = _table()
    gan = _private_gan(epsilon=epsilon, batch_size=batch_size, max_epochs=max_epochs).fit(X, y)
    assert gan.epsilon_ <= epsilon
    assert gan.accountant_.epsilon(gan.delta_) == gan.epsilon_


def test_private_defaults_take_few_large_steps_without_dropout():
    X, y = _table(n=1000)
    gan = GANAugmenter(epsilon=2.0, bounds={"age": (0, 100), "score": (-4, 4)}, random_state=0, **TINY).fit(X, y)
    assert gan.steps_ == 10 * 10  # 10 epochs of batches of a tenth of the rows
    assert gan.net_.iterator_train__sample_rate == pytest.approx(0.1)
    assert gan.net_.lr == 1e-3 and gan.net_.adversary_optimizer_.param_groups[0]["lr"] == pytest.approx(3e-3)
    assert not any(isinstance(m, torch.nn.Dropout) or "Dropout" in type(m).__name__
                   for m in gan.net_.discriminator_.modules())
    public = GANAugmenter(max_epochs=1, random_state=0, **TINY).fit(X, y)
    assert public.net_.lr == 2e-4 and public.net_.batch_size == 500
    assert any("Dropout" in type(m).__name__ for m in public.net_.discriminator_.modules())


def test_the_generator_ends_on_the_average_of_its_weights():
    from sklearn_adv.augmentation import gan as gan_module

    X, y = _table()
    averaged = _private_gan().fit(X, y)
    original = gan_module._PRIVATE_GENERATOR_AVERAGE
    try:
        gan_module._PRIVATE_GENERATOR_AVERAGE = 0.0
        last = _private_gan().fit(X, y)
    finally:
        gan_module._PRIVATE_GENERATOR_AVERAGE = original
    # Same training, other final weights: the average differs from the last step's.
    same = [torch.equal(a, b) for a, b in zip(averaged.generator_.parameters(), last.generator_.parameters())]
    assert not any(same)
    np.testing.assert_array_equal(averaged.history_[:, "generator_loss"], last.history_[:, "generator_loss"])


def test_absent_levels_are_dropped_from_the_noisy_frequencies():
    noisy = np.array([1000.0, 5.0, -3.0, 250.0])
    np.testing.assert_allclose(_private.frequencies(noisy, threshold=100.0), [0.8, 0.0, 0.0, 0.2])
    np.testing.assert_allclose(_private.frequencies(np.array([-1.0, 2.0]), threshold=10.0), [0.5, 0.5])


def test_the_history_records_no_poisson_batch_size(fitted):
    gan, X, _ = fitted
    batches = [batch for epoch in gan.history_ for batch in epoch["batches"]]
    assert {batch["train_batch_size"] for batch in batches} == {100}  # not the Poisson batches' sizes
