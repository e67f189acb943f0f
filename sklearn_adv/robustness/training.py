"""Adversarial training: a network classifier trained on attacks of its own batches."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context  # no public equivalent: validates parameters once per fit
from sklearn.utils import assert_all_finite
from sklearn.utils._param_validation import Interval, StrOptions  # no public API for parameter constraints
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_consistent_length, column_or_1d  # no public equivalent
from torch import nn

from sklearn_adv.nn import EncoderHead
from sklearn_adv.nn.base import ROLE_CONSTRAINT, NetworkClassifierMixin, NetworkEstimator, feature_size
from sklearn_adv.nn.perturbations import NORMS
from sklearn_adv.nn.robust import METHODS, RobustNet
from sklearn_adv.nn.sampling import batched_loader

UNLABELLED = -1

# Steps of the attack run inside training, per method, when attack_steps is None.
_DEFAULT_STEPS = {"pgd": 2, "trades": 1, "fgsm": 1, "vat": 1}
# Weight of the divergence term when beta is None.
_DEFAULT_BETA = {"trades": 6.0, "vat": 1.0}


class AdversarialTrainingClassifier(NetworkClassifierMixin, NetworkEstimator):
    """A network classifier trained against adversarial examples of its inputs.

    Each training batch is first attacked: every row is moved, within a
    distance ``eps`` in the ``norm`` and within the ``bounds`` of valid
    inputs, in the direction that most hurts the current network; the
    network then learns from the moved rows. The result predicts nearly as
    well on clean inputs and far better on attacked ones than a normally
    trained network (:class:`~sklearn_adv.NeuralClassifier`), at a few
    times its training cost. ``method`` chooses the recipe:

    - ``"trades"`` (Zhang et al. 2019, the default): cross-entropy of the
      clean rows plus ``beta`` times the KL divergence between the clean and
      the attacked prediction, the attack raising that divergence;
    - ``"pgd"`` (Madry et al. 2018): cross-entropy of rows attacked by
      projected gradient ascent from a random start;
    - ``"fgsm"`` (Wong et al. 2020): the same with one step from a random
      start, the fastest;
    - ``"vat"`` (Miyato et al. 2018): virtual adversarial training, a
      smoothness term that needs no labels: it also learns from rows marked
      ``y == -1`` (scikit-learn's semi-supervised convention).

    Read more in the :ref:`User Guide <adversarial_training>`.

    Parameters
    ----------
    encoder : None, str, torch.nn.Module class or instance, default=None
        The feature extractor. ``None`` builds the default for the data: an
        :class:`~sklearn_adv.nn.MLP` with two hidden layers of 256 units for
        rows, a :class:`~sklearn_adv.nn.ConvNet` with blocks of 64 and 128
        channels for images (wider than :class:`~sklearn_adv.NeuralClassifier`'s:
        robustness needs capacity). A name is looked
        up in the ``network`` plugin registry; a class is called as
        ``cls(in_shape, None, **encoder__params)``; an instance is copied,
        never trained in place.
    head : None, str, torch.nn.Module class or instance, default=None
        The classifier on the features; ``None`` is a linear layer.
    method : {"trades", "pgd", "fgsm", "vat"}, default="trades"
        The training recipe, see above.
    eps : float, default=0.1
        Radius of the perturbations trained against, in the units of the
        network's input (pixels in [0, 1]: 0.1 is a tenth of the range).
        ``0`` is normal training.
    norm : {"inf", "2"}, default="inf"
        The norm of the ball: L-infinity (every feature moves by at most
        ``eps``) or Euclidean.
    attack_steps : int, default=None
        Gradient steps of the attack in each training batch; ``None``: 1 for
        ``"trades"``, ``"fgsm"`` and ``"vat"``, 2 for ``"pgd"``. ``"fgsm"``
        and ``"vat"`` always take one. Each step costs about one more forward
        and backward pass.
    attack_step_size : float, default=None
        Size of an attack step as a fraction of ``eps`` (so that it follows
        ``eps`` in a grid search and during the warm-up); ``None``: 1.25,
        Wong et al.'s step for one step from a random start.
    beta : float, default=None
        Weight of the divergence term of ``"trades"`` and ``"vat"``;
        ``None``: 6 for ``"trades"`` (Zhang et al.'s choice), 1 for ``"vat"``.
    xi : float, default=1.0
        Radius of VAT's random probe. The paper's 1e-6 vanishes in the
        float32 finite difference; a radius comparable to the data's scale
        works.
    eps_warmup : float, default=0.2
        Fraction of training over which ``eps`` ramps up linearly from 0;
        ``0`` attacks at full radius from the first batch.
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy (torch's ``label_smoothing``).
    bounds : (lower, upper) pair, default=None
        Bounds of valid network inputs, each a float, an array broadcasting
        against one row (or image), or ``None`` for an open side. ``None``
        takes them from the data seen in fit: per column for rows, over all
        pixels of each channel for images.
    max_epochs : int, default=30
        Number of passes over the training rows. Each costs a few normal
        epochs; on digits, robust accuracy stopped improving after 30.
    batch_size : int, default=64
        Rows per batch.
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "sgd"} or torch.optim.Optimizer class, default="adam"
        ``"sgd"`` uses momentum 0.9.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the labelled rows (stratified)
        and stop when their clean loss has not improved for
        ``n_iter_no_change`` epochs, keeping the best epoch's weights.
    validation_fraction : float, default=0.1
        Fraction of the labelled rows held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    callbacks : list of skorch callbacks or (name, callback) pairs, default=None
        Added to the net's own (progress, divergence guard, early stopping).
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"``.
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` when images come as flat rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the batches, the attacks' random starts and
        the validation split. An int makes fits on the CPU reproducible.
    verbose : int, default=0
        ``> 0`` prints skorch's table of per-epoch losses.
    **role_params : dict
        Hyperparameters of the networks, prefixed by their role:
        ``encoder__hidden_units=(64,)``, ``encoder__channels=(16, 32)``.
        They work with ``set_params`` and
        :class:`~sklearn.model_selection.GridSearchCV`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (of the labelled rows).
    bounds_ : tuple of (ndarray or None, ndarray or None)
        The bounds adversarial examples were clipped to in training.
    net_ : sklearn_adv.nn.robust.RobustNet
        The trained skorch net; ``net_.module_.encoder`` and
        ``net_.module_.head`` are the two networks.
    history_ : skorch History
        Per epoch ``train_loss``, ``adversarial_accuracy`` (and
        ``clean_accuracy`` for ``"trades"`` and ``"vat"``) of the training
        batches; per batch ``eps``.
    n_features_in_ : int
        Number of features (columns, or channels for image arrays) seen in fit.
    feature_names_in_ : ndarray of str
        Defined when ``X`` is a DataFrame with string column names.
    input_encoder_ : TabularEncoder or None
        The encoder of a DataFrame with categorical columns; None otherwise.

    See Also
    --------
    sklearn_adv.NeuralClassifier : The same networks, trained normally.

    Notes
    -----
    The attack inside training is cheap on purpose (one or two steps, the
    last iterate): what counts is the robustness of the trained network,
    which must be measured with a strong attack (many steps, random
    restarts). An attack that fails does not prove that no adversarial
    example exists.

    In each batch the attack sees the network as the optimizer step trains
    it, batch normalisation with the batch's own statistics, but it neither
    updates the running statistics nor draws dropout masks. Its random
    starts come from the fit's own generator, so ``random_state`` makes fits
    reproducible, also in parallel threads.

    Inputs reach the network as given (DataFrames with categorical columns
    are encoded, numeric columns standardised): ``eps`` is read in the
    network's input units, so scale rows before choosing it. The one-hot
    columns of an encoded DataFrame are perturbed in training like the
    numbers, a relaxation of the threat model (an attacker can only switch
    a category).

    References
    ----------
    .. [1] Madry, Makelov, Schmidt, Tsipras and Vladu, "Towards deep learning
       models resistant to adversarial attacks", ICLR 2018.
    .. [2] Zhang, Yu, Jiao, Xing, El Ghaoui and Jordan, "Theoretically
       principled trade-off between robustness and accuracy", ICML 2019.
    .. [3] Wong, Rice and Kolter, "Fast is better than free: revisiting
       adversarial training", ICLR 2020.
    .. [4] Miyato, Maeda, Koyama and Ishii, "Virtual adversarial training: a
       regularization method for supervised and semi-supervised learning",
       IEEE TPAMI 2018.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_adv import AdversarialTrainingClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> images = X[:300].reshape(-1, 8, 8) / 16
    >>> clf = AdversarialTrainingClassifier(eps=0.1, max_epochs=5, random_state=0).fit(images, y[:300])
    >>> clf.predict(images[:5]).shape
    (5,)
    """

    _roles = {
        # Wider than NeuralClassifier's: robustness needs capacity. On digits images
        # TRADES reached 0.87-0.89 robust accuracy (eps 0.1) with 64 and 128 channels,
        # 0.83-0.85 with 32 and 64, 0.85-0.86 with a third block; the width of the
        # first blocks is what counts.
        "encoder": {"mlp": {"hidden_units": (256, 256)}, "convnet": {"channels": (64, 128)}},
        "head": {"mlp": {"hidden_units": ()}},  # a linear layer
    }

    _parameter_constraints = {
        **NetworkEstimator.shared_parameter_constraints,
        **NetworkEstimator.validation_parameter_constraints,
        "encoder": ROLE_CONSTRAINT,
        "head": ROLE_CONSTRAINT,
        "method": [StrOptions(set(METHODS))],
        "eps": [Interval(Real, 0, None, closed="left")],
        "norm": [StrOptions(set(NORMS))],
        "attack_steps": [Interval(Integral, 1, None, closed="left"), None],
        "attack_step_size": [Interval(Real, 0, None, closed="neither"), None],
        "beta": [Interval(Real, 0, None, closed="left"), None],
        "xi": [Interval(Real, 0, None, closed="neither")],
        "eps_warmup": [Interval(Real, 0, 1, closed="both")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "bounds": [tuple, list, None],
        "image_shape": [tuple, list, None],
    }

    def __init__(self, encoder=None, head=None, *, method="trades", eps=0.1, norm="inf", attack_steps=None,
                 attack_step_size=None, beta=None, xi=1.0, eps_warmup=0.2, label_smoothing=0.0, bounds=None,
                 max_epochs=30, batch_size=64, lr=1e-3, optimizer="adam", early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, callbacks=None, device="cpu", image_shape=None, random_state=None, verbose=0,
                 **role_params):
        self.encoder = encoder
        self.head = head
        self.method = method
        self.eps = eps
        self.norm = norm
        self.attack_steps = attack_steps
        self.attack_step_size = attack_step_size
        self.beta = beta
        self.xi = xi
        self.eps_warmup = eps_warmup
        self.label_smoothing = label_smoothing
        self.bounds = bounds
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.device = device
        self.image_shape = image_shape
        self.random_state = random_state
        self.verbose = verbose
        self._store_role_params(role_params)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the encoder and the head on adversarial examples of ``(X, y)``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), or images \
                (n_samples, H, W) / (n_samples, C, H, W)
        y : array-like of shape (n_samples,)
            Class labels; with ``method="vat"``, ``-1`` marks an unlabelled row.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows' losses; ``None``: every row weighs 1.

        Returns
        -------
        self : AdversarialTrainingClassifier
        """
        device = self._fit_device()  # an unavailable device is refused before any work
        X_net, in_shape = self._network_rows(X, reset=True, image_shape=self.image_shape)
        target, labelled = self._fit_targets(y, X_net)
        targets = {"target": target}
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X_net, ensure_non_negative=True, dtype=np.float32)
            if not sample_weight[labelled].any():
                raise ValueError("sample_weight is 0 on every labelled row: there is nothing to learn from.")
            targets["target_weight"] = sample_weight
        lower, upper = self._fit_bounds(X_net)
        rng = self._fit_random_state()
        rows = np.arange(len(X_net))
        # Only labelled rows are held out for validation; unlabelled rows all train.
        train_rows, valid_rows = self._validation_rows(rows[labelled], target[labelled], rng)
        train_rows = np.sort(np.concatenate([train_rows, rows[~labelled]]))
        train, valid = self._row_datasets(X_net, targets, train_rows, valid_rows)
        self._fit_net(lambda: self._build_net(in_shape, device, valid, lower, upper), train, None, rng)
        self._n_features_out = feature_size(self.net_.module_.encoder, in_shape)
        return self

    def _fit_targets(self, y, X_net):
        """Class indices of the rows (-1 for unlabelled rows, VAT only) and the mask of labelled rows; sets ``classes_``."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        y = column_or_1d(y, warn=True)
        check_consistent_length(X_net, y)
        unlabelled = _unlabelled_mask(y)
        if unlabelled.any() and self.method != "vat":
            raise ValueError(
                f"y has {int(unlabelled.sum())} rows labelled -1, scikit-learn's mark of unlabelled rows; only "
                f"method='vat' learns from unlabelled rows (method={self.method!r}). Drop them, or recode a class -1."
            )
        labels = y[~unlabelled]
        if len(labels) == 0:
            raise ValueError("y has no labelled row: every label is -1 (unlabelled). VAT needs some labelled rows.")
        if labels.dtype.kind in "fc":
            assert_all_finite(labels, input_name="y")
        check_classification_targets(labels)
        self.classes_, index = np.unique(labels, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has only one class ({self.classes_.tolist()[0]!r}) among its labelled rows; "
                "a classifier needs at least 2 classes."
            )
        target = np.full(len(y), UNLABELLED, dtype=np.int64)
        target[~unlabelled] = index
        return target, ~unlabelled

    def _fit_bounds(self, X_net):
        """Lower and upper bounds of valid network inputs, as tensors broadcasting against a batch; sets ``bounds_``."""
        if self.bounds is None:
            # Per column for rows; over all pixels of a channel for images (a pixel that is
            # always dark in the training images may still light up).
            axes = (0,) if X_net.ndim == 2 else (0, 2, 3)
            lower, upper = X_net.min(axis=axes, keepdims=True)[0], X_net.max(axis=axes, keepdims=True)[0]
        else:
            if len(self.bounds) != 2:
                raise ValueError(f"bounds must be a (lower, upper) pair, got {self.bounds!r}.")
            lower, upper = (None if b is None else np.asarray(b, dtype=np.float32) for b in self.bounds)
            if lower is not None and upper is not None and np.any(lower > upper):
                raise ValueError(f"bounds must have lower <= upper, got {self.bounds!r}.")
        self.bounds_ = (lower, upper)
        return tuple(None if b is None else torch.as_tensor(b, dtype=torch.float32) for b in (lower, upper))

    def _build_net(self, in_shape, device, valid_dataset, lower, upper):
        encoder = self._build_role("encoder", in_shape, None)
        head = self._build_role("head", (feature_size(encoder, in_shape),), len(self.classes_))
        split_params, stopping = self._early_stopping_params(valid_dataset)
        return RobustNet(
            EncoderHead(encoder, head),
            criterion=nn.CrossEntropyLoss(reduction="none", ignore_index=UNLABELLED, label_smoothing=self.label_smoothing),
            method=self.method,
            eps=self.eps,
            norm=self.norm,
            attack_steps=self.attack_steps or _DEFAULT_STEPS[self.method],
            attack_step_size=self.attack_step_size or 1.25,
            beta=_DEFAULT_BETA.get(self.method, 0.0) if self.beta is None else self.beta,
            xi=self.xi,
            eps_warmup=self.eps_warmup,
            lower=lower,
            upper=upper,
            iterator_train=batched_loader,
            iterator_train__shuffle=True,
            iterator_valid=batched_loader,
            **split_params,
            **self._net_params(device, callbacks=stopping),
        )

    def _network_input(self, X):
        return self._network_rows(X, reset=False, image_shape=self.image_shape)[0]


def _unlabelled_mask(y):
    """Rows labelled -1, scikit-learn's mark of unlabelled rows (numeric labels only)."""
    y = np.asarray(y)
    return y == UNLABELLED if y.dtype.kind in "iuf" else np.zeros(len(y), dtype=bool)
