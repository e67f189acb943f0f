"""Adversarial examples as scikit-learn objects: a gradient attack (FGSM, PGD) and a black-box one (Square Attack).

An attack holds a fitted classifier. ``fit(X)`` records the box of valid
inputs (the range of each feature seen in ``X``, or given ``bounds``) and
checks that it can reach the model; ``generate(X, y=None)`` returns, for
each row, a point within ``eps`` of it (L-infinity or L2 norm) and within
the box that the model classifies differently from ``y`` where the attack
finds one, or the strongest point it found where it does not. ``y=None``
attacks the model's own predictions.

Both attacks are registered in :mod:`sklearn_adv.plugins` under the kind
``"evasion_attack"`` (``"pgd"``, ``"fgsm"``, ``"square"``), the names that
:func:`~sklearn_adv.robustness.robust_accuracy_score` takes.
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context  # _fit_context: no public equivalent
from sklearn.utils import check_array, gen_batches
from sklearn.utils._param_validation import Interval, StrOptions  # no public API for parameter constraints
from sklearn.utils.validation import (  # the private two: feature checks of a DataFrame with categorical columns
    _check_feature_names,
    _check_n_features,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from sklearn_adv import plugins
from sklearn_adv.nn.perturbations import cross_entropy_loss, gradient_attack, margin_loss
from sklearn_adv.nn.utils import seed_from
from sklearn_adv.robustness._gradients import numeric_columns, torch_forward

__all__ = ["PGDAttack", "SquareAttack", "fgsm"]


class _Attack(BaseEstimator):
    """What every attack shares: input rules, bounds, labels, and the guarantee of the ball and the box.

    A subclass implements ``_check_access(X)`` (raise if the model cannot be
    attacked this way) and ``_perturb(X, values, labels, lower, upper, seed)``
    returning the adversarial values.
    """

    _parameter_constraints: dict = {
        "estimator": "no_validation",  # a fitted classifier, checked in fit
        "eps": [Interval(Real, 0, None, closed="left")],
        "norm": [StrOptions({"inf", "2"})],
        "bounds": [tuple, list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the box of valid inputs and check that the attack can reach the model.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), or images \
                (n_samples, H, W) / (n_samples, C, H, W)
            Rows as the model takes them. Unless ``bounds`` is given, the box
            is the range of each feature in ``X`` (of all pixels together for
            images).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        model = self._model()
        values = self._read(X, reset=True)
        n_model = getattr(model, "n_features_in_", None)
        if n_model is not None and self.n_features_in_ != n_model:
            raise ValueError(
                f"X has {self.n_features_in_} features, but the attacked {type(model).__name__} expects {n_model}."
            )
        self.lower_, self.upper_ = self._bounds(values)
        self._check_access(X[:2] if hasattr(X, "iloc") else values[:2])
        return self

    def generate(self, X, y=None):
        """Adversarial examples: each row moved within ``eps`` and the box to change the model's prediction.

        Parameters
        ----------
        X : array-like or DataFrame, as in fit
            Never modified.
        y : array-like of shape (n_samples,), default=None
            The true labels, which the attack moves away from; ``None`` uses
            the model's predictions on ``X``.

        Returns
        -------
        X_adv : ndarray or DataFrame like ``X``
            A DataFrame keeps its columns, index and non-numeric columns
            (numeric columns come back as floats); an array comes back as
            float64, or float32 when ``X`` is float32.
        """
        check_is_fitted(self, "lower_")
        values = self._read(X, reset=False)
        labels = self._labels(X, y, len(values))
        # The box always holds the clean row: a value outside the bounds seen in fit is never moved further out.
        lower, upper = np.minimum(self.lower_, values), np.maximum(self.upper_, values)
        adv = self._perturb(X, values, labels, lower, upper, seed_from(self.random_state)) if self.eps > 0 else values
        dtype = np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64
        adv = _within(values.astype(dtype), np.asarray(adv, dtype=dtype), self.eps, self.norm,
                      *_inward(lower, upper, dtype))
        if hasattr(X, "iloc"):
            out = X.copy()
            out[list(self.perturbed_columns_)] = adv
            return out
        return adv

    # -- checks and input rules ----------------------------------------------

    def _model(self):
        model = self.estimator
        if model is None:
            raise ValueError(f"{type(self).__name__} needs estimator=, the fitted classifier to attack.")
        if hasattr(model, "fit"):  # a fitted object without fit (a plain wrapper of scores) is taken as it is
            check_is_fitted(model)
        if not hasattr(model, "classes_"):
            raise TypeError(f"estimator must be a fitted classifier with classes_; got {type(model).__name__}.")
        return model

    def _read(self, X, *, reset):
        """The values the attack moves: the whole array, or a DataFrame's numeric columns, as float64."""
        if hasattr(X, "iloc") and hasattr(X, "dtypes"):
            _check_feature_names(self, X, reset=reset)
            _check_n_features(self, X, reset=reset)
            columns = numeric_columns(X)
            if reset:
                if not columns:
                    raise ValueError("X has no numeric column to perturb; attacks move numeric columns only.")
                self.perturbed_columns_ = np.asarray(columns, dtype=object)
            elif columns != list(self.perturbed_columns_):
                raise ValueError(
                    f"X's numeric columns {columns} differ from those seen in fit {list(self.perturbed_columns_)}."
                )
            return check_array(X[columns], dtype=np.float64, input_name="X")
        values = validate_data(self, X, reset=reset, allow_nd=True, dtype=np.float64)
        if values.ndim > 4:
            raise ValueError(f"X must be rows (n, n_features) or images (n, [C,] H, W); got shape {values.shape}.")
        if reset:
            self.perturbed_columns_ = None
        elif values.shape[1:] != self.lower_.shape:
            raise ValueError(f"X has rows of shape {values.shape[1:]}, but the attack was fitted on {self.lower_.shape}.")
        return values

    def _bounds(self, values):
        shape = values.shape[1:]
        if self.bounds is None:
            axis = tuple(range(values.ndim)) if values.ndim > 2 else 0  # images: one range for every pixel
            return (np.broadcast_to(values.min(axis=axis), shape).copy(),
                    np.broadcast_to(values.max(axis=axis), shape).copy())
        if len(self.bounds) != 2:
            raise ValueError(f"bounds must be a pair (lower, upper), got {self.bounds!r}.")
        sides = []
        for side, default in zip(self.bounds, (-np.inf, np.inf)):
            side = default if side is None else side
            try:
                side = np.broadcast_to(np.asarray(side, dtype=np.float64), shape).copy()
            except ValueError:
                raise ValueError(
                    f"bounds must hold floats or arrays of the shape of one row {shape}, got {self.bounds!r}."
                ) from None
            if np.isnan(side).any():
                raise ValueError("bounds must not contain NaN.")
            sides.append(side)
        if (sides[0] > sides[1]).any():
            raise ValueError("bounds: lower must not exceed upper.")
        return tuple(sides)

    def _labels(self, X, y, n):
        """Each row's class index in the model's ``classes_``: of ``y``, or of the model's prediction."""
        classes = self.estimator.classes_
        if y is None:
            y = self.estimator.predict(X)
        else:
            y = column_or_1d(y)
            check_consistent_length(np.empty(n), y)
        index = {label: i for i, label in enumerate(classes.tolist())}
        try:
            return np.array([index[label] for label in np.asarray(y).tolist()], dtype=np.int64)
        except KeyError as exc:
            raise ValueError(
                f"y has a label {exc.args[0]!r} that is not among the model's classes_ {classes.tolist()}."
            ) from None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.target_tags.required = False
        tags.non_deterministic = self.random_state is None
        return tags


