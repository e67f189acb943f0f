"""Mode-specific normalisation of numeric columns (CTGAN, Xu et al. 2019).

A variational Gaussian mixture is fitted to each numeric column; a value is
encoded as its position within one of the mixture's modes, scaled by four of
the mode's standard deviations, and the mode's one-hot.
"""

import warnings

import numpy as np
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture


def _fit_modes(values, n_modes, weight_threshold, max_fit_rows, rng):
    """Means, standard deviations and weights of the kept modes of one column, heaviest first."""
    if max_fit_rows is not None and len(values) > max_fit_rows:
        values = values[rng.choice(len(values), size=max_fit_rows, replace=False)]
    # Fit on standardised values so that reg_covar means the same for every column's scale.
    center, scale = values.mean(), values.std()
    scale = scale if scale > 0 else 1.0
    standardised = ((values - center) / scale).reshape(-1, 1)
    n_components = int(min(n_modes, len(np.unique(standardised))))
    mixture = BayesianGaussianMixture(
        n_components=n_components,
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=1e-3,
        n_init=1,
        max_iter=100,
        random_state=rng.randint(np.iinfo(np.int32).max),
    )
    with warnings.catch_warnings():
        # A mixture that has not fully converged in max_iter still gives usable modes.
        warnings.simplefilter("ignore", ConvergenceWarning)
        mixture.fit(standardised)
    weights = mixture.weights_
    keep = np.flatnonzero(weights > weight_threshold)
    if len(keep) == 0:
        keep = np.array([np.argmax(weights)])
    keep = keep[np.argsort(-weights[keep], kind="stable")]
    means = center + scale * mixture.means_[keep, 0]
    stds = scale * np.sqrt(mixture.covariances_[keep].reshape(-1))
    return means, stds, weights[keep] / weights[keep].sum()


def _encode_modes(values, spec, mode_sampling, rng):
    """Scalar within the mode and the mode index of every value of one column (NaN -> mode 0's mean)."""
    missing = np.isnan(values)
    filled = np.where(missing, spec.mode_means[0], values)
    log_prob = (
        spec.mode_log_weights
        - np.log(spec.mode_stds)
        - 0.5 * ((filled[:, None] - spec.mode_means) / spec.mode_stds) ** 2
    )
    if mode_sampling == "argmax":
        mode = np.argmax(log_prob, axis=1)
    else:
        posterior = np.exp(log_prob - logsumexp(log_prob, axis=1, keepdims=True))
        draws = rng.uniform(size=(len(values), 1))
        mode = np.minimum((np.cumsum(posterior, axis=1) < draws).sum(axis=1), len(spec.mode_means) - 1)
    mode[missing] = 0
    scalar = np.clip((filled - spec.mode_means[mode]) / (4.0 * spec.mode_stds[mode]), -1.0, 1.0)
    return scalar, mode


def _decode_modes(scalar, mode_scores, spec):
    """Values from the scalars within their modes and the argmax of the mode blocks."""
    mode = np.argmax(mode_scores, axis=1)
    scalar = np.clip(scalar.astype(np.float64), -1.0, 1.0)
    return scalar * 4.0 * spec.mode_stds[mode] + spec.mode_means[mode]
