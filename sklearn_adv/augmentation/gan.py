"""Conditional GAN augmentation of tables and images as a scikit-learn sampler."""

import copy
import inspect
from collections import OrderedDict
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from imblearn.utils import check_sampling_strategy
from scipy import sparse
from sklearn.base import _fit_context  # no public equivalent: validates parameters once per fit
from sklearn.utils._param_validation import Interval, StrOptions  # no public API for parameter constraints
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _check_y, check_consistent_length, check_is_fitted, validate_data  # _check_y: no public API

from sklearn_adv import plugins
from sklearn_adv.augmentation import _private
from sklearn_adv.augmentation._base import SamplerMixin, stack_like_input
from sklearn_adv.augmentation._gan_data import (
    BEFORE_THE_ENCODER,
    category_frequencies,
    training_by_sampling,
    warn_if_one_hot,
)
from sklearn_adv.nn.base import ROLE_CONSTRAINT, NetworkEstimator, feature_size
from sklearn_adv.nn.data import as_network_input, check_image_shape
from sklearn_adv.nn.dp_sgd import ClippedGradients
from sklearn_adv.nn.gan import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    GANNet,
    PrivateTraining,
    SpanActivation,
    apply_spectral_norm,
    poisson_row_loader,
)
from sklearn_adv.nn.utils import seed_from
from sklearn_adv.preprocessing import TabularEncoder

__all__ = ["GANAugmenter"]

_CLASS_TARGETS = ("binary", "multiclass")

# The networks' kinds for each kind of data: the generator's input is noise
# and conditions whatever the data, so the kind is not read from its shape.
_TABLE_KINDS = {"generator": "mlp", "discriminator": "mlp"}
_IMAGE_KINDS = {"generator": "dcgan_generator", "discriminator": "dcgan_discriminator"}

# What to do when the table reaching the GAN was one-hot encoded before it.

# Private training's "auto" settings: few, large steps (see _training_settings).
_PRIVATE_SAMPLE_RATE = 0.1
_PRIVATE_DISCRIMINATOR_LR_RATIO = 3.0
# The private generator ends on an exponential moving average of its weights (see PrivateTraining).
_PRIVATE_GENERATOR_AVERAGE = 0.9

# Settings of both players' Adam, as DCGAN and CTGAN train them.
_ADAM_SETTINGS = {"optimizer__betas": (0.5, 0.9), "optimizer__weight_decay": 1e-6}


