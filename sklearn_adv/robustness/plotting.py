"""Robustness curves: accuracy against the attack's budget ``eps``, for one or several models."""

import numpy as np

from sklearn_adv.robustness.scoring import robust_accuracy_score

__all__ = ["RobustnessDisplay"]


class RobustnessDisplay:
    """Robustness curve: a model's accuracy under attack as the budget ``eps`` grows.

    Build it with :meth:`from_estimator`, which attacks fitted models at each
    ``eps``, or directly from numbers computed elsewhere, then :meth:`plot`.

    Parameters
    ----------
    eps : array-like of shape (n_points,)
        The attack's budgets.
    accuracies : dict of str to array-like of shape (n_points,)
        Per model name, its robust accuracy at each ``eps`` (at ``eps=0``,
        the clean accuracy).
    attack_name : str or None, default=None
        Names the attack in the axis label (``"PGDAttack, L-inf"``).

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_adv.robustness import RobustnessDisplay
    >>> display = RobustnessDisplay([0, 0.1, 0.2], {"MLP": [0.97, 0.4, 0.02]}).plot()
    >>> display.ax_.get_ylabel()
    'accuracy'
    """

    def __init__(self, eps, accuracies, *, attack_name=None):
        self.eps = eps
        self.accuracies = accuracies
        self.attack_name = attack_name

    def plot(self, ax=None, **kwargs):
        """Draw one curve per model: accuracy on y, ``eps`` on x.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Where to draw; a new figure when None.
        **kwargs
            Passed to ``ax.plot`` for every curve.

        Returns
        -------
        display : RobustnessDisplay
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        kwargs.setdefault("marker", "o")
        self.lines_ = {}
        for name, accuracy in self.accuracies.items():
            (self.lines_[name],) = ax.plot(self.eps, accuracy, label=name, **kwargs)
        ax.set_xlabel("eps" if self.attack_name is None else f"eps ({self.attack_name})")
        ax.set_ylabel("accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y, *, eps=(0.0, 0.05, 0.1, 0.2), attack=None, ax=None, plot_kwargs=None,
                       **attack_params):
        """Attack fitted models at each ``eps`` and plot their accuracy.

        Parameters
        ----------
        estimator : fitted classifier or dict of str to fitted classifier
            One model, or several by the name of their curve.
        X, y : evaluation data
        eps : sequence of float, default=(0.0, 0.05, 0.1, 0.2)
            The budgets; ``0`` gives the clean accuracy.
        attack : None, str, attack object or dict of str to those, default=None
            As in :func:`~sklearn_adv.robustness.robust_accuracy_score`; a
            dict gives each model (by name) its own attack, e.g.
            ``"square"`` for a random forest and PGD for a network.
        ax : matplotlib Axes or None, default=None
        plot_kwargs : dict or None, default=None
            Passed to :meth:`plot`.
        **attack_params
            Parameters of every attack (``bounds``, ``random_state``, ...).

        Returns
        -------
        display : RobustnessDisplay
        """
        models = estimator if isinstance(estimator, dict) else {type(estimator).__name__: estimator}
        if not models:
            raise ValueError("estimator is an empty dict; give at least one fitted model.")
        attacks = attack if isinstance(attack, dict) else dict.fromkeys(models, attack)
        missing = set(models) - set(attacks)
        if missing:
            raise ValueError(f"attack is a dict without an entry for the models {sorted(missing)}.")
        eps = np.asarray(eps, dtype=float)
        if eps.ndim != 1 or not len(eps) or (eps < 0).any():
            raise ValueError(f"eps must be a non-empty sequence of non-negative floats, got {eps!r}.")
        accuracies = {
            name: np.array([robust_accuracy_score(model, X, y, eps=float(e), attack=attacks[name], **attack_params)
                            for e in eps])
            for name, model in models.items()
        }
        names = {_attack_label(a) for a in attacks.values()}
        return cls(eps, accuracies, attack_name=names.pop() if len(names) == 1 else None).plot(ax=ax, **(plot_kwargs or {}))


def _attack_label(attack):
    if attack is None:
        return "PGDAttack"
    return attack if isinstance(attack, str) else type(attack).__name__
