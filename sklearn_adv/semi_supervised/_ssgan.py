"""The semi-supervised GAN classifier: a discriminator with K real classes and a "fake" one."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context  # no public equivalent: validates parameters once per fit
from sklearn.utils import assert_all_finite
from sklearn.utils._param_validation import Interval  # no public API for parameter constraints
from sklearn.utils.validation import _check_sample_weight, check_consistent_length, check_is_fitted, column_or_1d

from sklearn_adv import plugins
from sklearn_adv.nn.base import ROLE_CONSTRAINT, NetworkClassifierMixin, NetworkEstimator, feature_size
from sklearn_adv.nn.callbacks import AnnealLR
from sklearn_adv.nn.gan import BoundedOutput, ConditionalGenerator, SemiSupervisedDiscriminator, SemiSupervisedGANNet
from sklearn_adv.nn.utils import seed_from

__all__ = ["SemiSupervisedGANClassifier"]

UNLABELLED = -1


class SemiSupervisedGANClassifier(NetworkClassifierMixin, NetworkEstimator):
    """A classifier trained on a few labelled rows and many unlabelled ones (``y == -1``), as a GAN's discriminator.

    The semi-supervised GAN of Salimans et al. (2016): the discriminator is
    a classifier of the K classes, read as a (K + 1)-class one whose extra
    class is "generated"; its logit is fixed at 0, so the realness of a row
    is ``logsumexp`` of its class logits. It learns the labels of the
    labelled rows (cross-entropy) and, on every row, labelled or not, to
    tell real rows from those of a generator (the GAN loss on the
    realness), while the generator learns to match the mean of the
    discriminator's features on real rows (feature matching). Telling real
    rows from near-misses that the generator makes in the gaps between
    them puts the class boundaries in the low-density regions the
    unlabelled rows reveal. The discriminator regularises itself with
    Gaussian noise on its input and hidden layers and weight normalisation,
    as in the paper, and its learning rate decays over the fit.

    With few labels, three terms that later work added keep the classes
    in place: virtual adversarial training (Miyato et al. 2018), a
    consistency term that asks the class probabilities of every row to
    resist the small move that changes them most; entropy minimisation;
    and the class balance term of CatGAN (Springenberg 2016), which holds
    the mean predicted class shares near the labelled rows' frequencies.
    The fitted classifier is an exponential moving average of the
    discriminator's weights over the steps. A fit takes about 700 steps,
    whatever the number of rows (``max_epochs="auto"``).

    ``fit(X, y)`` follows scikit-learn's semi-supervised convention:
    unlabelled rows have ``y == -1``. ``predict``, ``predict_proba`` and
    ``score`` use the K real classes; ``transform`` gives the
    discriminator's features; :meth:`sample` draws from the generator.

    Read more in the :ref:`User Guide <few_labels>`.

    Parameters
    ----------
    discriminator : None, str, torch.nn.Module class or instance, default=None
        The discriminator's body, mapping an input to features; a linear
        class layer (weight-normalised) is put on top. ``None``: an
        :class:`~sklearn_adv.nn.MLP` with hidden units (256, 128),
        weight normalisation, Gaussian noise of standard deviation 0.15 on
        the input and after each hidden layer, for rows and for images
        alike (images are flattened; on small images it learns faster than a
        conv net). Set its parameters as ``discriminator__hidden_units=(256,)``,
        ``discriminator__noise=0.3``, or give ``"convnet"``.
    generator : None, str, torch.nn.Module class or instance, default=None
        Maps noise of ``noise_dim`` to a row (or a flattened image); its
        output goes through a sigmoid scaled to each feature's range in fit.
        ``None``: an MLP with hidden units (128, 128), batch norm and
        softplus activations.
    label_smoothing : float in [0, 1), default=0.0
        Smoothing of the labelled rows' class targets (Szegedy et al. 2016),
        which tempers overconfident probabilities.
    unsupervised_weight : float, default=1.0
        Weight of the GAN loss of the discriminator; 0 trains the
        discriminator on the labelled rows alone.
    entropy_weight : float, default=1.0
        Weight of the entropy of the class probabilities on the rows of
        each batch (entropy minimisation, Grandvalet & Bengio 2005), which
        pushes the boundaries further away from the rows.
    vat_weight : float, default=1.0
        Weight of virtual adversarial training (Miyato et al. 2018) on the
        rows of each batch, labelled or not: the class probabilities of a
        row should not change when it moves by ``vat_eps`` (Euclidean norm)
        in the direction that changes them most. A consistency term that the
        GAN loss alone lacks: with few labels it is what keeps the classes
        of nearby rows together. 0 switches it off.
    vat_eps : float, default=0.5
        Length of the virtual adversarial move, in the units of the
        network's input (rows as given, or encoded for a DataFrame).
    vat_xi : float, default=1.0
        Length of the probe of the power iteration that finds the direction
        (a finite difference): about 1, as the paper's 1e-6 vanishes in
        float32 arithmetic.
    balance_weight : float, default=5.0
        Weight of the class balance term (CatGAN, Springenberg 2016): the
        KL divergence from the labelled rows' class frequencies to the mean
        class probabilities on the rows of each batch. With few labels a
        class otherwise takes over part of its neighbour's rows; this holds
        the predicted shares near the labelled ones (it assumes the
        labelled rows' class frequencies are the data's). 0 switches it off.
    classifier_average : float in [0, 1), default=0.99
        Decay of an exponential moving average of the discriminator's
        weights over the steps (as the "mean teacher" of Tarvainen &
        Valpola 2017); the average is the fitted classifier. 0 keeps the
        last step's weights.
    noise_dim : int, default=100
        Size of the generator's noise input.
    max_epochs : int or "auto", default="auto"
        Passes over all rows (``ceil(n_samples / batch_size)`` steps each;
        every step also draws ``batch_size`` labelled rows). ``"auto"``:
        enough passes for about 700 steps (at least 5 and at most 2000
        passes).
    batch_size : int, default=100
    lr : float, default=1e-2
        Initial learning rate of both players; it decays as
        ``lr / (1 + 10 p) ** 0.75`` over the fit's progress ``p``
        (:class:`~sklearn_adv.nn.AnnealLR`).
    optimizer : {"adam", "sgd"} or torch optimizer class, default="adam"
        ``"adam"`` runs with betas (0.5, 0.999), as in the paper.
    callbacks : list of skorch callbacks or None, default=None
    device : str, default="cpu"
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` when images come as flat rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the batches and the noise; an int makes fits on
        the CPU reproducible.
    verbose : int, default=0
        ``> 0`` prints skorch's table of per-epoch losses.
    **role_params : dict
        ``discriminator__<param>`` and ``generator__<param>``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels of the labelled rows.
    n_labelled_ : int
        Number of labelled rows in fit.
    net_ : sklearn_adv.nn.gan.SemiSupervisedGANNet
        The trained skorch net; ``net_.discriminator_`` and
        ``net_.module_`` (the generator) are the networks.
    discriminator_, generator_ : torch.nn.Module
        The trained networks.
    history_ : skorch History
        Per epoch: ``train_loss`` (the discriminator's), ``classifier_loss``
        (on the labelled batches), ``discriminator_loss``,
        ``generator_loss`` (feature matching) and ``labelled_accuracy``
        (on the labelled batches).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` is a DataFrame with string column names.
    input_encoder_ : TabularEncoder or None
        The encoder of a DataFrame with categorical columns; None otherwise.

    See Also
    --------
    sklearn.semi_supervised.LabelSpreading : Label propagation over a similarity graph.
    sklearn.semi_supervised.SelfTrainingClassifier : Self-training of any classifier.
    sklearn_adv.NeuralClassifier : The network trained on the labelled rows alone.

    Notes
    -----
    Unlabelled rows are ``y == -1``, so class labels are other values;
    string labels work when the unlabelled rows carry the integer -1 in an
    object array. Fitted with no unlabelled row, it is a GAN-regularised
    supervised classifier (every row still serves as a real row of the GAN
    loss). At least two labelled classes are needed; a fit with no
    labelled row, or with one class, is refused before training.

    ``sample_weight`` weights the labelled rows' classification loss and
    sets how often each row is drawn into the batches of the GAN loss (a
    row of weight 0 takes no part).

    Numeric input and images reach the networks as given: standardise rows
    with columns of different scales yourself. DataFrames with categorical
    columns are encoded (categorical one-hot, numeric standardised).

    When it beats label propagation, and when not, is discussed in the
    User Guide: it needs enough unlabelled rows for the GAN to learn where
    the data lie, and many steps.

    References
    ----------
    Salimans, Goodfellow, Zaremba, Cheung, Radford & Chen (2016). Improved
    Techniques for Training GANs. NeurIPS.
    Salimans & Kingma (2016). Weight Normalization. NeurIPS.
    Grandvalet & Bengio (2005). Semi-supervised Learning by Entropy
    Minimization. NeurIPS.
    Miyato, Maeda, Koyama & Ishii (2018). Virtual Adversarial Training: A
    Regularization Method for Supervised and Semi-Supervised Learning. IEEE TPAMI.
    Springenberg (2016). Unsupervised and Semi-supervised Learning with
    Categorical Generative Adversarial Networks. ICLR.
    Tarvainen & Valpola (2017). Mean teachers are better role models. NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_moons
    >>> from sklearn_adv import SemiSupervisedGANClassifier
    >>> X, y = make_moons(300, noise=0.1, random_state=0)
    >>> y_partial = np.where(np.arange(300) < 10, y, -1)  # 10 labelled rows
    >>> clf = SemiSupervisedGANClassifier(max_epochs=5, random_state=0,
    ...                                   discriminator__hidden_units=(32,)).fit(X, y_partial)
    >>> clf.classes_
    array([0, 1])
    >>> clf.predict_proba(X[:3]).shape, clf.sample(4, random_state=0).shape
    ((3, 2), (4, 2))
    """

    _roles = {
        "discriminator": {"mlp": {"hidden_units": (256, 128), "input_noise": 0.15, "noise": 0.15, "weight_norm": True}},
        "generator": {"mlp": {"hidden_units": (128, 128), "batch_norm": True, "activation": "softplus"}},
    }

    # max_epochs="auto": about this many steps, whatever the number of rows.
    _auto_steps = 700
    _auto_epochs = (5, 2000)

    _parameter_constraints = {
        **NetworkEstimator.shared_parameter_constraints,
        **NetworkClassifierMixin.classifier_parameter_constraints,
        "discriminator": ROLE_CONSTRAINT,
        "generator": ROLE_CONSTRAINT,
        "unsupervised_weight": [Interval(Real, 0, None, closed="left")],
        "entropy_weight": [Interval(Real, 0, None, closed="left")],
        "vat_weight": [Interval(Real, 0, None, closed="left")],
        "vat_eps": [Interval(Real, 0, None, closed="neither")],
        "vat_xi": [Interval(Real, 0, None, closed="neither")],
        "balance_weight": [Interval(Real, 0, None, closed="left")],
        "classifier_average": [Interval(Real, 0, 1, closed="left")],
        "noise_dim": [Interval(Integral, 1, None, closed="left")],
        "image_shape": [tuple, list, None],
    }

    def __init__(
        self,
        discriminator=None,
        generator=None,
        *,
        label_smoothing=0.0,
        unsupervised_weight=1.0,
        entropy_weight=1.0,
        vat_weight=1.0,
        vat_eps=0.5,
        vat_xi=1.0,
        balance_weight=5.0,
        classifier_average=0.99,
        noise_dim=100,
        max_epochs="auto",
        batch_size=100,
        lr=1e-2,
        optimizer="adam",
        callbacks=None,
        device="cpu",
        image_shape=None,
        random_state=None,
        verbose=0,
        **role_params,
    ):
        self.discriminator = discriminator
        self.generator = generator
        self.label_smoothing = label_smoothing
        self.unsupervised_weight = unsupervised_weight
        self.entropy_weight = entropy_weight
        self.vat_weight = vat_weight
        self.vat_eps = vat_eps
        self.vat_xi = vat_xi
        self.balance_weight = balance_weight
        self.classifier_average = classifier_average
        self.noise_dim = noise_dim
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.callbacks = callbacks
        self.device = device
        self.image_shape = image_shape
        self.random_state = random_state
        self.verbose = verbose
        self._store_role_params(role_params)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the discriminator and the generator on the labelled and the unlabelled rows.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), or images \
                (n_samples, H, W) / (n_samples, C, H, W)
        y : array-like of shape (n_samples,)
            Class labels, ``-1`` for unlabelled rows.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (see Notes); ``None``: every row weighs 1.

        Returns
        -------
        self : SemiSupervisedGANClassifier
        """
        device = self._fit_device()  # an unavailable device is refused before any work
        X_net, in_shape = self._network_rows(X, reset=True, image_shape=self.image_shape)
        codes = self._fit_partial_labels(y, X_net)
        data = {"real": X_net, "label": codes}
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(sample_weight, X_net, ensure_non_negative=True, dtype=np.float32)
            if not np.any(weights[codes >= 0] > 0):
                raise ValueError("sample_weight is 0 on every labelled row; at least one labelled row must weigh more.")
            data["weight"] = weights
        low, high = X_net.min(axis=0), X_net.max(axis=0)
        rng = self._fit_random_state()

        def build_net():
            generator, discriminator = self._build_networks(in_shape, low, high)
            return SemiSupervisedGANNet(
                generator,
                discriminator,
                criterion=plugins.resolve("gan_loss", "bce"),  # the paper's loss of the realness
                label_smoothing=self.label_smoothing,
                unsupervised_weight=self.unsupervised_weight,
                entropy_weight=self.entropy_weight,
                vat_weight=self.vat_weight,
                vat_eps=self.vat_eps,
                vat_xi=self.vat_xi,
                balance_weight=self.balance_weight,
                classifier_average=self.classifier_average,
                noise_dim=self.noise_dim,
                iterator_train__weights=weights,
                **self._net_params(device, callbacks=[("anneal_lr", AnnealLR())]),
                **({"optimizer__betas": (0.5, 0.999)} if self.optimizer == "adam" else {}),
            )

        self._fit_net(build_net, data, None, rng)
        self._n_features_out = feature_size(self.net_.discriminator_.body, in_shape)
        return self

    def _fit_partial_labels(self, y, X):
        """Validate ``y``, -1 for unlabelled rows: set ``classes_`` and ``n_labelled_``, return class codes (-1: unlabelled)."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None (mark unlabelled rows -1)."
            )
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        if y.dtype.kind in "fc":
            assert_all_finite(y, input_name="y")
        labelled = np.asarray(y != UNLABELLED, dtype=bool) if y.dtype.kind != "U" else np.ones(len(y), dtype=bool)
        self.n_labelled_ = int(labelled.sum())
        if self.n_labelled_ == 0:
            raise ValueError(
                "y has no labelled row: every row is -1 (unlabelled). Label at least one row of each of two classes."
            )
        codes = np.full(len(y), UNLABELLED, dtype=np.int64)
        try:
            codes[labelled] = self._fit_classes(y[labelled], X[labelled])
        except ValueError as exc:
            if len(np.unique(y[labelled])) == 1:
                raise ValueError(
                    f"The labelled rows of y (y != -1) hold one class ({y[labelled][0]!r}); "
                    "a classifier needs labelled rows of at least 2 classes."
                ) from exc
            raise
        return codes

    def _build_networks(self, in_shape, low, high):
        """The generator (noise -> a row or image within the data's range) and the semi-supervised discriminator."""
        body = self._build_role("generator", (self.noise_dim,), int(np.prod(in_shape)), kind="mlp")
        generator = ConditionalGenerator(body, BoundedOutput(low, high))
        disc_body = self._build_role("discriminator", in_shape, None, kind="mlp")
        discriminator = SemiSupervisedDiscriminator(disc_body, feature_size(disc_body, in_shape), len(self.classes_))
        return generator, discriminator

    def _network_input(self, X):
        return self._network_rows(X, reset=False, image_shape=self.image_shape)[0]

    @property
    def discriminator_(self):
        """The trained discriminator (the net's ``discriminator_``)."""
        return self.net_.discriminator_

    @property
    def generator_(self):
        """The trained generator (the net's ``module_``)."""
        return self.net_.module_

    def sample(self, n_samples, random_state=None):
        """Draw ``n_samples`` rows (or images) from the generator.

        Parameters
        ----------
        n_samples : int
        random_state : int, RandomState instance or None, default=None
            Seeds the noise; None draws it from numpy's global generator.

        Returns
        -------
        X_new : ndarray or DataFrame
            Rows or images in the layout of fit's ``X`` (a DataFrame with
            categorical columns is decoded back to its columns).
        """
        check_is_fitted(self, "net_")
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 0:
            raise ValueError(f"n_samples must be a non-negative int, got {n_samples!r}.")
        generator = torch.Generator(device=self.net_.device)
        generator.manual_seed(int(np.random.RandomState(seed_from(random_state)).randint(np.iinfo(np.int32).max)))
        with torch.no_grad():
            fake = self.net_.generate(n_samples, generator=generator).cpu().numpy()
        if self.input_encoder_ is not None:
            return self.input_encoder_.inverse_transform(fake.reshape(n_samples, -1))
        shape = self.X_shape_[1:] if self.image_shape is None else (int(np.prod(self.X_shape_[1:])),)
        return fake.reshape(n_samples, *shape)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