class GANAugmenter(SamplerMixin, NetworkEstimator):
    """Synthetic rows or images from a conditional GAN: a generator and an imbalanced-learn sampler.

    Tables (a DataFrame, or a 2-d numeric array) are modelled as CTGAN does
    (Xu et al. 2019): numeric columns by mode-specific normalisation (a
    variational Gaussian mixture per column, see
    :class:`~sklearn_adv.preprocessing.TabularEncoder`), categorical columns as one-hot
    blocks the generator emits through a Gumbel-softmax, a conditional vector
    on one categorical column per row with training-by-sampling (rows drawn
    so that every category of that column appears with log-frequency, which
    teaches rare categories), and a discriminator that judges packs of
    ``pac`` rows (PacGAN, Lin et al. 2018) against mode collapse. Images
    (``(n, H, W)``, ``(n, C, H, W)``, or flat rows with ``image_shape``) get
    a small DCGAN (Radford et al. 2016).

    With class labels ``y`` the GAN is conditioned on the class: the
    generator reads its one-hot and the discriminator has an auxiliary
    classifier head (AC-GAN, Odena et al. 2017) learned on real rows, whose
    cross-entropy on generated rows the generator minimises, so that rows
    generated for a class look like that class.

    Parameters
    ----------
    sampling_strategy : float, str, dict, callable or int, default="auto"
        How many rows :meth:`fit_resample` adds, as in imbalanced-learn's
        over-samplers: ``"auto"`` (same as ``"not majority"``) balances the
        classes, ``"minority"``, ``"not minority"``, ``"all"``, a float ratio
        of minority to majority size (binary targets), a dict
        ``{class: n_rows_wanted}``, or a callable ``y -> dict``. A plain int
        adds that many rows in the proportions of the classes.
    max_epochs : int or "auto", default="auto"
        Passes over the data (``ceil(n_rows / batch_size)`` steps each).
        ``"auto"`` trains 2,000 steps (of each player) within 10 to 2,000
        epochs: a GAN needs steps rather than passes, and a fixed count of
        epochs starves small tables. On 500 rows of Adult at batch 500,
        100 epochs are 100 steps and gradient boosting trained on the
        synthetic rows reaches 0.77 of the ROC AUC real rows give; 1,000
        steps reach 0.97. On 30,000 rows 2,000 steps are 33 epochs. With
        ``epsilon`` set, ``"auto"`` is 10 epochs. The epochs run are
        ``n_epochs_``.
    batch_size : int or "auto", default="auto"
        Rows per step; rounded down to a multiple of ``pac``. ``"auto"``:
        500, or a tenth of the rows with ``epsilon`` set (then the expected
        number of rows of a Poisson-sampled step).
    noise_dim : int, default=128
        Size of the generator's noise input.
    loss : str or gan_loss plugin, default="bce"
        ``"bce"`` (alias ``"acgan"``): the non-saturating GAN loss, with
        AC-GAN's class terms when ``y`` is given; ``"wgan_gp"``: Wasserstein
        loss with gradient penalty, as CTGAN; or a registered name, class or
        instance of kind ``gan_loss`` (see :mod:`sklearn_adv.augmentation.gan_losses`).
    pac : int or "auto", default="auto"
        Rows per pack the discriminator judges together; ``"auto"`` is 10 for
        tables and 1 for images.
    discriminator_steps : int, default=1
        Discriminator steps per generator step.
    lr : float or "auto", default="auto"
        Learning rate of the generator's optimizer, and of the
        discriminator's unless ``discriminator_lr`` says otherwise.
        ``"auto"``: 2e-4, or 1e-3 with ``epsilon`` set.
    discriminator_lr : float or "auto", default="auto"
        Learning rate of the discriminator's optimizer. ``"auto"``: ``lr``,
        or three times ``lr`` with ``epsilon`` set (few, noisy steps).
    optimizer : {"adam", "sgd"} or torch optimizer class, default="adam"
        Of both players. ``"adam"`` has betas (0.5, 0.9) and weight decay
        1e-6, as DCGAN and CTGAN train; ``"sgd"`` has momentum 0.9; a class
        is given ``lr`` only.
    spectral_norm : bool, default=False
        Spectral normalisation (Miyato et al. 2018) of the discriminator's
        linear and convolution layers.
    discriminator_label_smoothing : float in [0, 1), default=0.0
        One-sided label smoothing (Salimans et al. 2016): the
        discriminator's targets for real rows are ``1 - smoothing`` (those
        of generated rows stay 0). For losses with targets (``"bce"``, or a
        loss class or instance with a ``label_smoothing`` parameter); a
        Wasserstein loss has none and refuses it.
    discriminator_mixup : float, default=0.0
        Mixup for the discriminator (Zhang et al. 2018): it also scores
        mixtures ``lam * real + (1 - lam) * generated`` (one ``lam ~
        Beta(alpha, alpha)`` per pack) with ``lam`` as their target; the
        value is ``alpha``, 0 switches it off. For losses with targets
        (a ``mixup_loss`` method, as ``"bce"``); refused otherwise.
    auxiliary_weight : float, default=1.0
        Weight of the auxiliary-classifier terms (when ``y`` is given); 0
        leaves the label as a plain generator input.
    cond_weight : float, default=1.0
        Weight of the generator's cross-entropy to the category it was
        conditioned on (tables).
    generator, discriminator : None, str, nn.Module class or instance, default=None
        The generator's body (input: noise and conditions; output: encoded
        rows, or images in [-1, 1]) and the discriminator's body (input: a
        pack; output: features, to which the realness and class heads are
        added). ``None``: an MLP with hidden units (256, 256) (batch norm in
        the generator, LeakyReLU and dropout 0.5 in the discriminator, no
        dropout with ``epsilon`` set) for tables; ``"dcgan_generator"`` / ``"dcgan_discriminator"`` for images.
        Their parameters are set as ``generator__hidden_units=(128, 128)``.
    categorical_features : "auto" or array-like, default="auto"
        Categorical columns of a table, as for :class:`~sklearn_adv.preprocessing.TabularEncoder`.
    numeric : {"mode_specific", "standard"}, default="mode_specific"
        How numeric columns are encoded (see :class:`~sklearn_adv.preprocessing.TabularEncoder`):
        mode-specific normalisation, which models columns with several modes,
        or plain standardisation, which is faster to fit.
    n_modes : int, default=10
        Largest number of mixture modes per numeric column.
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` when images come as flat rows.
    epsilon : float or None, default=None
        Train with (``epsilon``, ``delta``)-differential privacy for each
        training row: the discriminator by DP-SGD on Poisson-sampled
        batches, the noise calibrated so that the planned steps and the
        private preprocessing spend exactly ``epsilon``, and every other
        read of the data (numeric columns' distributions and bounds, class
        and category frequencies) through noisy histograms. Needs declared
        category levels (pandas ``category`` dtype) and public ``bounds``
        for images; see the user guide's "Releasing private synthetic
        data". ``None``: not private.
    delta : float or "auto", default="auto"
        The delta of the guarantee, below ``1 / n_samples``; ``"auto"`` is
        ``1 / (10 n_samples)``.
    max_grad_norm : float, default=1.0
        Each real row's gradient of the discriminator is clipped to this
        L2 norm (with ``epsilon`` set).
    bounds : dict, array-like or None, default=None
        Public bounds of numeric columns (with ``epsilon`` set): a dict
        column -> ``(low, high)``, one ``(low, high)`` pair for every column
        (and for the pixel values of images, where they are required), a
        sequence of pairs, or a ``(2, n_features)`` array of lows and highs.
        Values outside are clipped. A numeric column without bounds gets
        them from a noisy histogram on a grid of powers of two, paid from
        the budget. Ignored without ``epsilon``.
    privacy_split : float in (0, 1), default=0.1
        Fraction of ``epsilon`` that the noisy histograms of the
        preprocessing spend together; the DP-SGD steps spend the rest.
    callbacks : list of skorch callbacks or None, default=None
        Added to the net's own (progress, divergence guard).
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
    random_state : int, RandomState instance or None, default=None
        Seeds the encoder's mixtures, the weights, the batches, the noise of
        training and that of the rows :meth:`fit_resample` adds; with an int,
        results on the CPU are reproducible. :meth:`sample` takes a
        ``random_state`` of its own.
    verbose : int, default=0
        Above 0 prints skorch's table of the losses after every epoch.
    **role_params
        ``generator__<param>`` and ``discriminator__<param>``.

    Attributes
    ----------
    generator_ : torch.nn.Module
        The trained generator (the net's ``module_``): ``generator_(z, cond)`` maps noise of shape
        ``(n, noise_dim)`` and the conditions (class one-hot, then the
        categorical condition) to encoded rows, or to images in [-1, 1].
    discriminator_ : callable
        ``discriminator_(X)`` gives one realness score per record of ``X``
        (records in the format given to fit; higher means "more like the
        training data"): the trained discriminator, with each record packed
        with copies of itself and, for tables, averaged over the categorical
        conditions. Its torch module is ``discriminator_.module``. A
        category not seen in fit is encoded as an all-zero one-hot block
        rather than raising.
    net_ : GANNet
        The skorch net that trained both.
    n_epochs_ : int
        Epochs of the training: ``max_epochs``, or what ``"auto"`` chose for the
        number of rows; early stopping may end it sooner.
    history_ : skorch History
        Per epoch: ``generator_loss``, ``discriminator_loss`` and, with
        labels, ``auxiliary_accuracy`` (of the class head on real rows).
        With ``epsilon`` set nothing computed on real rows is recorded: the
        discriminator's loss and accuracy are on the fakes, and the batch
        size is the expected one.
    encoder_ : TabularEncoder or None
        The encoding of table columns (None for images).
    classes_ : ndarray or None
        The class labels of ``y`` (None when fitted without ``y``).
    class_counts_ : ndarray or None
        Rows per class in fit (with ``epsilon`` set: noisy counts, negative
        ones set to 0).
    sampling_strategy_ : OrderedDict
        ``{class: rows to add}`` of the last :meth:`fit_resample`.
    sample_weight_ : ndarray
        1 for every row returned by the last :meth:`fit_resample`.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When ``X`` has string column names.
    epsilon_, delta_ : float
        With ``epsilon`` set: the privacy spent by the fit, from
        ``accountant_``; ``epsilon_`` never exceeds ``epsilon``.
    accountant_ : sklearn_adv.nn.privacy.RDPAccountant
        The Rényi differential privacy of the preprocessing and the steps.
    noise_multiplier_ : float
        Standard deviation of the DP-SGD noise over ``max_grad_norm``.
    steps_ : int
        DP-SGD steps taken.

    See Also
    --------
    sklearn_adv.augmentation.quality.quality_report : Is the synthetic data new, diverse and useful?
    imblearn.over_sampling.SMOTENC : Interpolating over-sampler for mixed data.

    Notes
    -----
    Missing values in a table are modelled: a numeric column with missing
    values in fit gets a missing-value indicator that the generator also
    produces (so synthetic rows have missing values at about the same rate),
    and a missing category is a category of its own (see
    :class:`~sklearn_adv.preprocessing.TabularEncoder`). Images must be finite.

    With ``epsilon`` set, the fit is differentially private for each
    training row (DP-SGD, Abadi et al. 2016; an RDP accountant, Mironov et
    al. 2019): the discriminator sees real rows only through clipped, noised
    per-row gradients on Poisson-sampled batches, the generator only through
    the discriminator, and the fakes' labels and conditions are drawn from
    noisy frequencies. Numeric columns are encoded by a private quantile
    map between bounds (not by the mixtures of ``numeric``), categorical
    columns over their declared levels. Column names, given bounds and
    declared levels are public, not protected. ``pac`` must be 1 (``"auto"``
    gives 1), and ``spectral_norm``, the ``"wgan_gp"`` loss,
    ``discriminator_steps`` above 1 and a discriminator with batch
    normalisation are refused.

    Categorical columns must reach the GAN unencoded, so that it generates
    whole categories: in a pipeline it goes before any one-hot encoder. A
    sparse ``X`` is refused, and numeric columns that look one-hot encoded
    get a warning.

    Generated tables have the columns, dtypes and categories of the input;
    integer columns stay integer and numeric values stay within the range
    seen in fit. Images come back in the value range seen in fit (the GAN
    works on the range mapped to [-1, 1]) and in the input's layout.

    References
    ----------
    Xu, Skoularidou, Cuesta-Infante & Veeramachaneni (2019). Modeling Tabular
    Data using Conditional GAN. NeurIPS.
    Odena, Olah & Shlens (2017). Conditional Image Synthesis with Auxiliary
    Classifier GANs. ICML.
    Lin, Khetan, Fanti & Oh (2018). PacGAN: The power of two samples in
    generative adversarial networks. NeurIPS.
    Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville (2017). Improved
    Training of Wasserstein GANs. NeurIPS.
    Miyato, Kataoka, Koyama & Yoshida (2018). Spectral Normalization for
    Generative Adversarial Networks. ICLR.
    Abadi, Chu, Goodfellow, McMahan, Mironov, Talwar & Zhang (2016). Deep
    Learning with Differential Privacy. CCS.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_adv import GANAugmenter
    >>> rng = np.random.RandomState(0)
    >>> X = pd.DataFrame({"age": rng.randint(18, 80, 60),
    ...                   "job": pd.Categorical(rng.choice(["a", "b", "c"], 60), categories=["a", "b", "c"])})
    >>> y = np.r_[np.zeros(45, int), np.ones(15, int)]
    >>> gan = GANAugmenter(max_epochs=2, batch_size=30, random_state=0,
    ...                    generator__hidden_units=(16,), discriminator__hidden_units=(16,))
    >>> X_res, y_res = gan.fit_resample(X, y)
    >>> len(X_res), np.bincount(y_res).tolist()
    (90, [45, 45])
    >>> X_res.dtypes.equals(X.dtypes) and X_res.iloc[:60].equals(X)
    True
    >>> rows, labels = gan.sample(5, y=1)
    >>> rows.shape, labels.tolist()
    ((5, 2), [1, 1, 1, 1, 1])

    Trained with differential privacy (public bounds for the numeric column,
    the categories declared by the dtype):

    >>> private = GANAugmenter(epsilon=1.0, bounds={"age": (18, 80)}, random_state=0,
    ...                        generator__hidden_units=(16,), discriminator__hidden_units=(16,)).fit(X, y)
    >>> private.epsilon_ <= 1.0, private.steps_
    (True, 100)
    """

    # Defaults of the networks built when a role is None (or names the
    # default kind): an MLP for tables, DCGAN networks for images;
    # role__param hyperparameters override them key by key.
    _shared_roles = {
        "generator": {"mlp": {"hidden_units": (256, 256), "batch_norm": True}, "dcgan_generator": {}},
        "discriminator": {
            "mlp": {"hidden_units": (256, 256), "activation": "leaky_relu", "dropout": 0.5},
            "dcgan_discriminator": {},
        },
    }
    # Private training's noise already regularises the discriminator: no dropout on top.
    _private_roles = {
        "generator": _shared_roles["generator"],
        "discriminator": {
            "mlp": {"hidden_units": (256, 256), "activation": "leaky_relu", "dropout": 0.0},
            "dcgan_discriminator": {"dropout": 0.0},
        },
    }

    @property
    def _roles(self):
        return self._shared_roles if getattr(self, "epsilon", None) is None else self._private_roles

    # The multi-tensor Adam: the fused kernel's other rounding, amplified
    # by the adversarial game, would give other samples for a random_state.
    _fused_adam = False

    _parameter_constraints = {
        **NetworkEstimator.shared_parameter_constraints,
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "discriminator_lr": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "sampling_strategy": [Interval(Real, 0, 1, closed="right"), Interval(Integral, 0, None, closed="left"),
                              StrOptions({"auto", "minority", "not minority", "not majority", "all"}), dict, callable],
        "noise_dim": [Interval(Integral, 1, None, closed="left")],
        "loss": "no_validation",
        "pac": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "discriminator_steps": [Interval(Integral, 1, None, closed="left")],
        "spectral_norm": ["boolean"],
        "discriminator_label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "discriminator_mixup": [Interval(Real, 0, None, closed="left")],
        "auxiliary_weight": [Interval(Real, 0, None, closed="left")],
        "cond_weight": [Interval(Real, 0, None, closed="left")],
        "generator": ROLE_CONSTRAINT,
        "discriminator": ROLE_CONSTRAINT,
        "categorical_features": ["array-like", StrOptions({"auto"}), None],
        "numeric": [StrOptions({"mode_specific", "standard"})],
        "n_modes": [Interval(Integral, 1, None, closed="left")],
        "image_shape": [tuple, list, None],
        "epsilon": [Interval(Real, 0, None, closed="neither"), None],
        "delta": [Interval(Real, 0, 1, closed="neither"), StrOptions({"auto"})],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither")],
        "bounds": [dict, "array-like", None],
        "privacy_split": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        sampling_strategy="auto",
        *,
        max_epochs="auto",
        batch_size="auto",
        noise_dim=128,
        loss="bce",
        pac="auto",
        discriminator_steps=1,
        lr="auto",
        discriminator_lr="auto",
        optimizer="adam",
        spectral_norm=False,
        discriminator_label_smoothing=0.0,
        discriminator_mixup=0.0,
        auxiliary_weight=1.0,
        cond_weight=1.0,
        generator=None,
        discriminator=None,
        categorical_features="auto",
        numeric="mode_specific",
        n_modes=10,
        image_shape=None,
        epsilon=None,
        delta="auto",
        max_grad_norm=1.0,
        bounds=None,
        privacy_split=0.1,
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
        **role_params,
    ):
        self.sampling_strategy = sampling_strategy
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.noise_dim = noise_dim
        self.loss = loss
        self.pac = pac
        self.discriminator_steps = discriminator_steps
        self.lr = lr
        self.discriminator_lr = discriminator_lr
        self.optimizer = optimizer
        self.spectral_norm = spectral_norm
        self.discriminator_label_smoothing = discriminator_label_smoothing
        self.discriminator_mixup = discriminator_mixup
        self.auxiliary_weight = auxiliary_weight
        self.cond_weight = cond_weight
        self.generator = generator
        self.discriminator = discriminator
        self.categorical_features = categorical_features
        self.numeric = numeric
        self.n_modes = n_modes
        self.image_shape = image_shape
        self.epsilon = epsilon
        self.delta = delta
        self.max_grad_norm = max_grad_norm
        self.bounds = bounds
        self.privacy_split = privacy_split
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self._store_role_params(role_params)

    # -- fitting ---------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the GAN on ``X``, conditioned on the class labels ``y`` when given.

        Parameters
        ----------
        X : DataFrame, array-like of shape (n_samples, n_features), (n, H, W) or (n, C, H, W)
        y : array-like of shape (n_samples,) or None, default=None
            Class labels to condition on.

        Returns
        -------
        self : GANAugmenter
        """
        self._fit(X, y, self._fit_random_state())
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y):
        """Train the GAN, then return the original rows, in order, followed by synthetic rows.

        Parameters
        ----------
        X : DataFrame, array-like of shape (n_samples, n_features), (n, H, W) or (n, C, H, W)
        y : array-like of shape (n_samples,)
            Class labels; ``sampling_strategy`` says how many rows of each
            class to add.

        Returns
        -------
        X_resampled, y_resampled
            Of the same types as ``X`` and ``y``.
        """
        if y is None:
            raise ValueError("fit_resample needs class labels y; use fit(X) and sample(n) to generate without labels.")
        rng = self._fit_random_state()
        X_valid, y_valid = self._fit(X, y, rng)
        self.sampling_strategy_ = self._rows_to_add(y_valid)
        labels = np.concatenate(
            [np.full(n, label, dtype=y_valid.dtype) for label, n in self.sampling_strategy_.items()] or [y_valid[:0]]
        )
        X_new = self._generate(labels, seed=rng.randint(np.iinfo(np.int32).max))
        self.sample_weight_ = np.ones(len(y_valid) + len(labels))
        y_new = pd.Series(labels).astype(y.dtype) if isinstance(y, pd.Series) else labels  # Int64, category stay
        return stack_like_input(X, X_valid, X_new), stack_like_input(y, y_valid, y_new)

    def _fit(self, X, y, rng):
        X_valid, y_valid = self._validate(X, y)
        device = self._fit_device()  # an unavailable device is refused before any work
        loss = plugins.resolve("gan_loss", self.loss)
        if not (isinstance(loss, torch.nn.Module) or callable(loss)):
            raise TypeError(f"loss must be a registered gan_loss name, class or instance, got {self.loss!r}.")
        loss = self._discriminator_options(loss)

        if y_valid is not None:
            self.classes_, codes, self.class_counts_ = np.unique(y_valid, return_inverse=True, return_counts=True)
            n_classes = len(self.classes_)
        else:
            self.classes_, codes, self.class_counts_, n_classes = None, None, None, 0

        data = {}
        privacy = None
        if self.epsilon is not None:
            data, cond_spans, privacy = self._private_data(X_valid, codes, n_classes, loss, rng)
            row_weights = None
        elif self._is_images_:
            images, self.image_shape_ = as_network_input(X_valid, self.image_shape)
            self._input_row_shape_, self._input_dtype_ = X_valid.shape[1:], X_valid.dtype
            self.data_min_, self.data_max_ = float(images.min()), float(images.max())
            data["real"] = self._scale_images(images).astype(np.float32)
            self.encoder_, cond_spans, row_weights = None, [], None
        else:
            self.encoder_ = TabularEncoder(
                categorical_features=self.categorical_features,
                numeric=self.numeric,
                n_modes=self.n_modes,
                handle_unknown="ignore",  # the discriminator scores records with categories unseen in fit
                random_state=rng.randint(np.iinfo(np.int32).max),
            )
            encoded = self.encoder_.fit_transform(X_valid)
            warn_if_one_hot(X_valid, self.encoder_.is_categorical_)
            data["real"] = np.ascontiguousarray(encoded, dtype=np.float32)
            cond_spans = [(s.start, s.stop) for s in self.encoder_.categorical_spans_]
            row_weights, cond_weights = training_by_sampling(data["real"], cond_spans, codes, n_classes)
            if cond_spans:
                data["cond_weights"] = cond_weights
            self._category_frequencies_ = category_frequencies(data["real"], cond_spans, codes, n_classes)
        if codes is not None:
            data["label"] = codes.astype(np.int64)
        self._cond_spans_ = cond_spans

        self.pac_ = (1 if self._is_images_ or privacy is not None else 10) if self.pac == "auto" else int(self.pac)
        n_rows = len(data["real"])
        if n_rows < self.pac_:
            raise ValueError(f"X has {n_rows} rows, fewer than pac={self.pac_} rows per pack; lower pac.")
        settings = self._training_settings(n_rows)
        loader = {"iterator_train__weights": row_weights, "iterator_train__pac": self.pac_}
        if privacy is not None:
            privacy, loader = self._plan_private_steps(privacy, n_rows, settings)

        def build_net():
            generator, discriminator = self._build_networks(data["real"].shape[1:], n_classes, cond_spans)
            if privacy is not None:
                _check_clippable(discriminator)
            return GANNet(
                generator,
                discriminator,
                criterion=loss,
                noise_dim=self.noise_dim,
                n_classes=n_classes,
                cond_spans=cond_spans,
                adversary_steps=self.discriminator_steps,
                discriminator_mixup=self.discriminator_mixup,
                auxiliary_weight=self.auxiliary_weight,
                cond_weight=self.cond_weight,
                privacy=privacy,
                **loader,
                **{**self._net_params(device), **settings},
                **(_ADAM_SETTINGS if self.optimizer == "adam" else {}),
            )

        # Training draws from a stream of its own, so that networks of another
        # size train on the same batches and noise. The net leaves both
        # players in evaluation mode.
        self._fit_net(build_net, data, None, rng, fresh_training_stream=True)
        if privacy is not None:
            # What was spent: the preprocessing, then the steps taken (fewer than planned if a callback stopped the fit).
            self.steps_ = int(self.net_.steps_)
            self.accountant_.spend(self.noise_multiplier_, self._sample_rate_, self.steps_)
            self.epsilon_ = self.accountant_.epsilon(self.delta_)
        self.discriminator_ = _RecordDiscriminator(self)
        return X_valid, y_valid

    # -- differential privacy --------------------------------------------------

    def _private_data(self, X, codes, n_classes, loss, rng):
        """The private fit's data, conditions and frequencies, each read of the rows paid from the budget.

        Returns ``(data, cond_spans, PrivateTraining without its noise)``.
        """
        self._check_private_settings(loss)
        n_rows = len(X)
        self.delta_ = _private.resolve_delta(self.delta, n_rows)
        self.accountant_ = _private.new_accountant()
        budget = (self.privacy_split * self.epsilon, self.delta_)
        noise_rng = np.random.RandomState(rng.randint(np.iinfo(np.int32).max))
        data = {}
        if self._is_images_:
            if self.bounds is None or np.shape(self.bounds) != (2,):
                raise ValueError(
                    "With epsilon set, images need bounds=(low, high): the public range of their values, e.g. "
                    "(0, 255) for 8-bit pixels (reading it from the images would release it)."
                )
            images, self.image_shape_ = as_network_input(X, self.image_shape)
            self._input_row_shape_, self._input_dtype_ = X.shape[1:], X.dtype
            self.data_min_, self.data_max_ = (float(v) for v in self.bounds)
            if not self.data_min_ < self.data_max_:
                raise ValueError(f"bounds must be (low, high) with low < high, got {self.bounds!r}.")
            data["real"] = self._scale_images(np.clip(images, self.data_min_, self.data_max_)).astype(np.float32)
            counts = _private.PrivateCounts(1 if n_classes else 0, *budget, noise_rng)
            class_counts = counts.noisy(np.bincount(codes, minlength=n_classes)) if n_classes else None
            self.encoder_, cond_spans, frequencies = None, [], [[]]
        else:
            self.encoder_, encoded, class_counts, frequencies, counts = _private.private_table(
                X, codes, n_classes, bounds=self.bounds, categorical_features=self.categorical_features,
                counts_budget=budget, rng=noise_rng,
            )
            data["real"] = np.ascontiguousarray(encoded, dtype=np.float32)
            cond_spans = [(s.start, s.stop) for s in self.encoder_.categorical_spans_]
        counts.spend(self.accountant_)
        self._category_frequencies_ = frequencies
        class_p = None
        if n_classes:
            self.class_counts_ = np.clip(class_counts, 0.0, None)
            class_p = _private.frequencies(class_counts)
            if self.class_counts_.sum() <= 0:
                self.class_counts_ = np.ones(n_classes)
        settings = PrivateTraining(
            noise_multiplier=None, max_grad_norm=float(self.max_grad_norm), expected_batch_size=0,
            class_probabilities=class_p, category_probabilities=frequencies,
            generator_average=_PRIVATE_GENERATOR_AVERAGE,
        )
        return data, cond_spans, settings

    def _check_private_settings(self, loss):
        refusals = {
            "pac": (self.pac not in ("auto", 1), f"pac={self.pac!r}: packs mix rows, so one row's removal changes others'"
                    " packs; use pac=1 or 'auto' with epsilon set."),
            "spectral_norm": (self.spectral_norm, "spectral_norm=True: the engine clips per-row gradients of plain "
                              "Linear and Conv2d layers only; turn it off with epsilon set."),
            "discriminator_steps": (self.discriminator_steps != 1, "discriminator_steps must be 1 with epsilon set: each"
                                    " private step draws its own Poisson sample of the rows."),
            "discriminator_mixup": (self.discriminator_mixup != 0, "discriminator_mixup must be 0 with epsilon set: "
                                    "mixtures of real and fake rows would carry real rows into the discriminator's "
                                    "gradient unclipped."),
        }
        for _, (refused, message) in refusals.items():
            if refused:
                raise ValueError(message)
        loss_class = loss if isinstance(loss, type) else type(loss)
        if loss_class is not plugins.resolve("gan_loss", "bce"):
            raise ValueError(
                f"loss={self.loss!r} with epsilon set: private training needs each real row's own loss, which the "
                "'bce' loss has; the WGAN-GP penalty mixes real and fake rows. Use loss='bce'."
            )

    def _epochs_for(self, n_rows):
        return self._training_settings(n_rows)["max_epochs"]

    def _training_settings(self, n_rows):
        """``max_epochs``, ``batch_size``, ``lr`` (and the discriminator's) with ``"auto"`` resolved, as skorch takes them.

        Not private: about 2,000 steps (the base's budget) of batches of 500
        rows at learning rate 2e-4 for both players. Private: few, large, noisy steps: batches of a
        tenth of the rows (Poisson sampling rate 0.1), 10 epochs, learning
        rate 1e-3 and three times that for the discriminator.
        """
        private = self.epsilon is not None
        batch_size = self.batch_size
        if batch_size == "auto":
            batch_size = max(1, round(_PRIVATE_SAMPLE_RATE * n_rows)) if private else 500
        if self.max_epochs == "auto" and private:
            max_epochs = 10
        else:  # a number, or the base's budget of steps
            max_epochs = NetworkEstimator._epochs_for(self, n_rows, batch_size)
        settings = {"max_epochs": max_epochs, "batch_size": batch_size,
                    "lr": (1e-3 if private else 2e-4) if self.lr == "auto" else self.lr}
        if self.discriminator_lr != "auto":
            settings["adversary_optimizer__lr"] = self.discriminator_lr
        elif private:
            settings["adversary_optimizer__lr"] = _PRIVATE_DISCRIMINATOR_LR_RATIO * settings["lr"]
        return settings

    def _plan_private_steps(self, settings, n_rows, training):
        """The Poisson sampling, the planned steps, and the noise that spends the rest of the budget over them."""
        max_epochs = training["max_epochs"]
        batch_size = min(int(training["batch_size"]), n_rows)
        self._sample_rate_ = batch_size / n_rows
        n_batches = max(1, int(np.ceil(n_rows / batch_size)))
        planned = int(max_epochs) * n_batches
        try:
            self.noise_multiplier_ = _private.calibrated_noise(
                float(self.epsilon), self.delta_, self._sample_rate_, planned, tuple(self.accountant_.rdp.tolist())
            )
        except ValueError as exc:
            raise ValueError(
                f"epsilon={self.epsilon} is spent by the private preprocessing alone (privacy_split="
                f"{self.privacy_split}); raise epsilon or lower privacy_split."
            ) from exc
        if self.noise_multiplier_ > _private.MAX_NOISE_MULTIPLIER:
            raise ValueError(
                f"epsilon={self.epsilon} is too small for {n_rows} rows and {planned} steps (max_epochs="
                f"{max_epochs}, batch_size={batch_size}): the noise would be {self.noise_multiplier_:.0f} times "
                "the clipped gradients' norm at each step. Raise epsilon, lower max_epochs, raise batch_size, or "
                "give more rows."
            )
        settings.noise_multiplier = self.noise_multiplier_
        settings.expected_batch_size = max(1, int(round(batch_size)))
        loader = {
            "iterator_train": poisson_row_loader,
            "iterator_train__sample_rate": self._sample_rate_,
            "iterator_train__n_batches": n_batches,
        }
        return settings, loader

    @property
    def generator_(self):
        """The trained generator: the net's ``module_`` (so it pickles and moves with the net)."""
        return self.net_.module_

    def _validate(self, X, y):
        if sparse.issparse(X):
            raise TypeError(
                "X is a sparse matrix, as a OneHotEncoder outputs by default; GANAugmenter models categorical "
                f"columns itself and needs them unencoded. {BEFORE_THE_ENCODER}"
            )
        if isinstance(X, pd.DataFrame):
            if self.image_shape is not None:
                raise ValueError("image_shape is for images given as flat numeric rows, not for a DataFrame.")
            validate_data(self, X, skip_check_array=True)
            if X.shape[0] == 0 or X.shape[1] == 0:
                raise ValueError(f"X is an empty DataFrame of shape {X.shape}; at least 2 rows and 1 column are needed.")
            if y is not None:
                y = _check_y(y, y_numeric=False)
                check_consistent_length(X, y)
            self._is_images_ = False
        else:
            images = self.image_shape is not None or np.ndim(X) in (3, 4)
            finite = True if images or self.epsilon is not None else "allow-nan"
            if y is None:
                X = validate_data(self, X, allow_nd=True, dtype=[np.float64, np.float32], ensure_all_finite=finite)
            else:
                X, y = validate_data(
                    self, X, y, allow_nd=True, dtype=[np.float64, np.float32], ensure_all_finite=finite
                )
            if X.ndim not in (2, 3, 4):
                raise ValueError(f"X must be rows (n, n_features) or images (n, H, W) / (n, C, H, W), got shape {X.shape}.")
            if X.ndim == 2 and self.image_shape is not None:
                check_image_shape(self.image_shape, X.shape[1])
            self._is_images_ = images
        if len(X) < 2:
            raise ValueError(f"GANAugmenter needs at least 2 rows, got n_samples = {len(X)}.")
        if y is not None:
            y = np.asarray(y)
            target_type = type_of_target(y, input_name="y", raise_unknown=True)
            if target_type not in _CLASS_TARGETS:
                raise ValueError(f"y must hold class labels (binary or multiclass) to condition on, got a {target_type} target.")
            if len(np.unique(y)) < 2:
                raise ValueError("y holds a single class; pass at least two classes, or fit(X) without y.")
        return X, y

    def _discriminator_options(self, loss):
        """The GAN loss with ``discriminator_label_smoothing`` set; a loss without targets refuses the options.

        A class is built with the smoothing; an instance is copied (the
        caller's is never changed) and given it.
        """
        smoothing, mixup = self.discriminator_label_smoothing, self.discriminator_mixup
        name = getattr(loss, "__name__", type(loss).__name__)
        if mixup and not hasattr(loss, "mixup_loss"):
            raise ValueError(
                f"discriminator_mixup={mixup} needs a GAN loss with targets (a mixup_loss method, as loss='bce' has); "
                f"the loss {name} has none. Use loss='bce', or discriminator_mixup=0."
            )
        if not smoothing:
            return loss
        if isinstance(loss, type):
            takes = "label_smoothing" in inspect.signature(loss).parameters
        else:
            takes = hasattr(loss, "label_smoothing")
        if not takes:
            raise ValueError(
                f"discriminator_label_smoothing={smoothing} smooths the discriminator's real targets, but the loss "
                f"{name} has no targets to smooth (no label_smoothing parameter; a Wasserstein loss has none). "
                "Use loss='bce', or discriminator_label_smoothing=0."
            )
        if isinstance(loss, type):
            return loss(label_smoothing=smoothing)
        loss = copy.deepcopy(loss)
        loss.label_smoothing = smoothing
        return loss

    def _build_networks(self, in_shape, n_classes, cond_spans):
        """The generator (body and output activations) and the discriminator (body and heads) for ``in_shape``."""
        cond_dim = sum(stop - start for start, stop in cond_spans)
        kinds = _IMAGE_KINDS if self._is_images_ else _TABLE_KINDS
        gen_in = (self.noise_dim + n_classes + cond_dim,)
        if self._is_images_:
            body = self._build_role("generator", gen_in, tuple(in_shape), kind=kinds["generator"])
            generator = ConditionalGenerator(body)
            c, h, w = in_shape
            pack_shape = (c * self.pac_, h, w)
        else:
            n_out = int(in_shape[0])
            body = self._build_role("generator", gen_in, n_out, kind=kinds["generator"])
            spans = [(s.start, s.stop, s.kind) for s in self.encoder_.output_info_]
            # A private table's numeric scalars lie in [-1, 1] whatever ``numeric`` says.
            unbounded = self.numeric == "standard" and self.epsilon is None
            generator = ConditionalGenerator(body, SpanActivation(spans, standard_numeric=unbounded))
            pack_shape = ((n_out + cond_dim) * self.pac_,)
        disc_body = self._build_role("discriminator", pack_shape, None, kind=kinds["discriminator"])
        discriminator = ConditionalDiscriminator(disc_body, feature_size(disc_body, pack_shape), self.pac_, n_classes)
        if self.spectral_norm:
            apply_spectral_norm(discriminator)
        return generator, discriminator

    def _rows_to_add(self, y):
        if isinstance(self.sampling_strategy, Integral) and not isinstance(self.sampling_strategy, bool):
            total = int(self.sampling_strategy)
            classes, counts = np.unique(y, return_counts=True)
            shares = counts / counts.sum() * total
            rows = np.floor(shares).astype(int)
            rows[np.argsort(-(shares - rows), kind="stable")[: total - rows.sum()]] += 1
            return OrderedDict((label, int(n)) for label, n in zip(classes, rows))
        strategy = check_sampling_strategy(self.sampling_strategy, y, "over-sampling")
        return OrderedDict((label, int(n)) for label, n in strategy.items())

    # -- generating ------------------------------------------------------------

    def sample(self, n_samples, y=None, random_state=None):
        """Draw ``n_samples`` synthetic rows (or images).

        Parameters
        ----------
        n_samples : int
        y : None, a class label, or array-like of shape (n_samples,), default=None
            The class of the rows: ``None`` draws classes in the proportions
            seen in fit (or generates unconditionally when fitted without
            ``y``); one label gives every row that class; an array gives each
            row's class.
        random_state : int, RandomState instance or None, default=None
            Seeds the noise; None draws it from numpy's global generator.

        Returns
        -------
        X_new : DataFrame or ndarray
            In the format of fit's ``X``.
        y_new : ndarray of shape (n_samples,)
            The classes, returned (as ``(X_new, y_new)``) only when the GAN
            was fitted with ``y``.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 0:
            raise ValueError(f"n_samples must be a non-negative int, got {n_samples!r}.")
        rng = np.random.RandomState(seed_from(random_state))
        if self.classes_ is None:
            if y is not None:
                raise ValueError("y was given, but this GANAugmenter was fitted without class labels.")
            return self._generate(None, seed=rng.randint(np.iinfo(np.int32).max), n_samples=n_samples)
        if y is None:
            labels = self.classes_[rng.choice(len(self.classes_), n_samples, p=self.class_counts_ / self.class_counts_.sum())]
        elif np.ndim(y) == 0:
            labels = np.full(n_samples, y, dtype=self.classes_.dtype if self.classes_.dtype != object else object)
        else:
            labels = np.asarray(y)
            if len(labels) != n_samples:
                raise ValueError(f"y has {len(labels)} labels but n_samples={n_samples}; give one label per row or one label.")
        unknown = set(pd.unique(labels)) - set(self.classes_.tolist())
        if unknown:
            raise ValueError(f"y holds labels {sorted(unknown, key=str)} not seen in fit (classes: {self.classes_.tolist()}).")
        return self._generate(labels, seed=rng.randint(np.iinfo(np.int32).max)), labels

    def _generate(self, labels, seed, n_samples=None, batch=8192):
        """Rows for the class labels ``labels`` (or ``n_samples`` unconditional rows), decoded.

        Batch by batch, each drawing its noise and conditions in turn (not
        skorch's ``forward_iter``, which would need all the noise drawn first
        and so give other rows), and each decoded as it comes: a table's
        batches are reduced to their columns' codes and values (see
        ``TabularEncoder._decode_columns``), so that the encoded rows, several
        times wider, are never held all at once.
        """
        n = len(labels) if labels is not None else int(n_samples)
        codes = np.searchsorted(self.classes_, labels) if labels is not None else None
        rng = np.random.default_rng(seed)
        net = self.net_
        parts = []
        generator = torch.Generator(device=net.device)  # noise drawn where the generator runs
        generator.manual_seed(seed)
        with torch.no_grad():
            for start in range(0, n, batch):
                stop = min(n, start + batch)
                label = torch.as_tensor(codes[start:stop], device=net.device) if codes is not None else None
                column_cond = self._sampling_conditions(codes[start:stop] if codes is not None else None, stop - start, rng)
                # soft=False: one-hot blocks as Gumbel-perturbed logits, whose argmax is all that decoding reads.
                fake = net.generate(stop - start, label, column_cond, generator=generator, soft=False).cpu().numpy()
                parts.append(self._decode_images(fake) if self._is_images_ else self.encoder_._decode_columns(fake))
        if self._is_images_:
            images = np.concatenate(parts) if parts else np.zeros((0, *self.image_shape_), dtype=self._input_dtype_)
            return images.reshape((n, *self._input_row_shape_))
        if not parts:  # decode one row to get the columns and dtypes, then drop it
            return self.encoder_.inverse_transform(np.zeros((1, self.encoder_.n_features_out_), dtype=np.float32))[:0]
        return self.encoder_._assemble(parts)

    def _sampling_conditions(self, codes, n, rng):
        """One categorical column per row and a category drawn with its frequency (in the row's class)."""
        if not self._cond_spans_:
            return None
        widths = [stop - start for start, stop in self._cond_spans_]
        cond = np.zeros((n, sum(widths)), dtype=np.float32)
        offsets = np.concatenate([[0], np.cumsum(widths)[:-1]])
        columns = rng.integers(len(widths), size=n)
        groups = codes if codes is not None else np.zeros(n, dtype=int)
        # The rows of each (column, group) pair, pairs in increasing order and rows in
        # increasing order within each: one stable sort instead of a mask per pair.
        n_groups = len(self._category_frequencies_)
        pair = columns * n_groups + groups
        order = np.argsort(pair, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(pair, minlength=len(widths) * n_groups))])
        for key in np.flatnonzero(np.diff(bounds)):
            j, group = divmod(int(key), n_groups)
            rows = order[bounds[key] : bounds[key + 1]]
            p = self._category_frequencies_[group][j]
            cond[rows, offsets[j] + rng.choice(widths[j], size=len(rows), p=p)] = 1.0
        return torch.as_tensor(cond, device=self.net_.device)

    def _decode_images(self, Z):
        images = (Z.astype(np.float64) + 1.0) / 2.0 * (self.data_max_ - self.data_min_) + self.data_min_
        return np.clip(images, self.data_min_, self.data_max_).astype(self._input_dtype_, copy=False)

    def _scale_images(self, images):
        span = self.data_max_ - self.data_min_
        return 2.0 * (images - self.data_min_) / (span if span > 0 else 1.0) - 1.0

    def _encode_records(self, X):
        """Records in fit's format -> the float32 rows or images the discriminator reads."""
        if self._is_images_:
            values = X.to_numpy() if hasattr(X, "to_numpy") else np.asarray(X, dtype=np.float64)
            images, _ = as_network_input(values, self.image_shape)
            if images.shape[1:] != tuple(self.image_shape_):
                raise ValueError(f"Images of shape {images.shape[1:]} given; the GAN was fitted on {self.image_shape_}.")
            return self._scale_images(images).astype(np.float32)
        # Each value goes to its most likely mode: a record's score must not
        # depend on a random draw, nor on the other records scored with it.
        scoring_encoder = copy.copy(self.encoder_)
        scoring_encoder.mode_sampling = "argmax"
        return np.ascontiguousarray(scoring_encoder.transform(X), dtype=np.float32)

    # -- the sampler's pass-through ---------------------------------------------

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.allow_nan = self.epsilon is None  # private fits refuse missing numbers
        tags.non_deterministic = False
        return tags