def _inward(lower, upper, dtype):
    """The bounds in ``dtype``, rounded inwards so that a value within them in ``dtype`` is within them exactly."""
    low, high = lower.astype(dtype), upper.astype(dtype)
    low = np.where(low < lower, np.nextafter(low, dtype(np.inf)), low)
    high = np.where(high > upper, np.nextafter(high, dtype(-np.inf)), high)
    return low, high


def _within(x, adv, eps, norm, lower, upper):
    """``adv`` moved, if need be, into the ``eps``-ball around ``x`` and the box, exactly.

    The arrays are in the output's precision; distances are measured in
    float64, which holds the difference of two float32 values exactly.
    """
    def change(a, b):
        return a.astype(np.float64) - b.astype(np.float64)

    def norms(delta):
        return np.sqrt((delta.reshape(len(delta), -1) ** 2).sum(1))

    delta = change(adv, x)
    if norm == "inf":
        delta = np.clip(delta, -eps, eps)
    else:
        factor = np.minimum(1.0, eps / np.maximum(norms(delta), 1e-300))
        delta = delta * factor.reshape(-1, *([1] * (x.ndim - 1)))
    # One rounding, at the scale of the result: x + delta in float64, then to the output's precision.
    adv = np.clip((x.astype(np.float64) + delta).astype(x.dtype), lower, upper)
    # x + delta may round past the ball by an ulp: pull such values toward x until none does.
    tiny = np.finfo(x.dtype).eps
    for attempt in range(64):
        delta = change(adv, x)
        if norm == "inf":
            over = np.abs(delta) > eps
            if not over.any():
                break
            adv[over] = np.nextafter(adv[over], x[over])
        else:
            over = norms(delta) > eps
            if not over.any():
                break
            # A shrink below the rows' rounding leaves them as they are: shrink more at each attempt.
            shrink = max(1 - tiny * 4.0 ** (attempt + 1), 0.0)  # at worst back to x itself
            adv[over] = np.clip((x[over].astype(np.float64) + delta[over] * shrink).astype(x.dtype), lower[over],
                                upper[over])
    return adv


