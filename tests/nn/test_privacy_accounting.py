"""The RDP accountant: exact against the closed forms, against Opacus's own accountant, and never over budget."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_adv.nn.privacy import (
    DEFAULT_ORDERS,
    RDPAccountant,
    dp_sgd_epsilon,
    epsilon_from_rdp,
    noise_multiplier_for,
    rdp_sampled_gaussian,
)

SCHEDULES = [  # (sample rate, noise multiplier, steps, delta)
    (500 / 32561, 1.38, 650, 1e-5),
    (0.01, 1.0, 1000, 1e-5),
    (0.1, 0.7, 100, 1e-6),
    (0.001, 4.0, 10_000, 1e-3),
    (0.5, 2.0, 10, 1e-5),
    (1.0, 5.0, 3, 1e-5),
]


def test_the_unsampled_gaussian_mechanism_has_its_closed_form():
    orders = [1.5, 2.0, 10.0]
    np.testing.assert_allclose(rdp_sampled_gaussian(1.0, 3.0, 4, orders), 4 * np.array(orders) / 18)


def test_sampling_nothing_costs_nothing_and_noise_free_releases_are_unbounded():
    assert np.all(rdp_sampled_gaussian(0.0, 1.0, 100) == 0)
    assert np.all(np.isinf(rdp_sampled_gaussian(0.1, 0.0, 1)))


def test_integer_and_fractional_orders_agree_where_they_meet():
    # The fractional series evaluated just beside an integer order approaches the binomial sum.
    exact = rdp_sampled_gaussian(0.05, 1.1, 1, [4.0])[0]
    near = rdp_sampled_gaussian(0.05, 1.1, 1, [4.0 - 1e-7, 4.0 + 1e-7])
    np.testing.assert_allclose(near, exact, rtol=1e-5)


@pytest.mark.parametrize(("rate", "sigma", "steps", "delta"), SCHEDULES)
def test_epsilon_equals_opacus_on_a_fixed_schedule(rate, sigma, steps, delta):
    accountants = pytest.importorskip("opacus.accountants")
    theirs = accountants.RDPAccountant()
    theirs.history = [(sigma, rate, steps)]
    assert dp_sgd_epsilon(rate, sigma, steps, delta) == pytest.approx(theirs.get_epsilon(delta), rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    epsilon=st.floats(0.3, 8.0),
    rate=st.floats(1e-3, 0.2),
    steps=st.integers(1, 3000),
)
def test_the_calibrated_noise_never_spends_more_than_asked(epsilon, rate, steps):
    delta = 1e-5
    sigma = noise_multiplier_for(epsilon, delta, rate, steps)
    spent = dp_sgd_epsilon(rate, sigma, steps, delta)
    assert spent <= epsilon
    # ... and is not needlessly noisy: 1% less noise would overspend (unless the floor of the search was reached).
    assert sigma <= 0.0101 or dp_sgd_epsilon(rate, sigma * 0.99, steps, delta) > epsilon


def test_more_steps_or_less_noise_spend_more():
    base = dp_sgd_epsilon(0.01, 1.0, 500, 1e-5)
    assert dp_sgd_epsilon(0.01, 1.0, 1000, 1e-5) > base
    assert dp_sgd_epsilon(0.01, 0.8, 500, 1e-5) > base
    assert dp_sgd_epsilon(0.02, 1.0, 500, 1e-5) > base


def test_the_accountant_composes_releases_by_adding_their_rdp():
    accountant = RDPAccountant()
    accountant.spend(noise_multiplier=1.0, sample_rate=0.01, steps=300)
    accountant.spend(noise_multiplier=1.0, sample_rate=0.01, steps=700)
    assert accountant.epsilon(1e-5) == pytest.approx(dp_sgd_epsilon(0.01, 1.0, 1000, 1e-5), rel=1e-12)
    accountant.spend(noise_multiplier=10.0)  # e.g. noisy counts, released once
    assert accountant.epsilon(1e-5) > dp_sgd_epsilon(0.01, 1.0, 1000, 1e-5)


def test_the_noise_accounts_for_what_other_releases_spent():
    counts = rdp_sampled_gaussian(1.0, 20.0, 1)
    sigma = noise_multiplier_for(1.0, 1e-5, 0.01, 1000, rdp_spent=counts)
    assert sigma > noise_multiplier_for(1.0, 1e-5, 0.01, 1000)
    total = epsilon_from_rdp(rdp_sampled_gaussian(0.01, sigma, 1000) + counts, 1e-5)[0]
    assert total <= 1.0


def test_a_budget_the_other_releases_already_spent_is_refused():
    spent = rdp_sampled_gaussian(1.0, 0.5, 1)  # a nearly noise-free release
    with pytest.raises(ValueError, match="already spend the budget"):
        noise_multiplier_for(1.0, 1e-5, 0.01, 100, rdp_spent=spent)


def test_the_conversion_picks_the_best_order():
    rdp = rdp_sampled_gaussian(0.01, 1.0, 1000)
    epsilon, order = epsilon_from_rdp(rdp, 1e-5)
    every = rdp - (math.log(1e-5) + np.log(DEFAULT_ORDERS)) / (np.array(DEFAULT_ORDERS) - 1)
    every += np.log((np.array(DEFAULT_ORDERS) - 1) / np.array(DEFAULT_ORDERS))
    assert epsilon == pytest.approx(every.min())
    assert order in DEFAULT_ORDERS