class _RecordDiscriminator:
    """The fitted discriminator as a function of records: ``scores = discriminator_(X)``.

    Each record is packed with ``pac - 1`` copies of itself; for tables the
    score is averaged over the conditions on each categorical column (the
    record's own category), as the discriminator saw them in training.
    """

    def __init__(self, augmenter):
        self.augmenter = augmenter

    @property
    def module(self):
        """The discriminator's torch module (read from the net, so that it follows the net's device)."""
        return self.augmenter.net_.discriminator_

    def __call__(self, X):
        gan = self.augmenter
        rows = gan._encode_records(X)
        net = gan.net_
        pac = gan.pac_
        spans = gan._cond_spans_
        scores = np.zeros(len(rows))
        # In fixed batches of records (a record's score must not depend on
        # how many are scored with it), each packed and scored under every
        # condition: not skorch's forward_iter, which runs the generator.
        with torch.no_grad():
            for start in range(0, len(rows), 4096):
                x = torch.as_tensor(rows[start : start + 4096], device=net.device)
                packed = x.repeat_interleave(pac, dim=0)
                if not spans:
                    realness = net.realness(packed)
                else:
                    realness = 0.0
                    for j in range(len(spans)):
                        cond, _ = net.column_condition(packed, _one_column(len(packed), len(spans), j, net.device))
                        realness = realness + net.realness(packed, cond) / len(spans)
                scores[start : start + len(x)] = realness.cpu().numpy()
        return scores

    def __repr__(self):
        return f"{type(self).__name__}(module={type(self.module).__name__}, pac={self.augmenter.pac_})"


def _check_clippable(discriminator):
    """Refuse, before training, a discriminator whose per-row gradients the engine cannot clip."""
    try:
        ClippedGradients(discriminator)
    except ValueError as exc:
        raise ValueError(f"discriminator: {exc} (epsilon is set: its training is DP-SGD)") from exc


def _one_column(n, n_columns, j, device):
    weights = torch.zeros(n, n_columns, device=device)
    weights[:, j] = 1.0
    return weights
