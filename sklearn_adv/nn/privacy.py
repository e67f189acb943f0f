"""Privacy accounting: Rényi differential privacy of the sampled Gaussian mechanism, and its (epsilon, delta).

DP-SGD (Abadi et al. 2016) releases, at each step, the sum of the clipped
per-row gradients of a Poisson sample of the rows plus Gaussian noise: a
sampled Gaussian mechanism. Its Rényi differential privacy (RDP) at order
alpha is computed exactly as in Mironov, Talwar & Zhang (2019), RDP adds up
over steps and over mechanisms, and the total is turned into an
(epsilon, delta) guarantee by the conversion of Balle et al. (2020), the
tightest in common use. These are the computations of TensorFlow Privacy's
and Opacus's RDP accountants, written anew; the tests check them against
Opacus.

Everything here is plain numpy and scipy: the accountant decides how much
noise a fit needs before any training starts.
"""

import math

import numpy as np
from scipy import optimize, special

#: RDP orders evaluated by default: Opacus's, fine near 1 where small budgets are decided, coarse beyond.
DEFAULT_ORDERS = tuple([1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)))


def _log_a_int(q, sigma, alpha):
    """log A_alpha for an integer order: a finite binomial sum (Mironov et al. 2019, Section 3.3)."""
    i = np.arange(alpha + 1)
    log_terms = (special.gammaln(alpha + 1) - special.gammaln(i + 1) - special.gammaln(alpha - i + 1)
                 + i * math.log(q) + (alpha - i) * math.log1p(-q) + (i * i - i) / (2 * sigma**2))
    return float(special.logsumexp(log_terms))


def _log_a_frac(q, sigma, alpha):
    """log A_alpha for a fractional order: two alternating series, summed until their terms vanish."""
    z0 = sigma**2 * math.log(1 / q - 1) + 0.5
    log_terms, signs = [], []
    i = 0
    while True:
        coef = special.binom(alpha, i)
        log_coef = math.log(abs(coef))
        j = alpha - i
        log_s0 = (log_coef + i * math.log(q) + j * math.log1p(-q) + (i * i - i) / (2 * sigma**2)
                  + special.log_ndtr((z0 - i) / sigma))
        log_s1 = (log_coef + j * math.log(q) + i * math.log1p(-q) + (j * j - j) / (2 * sigma**2)
                  + special.log_ndtr((j - z0) / sigma))
        log_terms += [log_s0, log_s1]
        signs += [np.sign(coef)] * 2
        i += 1
        if max(log_s0, log_s1) < -30:
            break
    return float(special.logsumexp(log_terms, b=signs))


def rdp_sampled_gaussian(sample_rate, noise_multiplier, steps, orders=DEFAULT_ORDERS):
    """Rényi differential privacy of ``steps`` compositions of the sampled Gaussian mechanism.

    Parameters
    ----------
    sample_rate : float in [0, 1]
        Probability that a row takes part in a step (Poisson sampling); 1 is
        the plain Gaussian mechanism.
    noise_multiplier : float
        Standard deviation of the noise over the L2 sensitivity (the clipping norm).
    steps : int
        Number of releases.
    orders : sequence of float > 1
        RDP orders.

    Returns
    -------
    rdp : ndarray of shape (len(orders),)
        RDP at each order; ``inf`` where it is unbounded.

    Examples
    --------
    >>> from sklearn_adv.nn.privacy import rdp_sampled_gaussian
    >>> float(rdp_sampled_gaussian(1.0, 2.0, 1, orders=[2.0])[0])  # alpha / (2 sigma^2)
    0.25
    """
    orders = np.asarray(orders, dtype=float)
    q, sigma = float(sample_rate), float(noise_multiplier)
    if q == 0:
        return np.zeros_like(orders)
    if sigma == 0:
        return np.full_like(orders, np.inf)
    if q == 1:
        return steps * orders / (2 * sigma**2)
    rdp = np.array([
        (_log_a_int(q, sigma, int(alpha)) if float(alpha).is_integer() else _log_a_frac(q, sigma, alpha)) / (alpha - 1)
        for alpha in orders
    ])
    return steps * rdp


