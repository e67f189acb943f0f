"""Robust accuracy: a model's accuracy on the adversarial examples an attack finds, as a score and a scorer."""

from numbers import Real

from sklearn.base import clone
from sklearn.metrics import accuracy_score

from sklearn_adv import plugins

__all__ = ["robust_accuracy_score", "make_robust_scorer"]


def _attack_for(estimator, attack, eps, attack_params):
    """The attack object for ``estimator``: the default PGD, a registered name, or a clone of an attack object."""
    if eps is not None and (not isinstance(eps, Real) or isinstance(eps, bool) or eps < 0):
        raise ValueError(f"eps must be a non-negative float, got {eps!r}.")
    if attack is None or isinstance(attack, str):
        if eps is None:
            raise ValueError("eps is required unless attack is an attack object with its own eps.")
        factory = plugins.get("evasion_attack", "pgd" if attack is None else attack)
        return factory(estimator, eps=eps, **attack_params)
    if not (hasattr(attack, "generate") and hasattr(attack, "set_params")):
        raise TypeError(
            f"attack must be None, a registered evasion_attack name {plugins.available('evasion_attack')} "
            f"or an attack object with generate and set_params; got {type(attack).__name__}."
        )
    params = {"estimator": estimator, **attack_params}
    if eps is not None:
        params["eps"] = eps
    return clone(attack).set_params(**params)


def robust_accuracy_score(estimator, X, y, *, eps=None, attack=None, sample_weight=None, **attack_params):
    """Accuracy of a fitted classifier on adversarial examples of ``X`` within ``eps``.

    The attack moves each row of ``X`` within ``eps`` (and the box of valid
    inputs) to change the model's prediction away from ``y``; the score is
    the accuracy on the moved rows. It is an upper bound on the accuracy
    under the threat model: an attack that fails on a row does not prove
    that no adversarial example exists.

    Read more in the :ref:`User Guide <robustness>`.

    Parameters
    ----------
    estimator : fitted classifier
    X : array-like or DataFrame, as the model takes it
    y : array-like of shape (n_samples,)
        True labels.
    eps : float or None, default=None
        Radius of the ball. Required unless ``attack`` is an attack object,
        whose own ``eps`` is then used; ``0`` gives the clean accuracy.
    attack : None, str or attack object, default=None
        ``None`` runs :class:`~sklearn_adv.robustness.PGDAttack` at its
        defaults (50 steps from a random start, L-infinity); a name of the
        ``evasion_attack`` registry (``"pgd"``, ``"fgsm"``, ``"square"``);
        or an attack object with its own settings, cloned, with its
        ``estimator`` set to ``estimator``. The attack is fitted on ``X``,
        which gives it the box of valid inputs unless it has ``bounds``.
    sample_weight : array-like of shape (n_samples,), default=None
    **attack_params
        Parameters of the attack (``norm``, ``steps``, ``restarts``,
        ``bounds``, ``max_queries``, ``random_state``, ...).

    Returns
    -------
    score : float

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_adv.robustness import robust_accuracy_score
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> model = LogisticRegression(max_iter=1000).fit(X[:1000], y[:1000])
    >>> clean = robust_accuracy_score(model, X[1000:], y[1000:], eps=0)
    >>> robust = robust_accuracy_score(model, X[1000:], y[1000:], eps=0.1, bounds=(0, 1), random_state=0)
    >>> bool(robust < clean)
    True
    """
    attacker = _attack_for(estimator, attack, eps, attack_params)
    X_adv = attacker.fit(X).generate(X, y) if attacker.eps > 0 else X
    return float(accuracy_score(y, estimator.predict(X_adv), sample_weight=sample_weight))


class _RobustScorer:
    """A scorer ``scorer(estimator, X, y)``: :func:`robust_accuracy_score` with set attack settings."""

    def __init__(self, eps, attack, attack_params):
        self.eps = eps
        self.attack = attack
        self.attack_params = attack_params

    def __call__(self, estimator, X, y, sample_weight=None):
        return robust_accuracy_score(estimator, X, y, eps=self.eps, attack=self.attack, sample_weight=sample_weight,
                                     **self.attack_params)

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in {"eps": self.eps, "attack": self.attack, **self.attack_params}.items())
        return f"make_robust_scorer({settings})"


def make_robust_scorer(*, eps=None, attack=None, **attack_params):
    """A scorer of robust accuracy, for ``GridSearchCV(scoring=...)`` and ``cross_validate``.

    Parameters
    ----------
    eps, attack, **attack_params
        As in :func:`robust_accuracy_score`, checked here.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, sample_weight=None)`` returns the robust
        accuracy; greater is better. It may stand alone or in a dict of
        scorers beside ``"accuracy"``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_adv.robustness import make_robust_scorer
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> scorer = make_robust_scorer(eps=0.05, attack="fgsm", bounds=(0, 1))
    >>> search = GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.1, 1.0]}, scoring=scorer, cv=2).fit(X, y)
    >>> sorted(search.best_params_)
    ['C']
    """
    # Check the settings now rather than in the first fold of a search: the attack is built without a model.
    _attack_for(None, attack, eps, attack_params)._validate_params()
    return _RobustScorer(eps, attack, dict(attack_params))