# -----------------------------------------------------------------------------
# Gradient attack


@plugins.register("evasion_attack", "pgd")
class PGDAttack(_Attack):
    """Projected gradient descent (PGD): the white-box attack, FGSM as its one-step case.

    Each row climbs the model's cross-entropy loss by steps of the signed
    gradient (L-infinity) or the normalised gradient (L2), projected back
    onto the ``eps``-ball around the row and the box of valid inputs after
    each step (Madry et al. 2018), with Auto-PGD's step sizes by default
    (Croce and Hein 2020). Every run starts from a random point of the
    ball; restarts alternate the cross-entropy with the margin loss; each row
    keeps the first misclassified point found over all steps and restarts,
    or the point of highest cross-entropy. ``steps=1``,
    ``random_init=False`` is FGSM (Goodfellow et al. 2015; :func:`fgsm`).

    It needs the model's gradients, which it reaches for scikit-learn's
    linear classifiers and ``MLPClassifier`` (through their fitted
    coefficients), the project's network classifiers, and Pipelines of
    ``StandardScaler``, ``MinMaxScaler`` or ``MaxAbsScaler`` before one of
    them. Use :class:`SquareAttack` for any other model.

    Read more in the :ref:`User Guide <robustness>`.

    Parameters
    ----------
    estimator : fitted classifier, default=None
        The model to attack, never refitted. Wrap it in
        :class:`sklearn.frozen.FrozenEstimator` to keep it fitted when the
        attack is cloned. ``None`` for an attack given to
        :func:`~sklearn_adv.robustness.robust_accuracy_score`, which sets it.
    eps : float, default=0.1
        Radius of the ball, in the units of ``X``.
    norm : {"inf", "2"}, default="inf"
        The L-infinity norm (each feature moves by at most ``eps``) or the
        Euclidean norm of a row's change.
    steps : int, default=50
        Gradient steps per run.
    step_size : float, "auto" or None, default="auto"
        Length of a step in ``norm``. ``"auto"``: Auto-PGD's schedule (Croce
        and Hein 2020), per row: from ``2 * eps``, halved whenever the loss
        stops rising, with momentum; it finds more adversarial examples than
        a fixed step for the same number of gradients. ``None``: Madry et
        al.'s fixed ``2.5 * eps / steps``. One step is always of ``eps``.
    restarts : int, default=1
        Independent runs, each from its own random start.
    random_init : bool, default=True
        Start from a random point of the ball (the first run starts from the
        row itself when False).
    loss : {"alternate", "cross_entropy", "margin"}, default="alternate"
        What each run climbs: the cross-entropy, the margin of the best other
        class over the row's class (Carlini and Wagner 2017), or the two in
        turn over the restarts, starting with the cross-entropy. The margin
        aims at a wrong class where the cross-entropy may spread over
        several; with restarts, alternating finds more adversarial examples
        (as AutoAttack's ensemble of losses, Croce and Hein 2020).
    bounds : tuple (lower, upper) or None, default=None
        The box of valid inputs: floats or arrays of a row's shape, ``None``
        for an open side. ``None`` reads the range seen in ``fit``.
    batch_size : int, default=512
        Rows attacked together.
    random_state : int, RandomState instance or None, default=None
        Seeds the random starts: an int makes ``generate`` reproducible.
    verbose : int, default=0
        ``> 0`` prints, after each batch, the rows attacked and fooled so far.

    Attributes
    ----------
    lower_, upper_ : ndarray of the shape of one row's perturbed values
        The box of valid inputs.
    perturbed_columns_ : ndarray of str or None
        The numeric columns of a DataFrame, which the attack moves; None for arrays.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` is a DataFrame with string column names.

    See Also
    --------
    SquareAttack : The black-box attack, for models without gradients.
    sklearn_adv.robustness.robust_accuracy_score : Accuracy on the attack's output.

    Notes
    -----
    Categorical (and boolean) columns of a DataFrame are left untouched:
    the attack moves the numeric columns only, and ``eps`` measures those.
    A value outside the bounds (a test row beyond the range seen in fit) is
    never moved further out.

    References
    ----------
    Goodfellow, Shlens and Szegedy, "Explaining and harnessing adversarial
    examples", ICLR 2015. Madry et al., "Towards deep learning models
    resistant to adversarial attacks", ICLR 2018. Croce and Hein, "Reliable
    evaluation of adversarial robustness with an ensemble of diverse
    parameter-free attacks", ICML 2020.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_adv.robustness import PGDAttack
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> model = LogisticRegression(max_iter=1000).fit(X, y)
    >>> attack = PGDAttack(model, eps=0.2, steps=20, bounds=(0, 1), random_state=0).fit(X)
    >>> X_adv = attack.generate(X[:100], y[:100])
    >>> float(abs(X_adv - X[:100]).max()) <= 0.2
    True
    >>> bool(model.score(X_adv, y[:100]) < model.score(X[:100], y[:100]))
    True
    """

    _parameter_constraints: dict = {
        **_Attack._parameter_constraints,
        "steps": [Interval(Integral, 1, None, closed="left")],
        "step_size": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"}), None],
        "restarts": [Interval(Integral, 1, None, closed="left")],
        "random_init": ["boolean"],
        "loss": [StrOptions({"cross_entropy", "margin", "alternate"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, estimator=None, *, eps=0.1, norm="inf", steps=50, step_size="auto", restarts=1, random_init=True,
                 loss="alternate", bounds=None, batch_size=512, random_state=None, verbose=0):
        self.estimator = estimator
        self.eps = eps
        self.norm = norm
        self.steps = steps
        self.step_size = step_size
        self.restarts = restarts
        self.random_init = random_init
        self.loss = loss
        self.bounds = bounds
        self.batch_size = batch_size
        self.random_state = random_state
        self.verbose = verbose

    def _check_access(self, X):
        torch_forward(self.estimator, X)  # a NotDifferentiableError (TypeError) names the black-box attack

    def _perturb(self, X, values, labels, lower, upper, seed):
        generator = torch.Generator().manual_seed(seed)
        # Features that the bounds fix (lower == upper in fit) spend no part of an L2 budget.
        movable = self.lower_ < self.upper_
        mask = None if movable.all() else torch.as_tensor(movable[None].astype(np.float64))
        losses = {"cross_entropy": [cross_entropy_loss], "margin": [margin_loss],
                  "alternate": [cross_entropy_loss, margin_loss]}[self.loss]
        adv = np.empty_like(values)
        for batch in gen_batches(len(values), self.batch_size):
            rows = X.iloc[batch] if hasattr(X, "iloc") else values[batch]
            forward = torch_forward(self.estimator, rows)
            x, y = torch.as_tensor(values[batch]), torch.as_tensor(labels[batch])
            best, fooled = None, None
            for restart in range(self.restarts):
                candidate = gradient_attack(
                    forward, x, y, eps=self.eps, norm=self.norm, steps=self.steps, step_size=self.step_size,
                    restarts=1, random_init=self.random_init or restart > 0,
                    lower=torch.as_tensor(lower[batch]), upper=torch.as_tensor(upper[batch]), mask=mask,
                    loss=losses[restart % len(losses)], generator=generator,
                )
                with torch.no_grad():
                    won = forward(candidate).argmax(1) != y
                if best is None:  # a row no run fools keeps the first run's point, of highest cross-entropy
                    best, fooled = candidate, won
                else:  # else the first run that fools it
                    take = won & ~fooled
                    best[take], fooled = candidate[take], fooled | won
            adv[batch] = best.numpy()
            if self.verbose:
                done = batch.stop
                fooled = (self.estimator.predict(_rows_like(X, adv[:done], slice(0, done), self.perturbed_columns_))
                          != self.estimator.classes_[labels[:done]]).sum()
                print(f"PGDAttack: {done}/{len(values)} rows attacked, {fooled} misclassified", flush=True)
        return adv


@plugins.register("evasion_attack", "fgsm")
def fgsm(estimator=None, **params):
    """FGSM (Goodfellow et al. 2015): a :class:`PGDAttack` of one full step from the row itself.

    Parameters
    ----------
    estimator : fitted classifier, default=None
    **params
        Other parameters of :class:`PGDAttack` (``eps``, ``norm``, ``bounds``, ...).

    Returns
    -------
    attack : PGDAttack
        With ``steps=1``, ``random_init=False``: one step of ``eps``.

    Examples
    --------
    >>> fgsm(eps=0.1).get_params()["steps"]
    1
    """
    return PGDAttack(estimator, **{"steps": 1, "random_init": False, **params})


# -----------------------------------------------------------------------------
# Black-box attack


@plugins.register("evasion_attack", "square")
class SquareAttack(_Attack):
    """Square Attack: a black-box random search that needs only the model's scores.

    Each row starts at a random vertex of the ball (stripes of ``+eps`` and
    ``-eps``) and, query by query, tries a new value for a random window of
    features, kept when it lowers the row's margin (the log-probability of
    its class minus the highest other one) (Andriushchenko et al. 2020). The
    window shrinks on the paper's schedule, from ``p_init`` of the features.
    For images the windows are squares with one sign per channel, as in the
    paper; for rows, random sets of features. A row stops being queried once
    misclassified. It works on any classifier with ``predict_proba`` or
    ``decision_function``: trees, boosting, pipelines, anything.

    Read more in the :ref:`User Guide <robustness>`.

    Parameters
    ----------
    estimator : fitted classifier, default=None
        The model to attack, never refitted (see :class:`PGDAttack`).
    eps : float, default=0.1
        Radius of the ball, in the units of ``X``.
    norm : {"inf", "2"}, default="inf"
        For L2, the window's new values are a random Gaussian draw carrying
        the window's share of the budget and whatever the row has left, so
        that the change stays on the sphere of radius ``eps`` (a simpler
        proposal than the paper's).
    max_queries : int, default=1000
        Largest number of model queries per row, the first included.
    p_init : float, default=0.3
        Fraction of the features in the first windows.
    bounds : tuple (lower, upper) or None, default=None
        As in :class:`PGDAttack`.
    random_state : int, RandomState instance or None, default=None
        Seeds the search: an int makes ``generate`` reproducible.
    verbose : int, default=0
        ``> 0`` prints, ten times over the query budget, the queries spent
        and the rows still correctly classified.

    Attributes
    ----------
    lower_, upper_ : ndarray of the shape of one row's perturbed values
    perturbed_columns_ : ndarray of str or None
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    PGDAttack : The gradient attack, stronger per query where gradients exist.

    Notes
    -----
    Categorical (and boolean) columns of a DataFrame are left untouched. A
    model's score is queried on whole batches of rows, one query per row
    still correctly classified at each step.

    References
    ----------
    Andriushchenko, Croce, Flammarion and Hein, "Square Attack: a
    query-efficient black-box adversarial attack via random search",
    ECCV 2020.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn_adv.robustness import SquareAttack
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(X[:1000], y[:1000])
    >>> attack = SquareAttack(forest, eps=0.2, max_queries=100, bounds=(0, 1), random_state=0).fit(X)
    >>> X_adv = attack.generate(X[1000:1100], y[1000:1100])
    >>> bool(forest.score(X_adv, y[1000:1100]) < forest.score(X[1000:1100], y[1000:1100]))
    True
    """

    _parameter_constraints: dict = {
        **_Attack._parameter_constraints,
        "max_queries": [Interval(Integral, 1, None, closed="left")],
        "p_init": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(self, estimator=None, *, eps=0.1, norm="inf", max_queries=1000, p_init=0.3, bounds=None,
                 random_state=None, verbose=0):
        self.estimator = estimator
        self.eps = eps
        self.norm = norm
        self.max_queries = max_queries
        self.p_init = p_init
        self.bounds = bounds
        self.random_state = random_state
        self.verbose = verbose

    def _check_access(self, X):
        if not (hasattr(self.estimator, "predict_proba") or hasattr(self.estimator, "decision_function")):
            raise TypeError(
                f"SquareAttack needs the model's scores: {type(self.estimator).__name__} has neither predict_proba "
                "nor decision_function."
            )

    def _margins(self, X, values, rows, labels):
        """Per row: the score of its class minus the highest other score (negative: misclassified)."""
        query = _rows_like(X, values, rows, self.perturbed_columns_)
        if hasattr(self.estimator, "predict_proba"):
            scores = np.log(np.clip(self.estimator.predict_proba(query), 1e-300, None))
        else:
            scores = np.asarray(self.estimator.decision_function(query), dtype=np.float64)
            if scores.ndim == 1:
                scores = np.c_[-scores, scores] / 2
        own = scores[np.arange(len(rows)), labels]
        scores[np.arange(len(rows)), labels] = -np.inf
        return own - scores.max(axis=1)

    def _perturb(self, X, values, labels, lower, upper, seed):
        rng = np.random.RandomState(seed)
        n, shape = len(values), values.shape[1:]
        images = len(shape) > 1
        channels, height, width = (1, *shape) if len(shape) == 2 else shape if images else (1, 1, shape[0])
        # Views of each row as (channels, height, width): rows are one line of features.
        x = values.reshape(n, channels, height, width)
        lo, hi = lower.reshape(x.shape), upper.reshape(x.shape)
        movable = np.broadcast_to((self.lower_ < self.upper_).reshape(1, channels, height, width), x.shape)

        def clip(delta):
            return np.clip(x_rows + delta, lo_rows, hi_rows) - x_rows

        # Start: vertical stripes of +-eps (each feature its own stripe for rows), or their L2 analogue.
        stripes = rng.choice([-1.0, 1.0], size=(n, channels, 1, width))
        delta = np.broadcast_to(stripes, x.shape) * movable
        if self.norm == "inf":
            delta = delta * self.eps
        else:
            delta = delta * self.eps / np.maximum(_norms(delta), 1e-12)
        x_rows, lo_rows, hi_rows = x, lo, hi
        delta = clip(delta)
        rows = np.arange(n)
        margin = self._margins(X, (x + delta).reshape(n, *shape), rows, labels)
        n_iter = self.max_queries - 1
        for it in range(n_iter):
            active = np.flatnonzero(margin > 0)
            if not len(active):
                break
            p = _p_selection(self.p_init, it, n_iter)
            x_rows, lo_rows, hi_rows = x[active], lo[active], hi[active]
            window = self._window(rng, len(active), p, channels, height, width, images) & movable[active]
            current = delta[active]
            proposal = current.copy()
            if self.norm == "inf":
                signs = rng.choice([-1.0, 1.0], size=(len(active), channels, 1, 1) if images else current.shape)
                proposal = np.where(window, self.eps * np.broadcast_to(signs, current.shape), current)
            else:
                inside = np.where(window, current, 0.0)
                # The window takes its own share of the budget and all that the row has left.
                room = np.sqrt(np.maximum(_norms(inside) ** 2 + self.eps ** 2 - _norms(current) ** 2, 0.0))
                draw = np.where(window, rng.normal(size=current.shape), 0.0)
                proposal = np.where(window, draw * room / np.maximum(_norms(draw), 1e-12), current)
            proposal = clip(proposal)
            new_margin = self._margins(X, (x_rows + proposal).reshape(len(active), *shape), active, labels[active])
            better = new_margin < margin[active]
            delta[active[better]] = proposal[better]
            margin[active[better]] = new_margin[better]
            if self.verbose and (it + 1) % max(n_iter // 10, 1) == 0:
                print(f"SquareAttack: {it + 2}/{self.max_queries} queries, {(margin > 0).sum()}/{n} rows still "
                      "correctly classified", flush=True)
        return (x + delta).reshape(n, *shape)

    @staticmethod
    def _window(rng, n, p, channels, height, width, images):
        """Where each row's proposal changes: one square for images, a random set of features for rows."""
        window = np.zeros((n, channels, height, width), dtype=bool)
        if images:
            side = int(min(max(round(np.sqrt(p * height * width)), 1), min(height, width) - 1 or 1))
            top, left = rng.randint(0, height - side + 1), rng.randint(0, width - side + 1)
            window[:, :, top:top + side, left:left + side] = True
        else:
            k = max(1, round(p * width))
            chosen = np.argsort(rng.random_sample((n, width)), axis=1)[:, :k]
            window[np.arange(n)[:, None], 0, 0, chosen] = True
        return window


def _rows_like(X, values, rows, columns):
    """Rows ``rows`` of ``X`` with their perturbed values replaced: a DataFrame for a DataFrame, else the values."""
    if not hasattr(X, "iloc"):
        return values
    query = X.iloc[rows].copy()
    query[list(columns)] = values
    return query


def _norms(t):
    """Per-row Euclidean norms, shaped to broadcast against ``t``."""
    return np.sqrt((t.reshape(len(t), -1) ** 2).sum(1)).reshape(-1, *([1] * (t.ndim - 1)))


def _p_selection(p_init, it, n_iter):
    """The fraction of features a window covers at iteration ``it``: Andriushchenko et al.'s halving schedule."""
    it = int(it / max(n_iter, 1) * 10000)  # the schedule was set for 10,000 iterations
    for limit, divisor in ((10, 1), (50, 2), (200, 4), (500, 8), (1000, 16), (2000, 32), (4000, 64), (6000, 128),
                           (8000, 256)):
        if it <= limit:
            return p_init / divisor
    return p_init / 512