def epsilon_from_rdp(rdp, delta, orders=DEFAULT_ORDERS):
    """The smallest epsilon over the orders such that the RDP guarantee implies (epsilon, delta)-DP.

    Balle et al. (2020), Theorem 21: ``eps = rdp - (log delta + log alpha) /
    (alpha - 1) + log((alpha - 1) / alpha)``.

    Returns
    -------
    epsilon : float
    order : float
        The order at which the minimum is reached.
    """
    orders = np.asarray(orders, dtype=float)
    rdp = np.asarray(rdp, dtype=float)
    with np.errstate(invalid="ignore"):
        eps = rdp - (math.log(delta) + np.log(orders)) / (orders - 1) + np.log((orders - 1) / orders)
    eps = np.where(np.isnan(eps), np.inf, eps)
    best = int(np.argmin(eps))
    return max(float(eps[best]), 0.0), float(orders[best])


def dp_sgd_epsilon(sample_rate, noise_multiplier, steps, delta, orders=DEFAULT_ORDERS):
    """The epsilon spent by ``steps`` DP-SGD steps at ``delta``.

    Examples
    --------
    >>> from sklearn_adv.nn.privacy import dp_sgd_epsilon
    >>> round(dp_sgd_epsilon(500 / 32561, 1.38, 650, 1e-5), 2)  # 10 epochs of Adult at batch 500
    1.47
    """
    return epsilon_from_rdp(rdp_sampled_gaussian(sample_rate, noise_multiplier, steps, orders), delta, orders)[0]


def noise_multiplier_for(epsilon, delta, sample_rate, steps, orders=DEFAULT_ORDERS, *, rdp_spent=0.0):
    """The smallest noise multiplier at which ``steps`` DP-SGD steps spend at most ``epsilon``.

    ``rdp_spent`` (an array over ``orders``) is what other releases of the
    same data already used: their RDP adds to the steps'.

    Raises
    ------
    ValueError
        When no noise multiplier reaches the budget, which happens only when
        ``rdp_spent`` alone exceeds it.

    Examples
    --------
    >>> from sklearn_adv.nn.privacy import noise_multiplier_for
    >>> round(noise_multiplier_for(1.0, 1e-5, 500 / 32561, 650), 2)
    1.8
    """
    def excess(log_sigma):
        rdp = rdp_sampled_gaussian(sample_rate, math.exp(log_sigma), steps, orders) + rdp_spent
        return epsilon_from_rdp(rdp, delta, orders)[0] - epsilon

    low, high = math.log(1e-2), math.log(1e4)
    if excess(high) > 0:
        raise ValueError(
            f"No noise reaches epsilon={epsilon} at delta={delta}: the other releases of the data already spend "
            "the budget. Raise epsilon or spend less on them."
        )
    if excess(low) <= 0:
        return math.exp(low)
    # The bracket's root, nudged up so that the spent epsilon never exceeds the target.
    return math.exp(optimize.brentq(excess, low, high, xtol=1e-6)) * (1 + 1e-6)


class RDPAccountant:
    """Adds up the Rényi differential privacy of every release of a data set, and reports (epsilon, delta).

    Each ``spend`` records one mechanism run ``steps`` times: DP-SGD steps
    (``sample_rate < 1``) or a Gaussian release such as noisy counts
    (``sample_rate=1``), with its noise multiplier relative to its L2
    sensitivity.

    Examples
    --------
    >>> from sklearn_adv.nn.privacy import RDPAccountant
    >>> accountant = RDPAccountant()
    >>> accountant.spend(noise_multiplier=1.38, sample_rate=500 / 32561, steps=650)
    >>> round(accountant.epsilon(delta=1e-5), 2)
    1.47
    """

    def __init__(self, orders=DEFAULT_ORDERS):
        self.orders = tuple(orders)
        self.rdp = np.zeros(len(self.orders))

    def spend(self, noise_multiplier, sample_rate=1.0, steps=1):
        """Record ``steps`` runs of a sampled Gaussian mechanism."""
        self.rdp = self.rdp + rdp_sampled_gaussian(sample_rate, noise_multiplier, steps, self.orders)

    def epsilon(self, delta):
        """The epsilon spent so far at ``delta``."""
        return epsilon_from_rdp(self.rdp, delta, self.orders)[0]
