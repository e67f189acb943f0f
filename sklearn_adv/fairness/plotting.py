"""The accuracy/fairness trade-off of an adversarially fair model across ``adversary_weight``."""

import numpy as np
from sklearn import get_config
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline

from sklearn_adv.fairness.metrics import FAIRNESS_METRICS, _binarize

__all__ = ["FairnessTradeoffDisplay"]


class FairnessTradeoffDisplay:
    """Accuracy/fairness trade-off curve: one point per adversary weight.

    Build it with :meth:`from_estimator`, which refits a model for each
    weight, or directly from numbers computed elsewhere, then :meth:`plot`.

    Parameters
    ----------
    adversary_weights : array-like of shape (n_points,)
    scores : array-like of shape (n_points,)
        Accuracy (or ``score_name``) at each weight.
    disparities : array-like of shape (n_points,)
        The fairness metric at each weight.
    score_name : str, default="accuracy"
    fairness_metric : str, default="demographic_parity_difference"
    estimator_name : str or None, default=None
        Label of the curve in the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_adv.fairness import FairnessTradeoffDisplay
    >>> display = FairnessTradeoffDisplay([0, 1, 3], [0.85, 0.84, 0.82], [0.18, 0.09, 0.03]).plot()
    >>> display.ax_.get_xlabel()
    'demographic parity difference'
    """

    def __init__(
        self,
        adversary_weights,
        scores,
        disparities,
        *,
        score_name="accuracy",
        fairness_metric="demographic_parity_difference",
        estimator_name=None,
    ):
        self.adversary_weights = adversary_weights
        self.scores = scores
        self.disparities = disparities
        self.score_name = score_name
        self.fairness_metric = fairness_metric
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, annotate=True, **kwargs):
        """Draw the curve, fairness on x (lower is fairer for differences), score on y.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Where to draw; a new figure when None.
        annotate : bool, default=True
            Label each point with its adversary weight (``w=0.5``), named in
            the legend's title.
        **kwargs
            Passed to ``ax.plot``.

        Returns
        -------
        display : FairnessTradeoffDisplay
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        kwargs.setdefault("marker", "o")
        if self.estimator_name is not None:
            kwargs.setdefault("label", self.estimator_name)
        (self.line_,) = ax.plot(self.disparities, self.scores, **kwargs)
        if annotate:
            for weight, x, y in zip(self.adversary_weights, self.disparities, self.scores):
                # Below and right of the point: clear of a curve that rises to the right.
                ax.annotate(f"w={weight:g}", (x, y), textcoords="offset points", xytext=(5, -5), va="top", fontsize=8)
            ax.margins(0.1)  # room for the labels of the end points inside the frame
        ax.set_xlabel(self.fairness_metric.replace("_", " "))
        ax.set_ylabel(self.score_name.replace("_", " "))
        if annotate:
            # The legend says what the labels are, with or without a named curve.
            handles, _ = ax.get_legend_handles_labels()
            ax.legend(handles=handles, title="w: adversary_weight", title_fontsize=8)
        elif "label" in kwargs:
            ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X_train,
        y_train,
        X_test,
        y_test,
        *,
        adversary_weights=(0.0, 0.5, 1.0, 2.0, 4.0),
        sensitive_features_train=None,
        sensitive_features_test=None,
        fairness_metric="demographic_parity_difference",
        score_func=accuracy_score,
        pos_label=None,
        ax=None,
        **kwargs,
    ):
        """Refit ``estimator`` for each adversary weight and plot test score against test fairness.

        Parameters
        ----------
        estimator : FairClassifier or Pipeline
            An unfitted model, or a :class:`~sklearn.pipeline.Pipeline` whose
            last step is one; it is cloned for each weight, which is set
            through the step's name (``fairclassifier__adversary_weight``).
        X_train, y_train : training data
        X_test, y_test : evaluation data
        adversary_weights : sequence of float, default=(0.0, 0.5, 1.0, 2.0, 4.0)
        sensitive_features_train : array-like or None, default=None
            Passed to ``fit`` when the model takes the attribute as a fit
            argument (``sensitive=None``). A pipeline gets it as
            ``<step>__sensitive_features``, or, with metadata routing enabled,
            as ``sensitive_features`` (the model then requests it:
            ``set_fit_request(sensitive_features=True)``).
        sensitive_features_test : array-like or None, default=None
            The attribute of the test rows; ``None`` reads the model's
            ``sensitive`` columns of ``X_test``.
        fairness_metric : str, default="demographic_parity_difference"
            A key of :data:`~sklearn_adv.fairness.FAIRNESS_METRICS`.
        score_func : callable, default=accuracy_score
        pos_label : default=None
        ax : matplotlib Axes or None, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : FairnessTradeoffDisplay
        """
        if fairness_metric not in FAIRNESS_METRICS:
            raise ValueError(f"fairness_metric must be one of {sorted(FAIRNESS_METRICS)}, got {fairness_metric!r}.")
        model, step_prefix = _fair_model(estimator)
        if sensitive_features_test is None:
            sensitive = getattr(model, "sensitive", None)
            if sensitive is None or not hasattr(X_test, "columns"):
                raise ValueError(
                    "Pass sensitive_features_test=, or an estimator whose sensitive= names columns of the X_test DataFrame."
                )
            sensitive_features_test = X_test[sensitive]
        fit_params = {}
        if sensitive_features_train is not None:
            # Without metadata routing a Pipeline takes a step's fit argument by the step's prefix.
            routed = not step_prefix or get_config()["enable_metadata_routing"]
            fit_params[("" if routed else step_prefix) + "sensitive_features"] = sensitive_features_train
        scores, disparities = [], []
        for weight in adversary_weights:
            fitted = clone(estimator).set_params(**{step_prefix + "adversary_weight": weight})
            y_pred = fitted.fit(X_train, y_train, **fit_params).predict(X_test)
            scores.append(score_func(y_test, y_pred))
            y_true_bin, y_pred_bin = _binarize(y_test, y_pred, pos_label)
            disparities.append(
                FAIRNESS_METRICS[fairness_metric][0](y_true_bin, y_pred_bin, sensitive_features=sensitive_features_test)
            )
        display = cls(
            np.asarray(adversary_weights, dtype=float),
            np.asarray(scores),
            np.asarray(disparities),
            score_name=getattr(score_func, "__name__", "score").replace("_score", ""),
            fairness_metric=fairness_metric,
            estimator_name=type(model).__name__,
        )
        return display.plot(ax=ax, **kwargs)


def _fair_model(estimator):
    """The model that has an ``adversary_weight``, and the prefix that reaches it through ``set_params``.

    The estimator itself with ``""``, or a Pipeline's last step with ``"<step name>__"``.
    """
    model, prefix = estimator, ""
    if isinstance(estimator, Pipeline):
        name, model = estimator.steps[-1]
        prefix = f"{name}__"
    if not hasattr(model, "get_params") or "adversary_weight" not in model.get_params(deep=False):
        raise TypeError(
            "estimator must be an adversarially fair model with an adversary_weight parameter (FairClassifier), "
            f"or a Pipeline whose last step is one; got {type(model).__name__}."
        )
    return model, prefix
