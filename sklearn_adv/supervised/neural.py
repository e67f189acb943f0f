"""A plain supervised network classifier: the shortest estimator on the engine's base."""

import numpy as np
from sklearn.base import _fit_context  # no public equivalent: validates parameters once per fit
from sklearn.utils.validation import _check_sample_weight  # no public equivalent

from sklearn_adv.nn import BaseNet, EncoderHead
from sklearn_adv.nn.base import ROLE_CONSTRAINT, NetworkClassifierMixin, NetworkEstimator, feature_size
from sklearn_adv.nn.sampling import batched_loader


class NeuralClassifier(NetworkClassifierMixin, NetworkEstimator):
    """A network classifier: an encoder and a linear head trained on cross-entropy.

    The network is an **encoder**, mapping an input to features, and a
    **head**, predicting the class from the features, trained together on
    the cross-entropy of the labels. It is the supervised baseline of the
    adversarial estimators: :class:`~sklearn_adv.DomainAdversarialClassifier`
    with ``adversary_weight=0`` trains the same networks, and this
    classifier fitted on the source rows alone is the "source only" model
    of domain adaptation. ``transform`` gives the learned features.

    Read more in the :ref:`User Guide <neural>`.

    Parameters
    ----------
    encoder : None, str, torch.nn.Module class or instance, default=None
        The feature extractor. ``None`` builds the default for the data: an
        :class:`~sklearn_adv.nn.MLP` with two hidden layers of 64 units for
        rows, a :class:`~sklearn_adv.nn.ConvNet` for images. A name is looked
        up in the ``network`` plugin registry; a class is called as
        ``cls(in_shape, None, **encoder__params)`` and must expose
        ``out_features`` or produce flat features; an instance is copied,
        never trained in place.
    head : None, str, torch.nn.Module class or instance, default=None
        The classifier on the features; ``None`` is a linear layer (an MLP
        without hidden layers). A class is called as
        ``cls((n_features,), n_classes, **head__params)``.
    label_smoothing : float in [0, 1), default=0.0
        Smoothing of the class targets: the class head learns
        ``(1 - label_smoothing) * one_hot + label_smoothing / n_classes``
        (Szegedy et al. 2016), which tempers overconfident probabilities.
        0 trains on the labels as they are.
    max_epochs : int or "auto", default=100
        Number of passes over the training rows.
        ``"auto"`` aims at 2,000 optimizer steps within 10 to 2,000 epochs
        (see ``n_epochs_``).
    batch_size : int, default=64
        Rows per batch.
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "sgd"} or torch.optim.Optimizer class, default="adam"
        ``"sgd"`` uses momentum 0.9. The named optimizers update all
        parameters at once; a class is used as given.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (stratified) and stop
        when their loss has not improved for ``n_iter_no_change`` epochs,
        keeping the best epoch's weights.
    validation_fraction : float, default=0.1
        Fraction of the rows held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    callbacks : list of skorch callbacks or (name, callback) pairs, default=None
        Added to the net's own (progress, divergence guard, early stopping).
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"``.
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` when images come as flat rows. Images
        given as ``(n, H, W)`` or ``(n, C, H, W)`` arrays need no shape.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the batches and the validation split. An
        int makes fits on the CPU reproducible.
    verbose : int, default=0
        ``> 0`` prints skorch's table of per-epoch losses.
    **role_params : dict
        Hyperparameters of the networks, prefixed by their role:
        ``encoder__hidden_units=(32,)``, ``encoder__dropout=0.2``,
        ``head__hidden_units=(16,)``. They work with ``set_params`` and
        :class:`~sklearn.model_selection.GridSearchCV` and override the
        defaults listed above key by key.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    net_ : sklearn_adv.nn.BaseNet
        The trained skorch net; ``net_.module_.encoder`` and
        ``net_.module_.head`` are the two networks.
    n_epochs_ : int
        Epochs of the training: ``max_epochs``, or what ``"auto"`` chose for the
        number of rows; early stopping may end it sooner.
    history_ : skorch History
        Per epoch: ``train_loss``, and ``valid_loss`` with early stopping.
    n_features_in_ : int
        Number of features (columns, or channels for image arrays) seen in fit.
    feature_names_in_ : ndarray of str
        Defined when ``X`` is a DataFrame with string column names.
    input_encoder_ : TabularEncoder or None
        The encoder of a DataFrame with categorical columns (one-hot, numeric
        columns standardised); None for numeric input and images.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : scikit-learn's network classifier, for rows.
    sklearn_adv.DomainAdversarialClassifier : The same networks, adapted to an unlabelled target domain.

    Notes
    -----
    Numeric input and images reach the network as given, as they do
    scikit-learn's own networks: standardise rows yourself (e.g. in a
    Pipeline) when their columns have different scales. DataFrames with
    categorical columns are encoded, categorical columns one-hot and numeric
    columns standardised (:class:`~sklearn_adv.preprocessing.TabularEncoder`,
    ``input_encoder_``).

    Sample weights weight each row's loss within its batch; they do not
    change how batches are drawn. A row of weight 0 takes no part in
    training, and weights scaled alike give the same model.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from sklearn_adv import NeuralClassifier
    >>> X, y = make_moons(200, noise=0.1, random_state=0)
    >>> clf = NeuralClassifier(max_epochs=20, encoder__hidden_units=(32,), random_state=0).fit(X, y)
    >>> clf.predict(X[:5]).shape
    (5,)
    >>> clf.transform(X).shape
    (200, 32)
    """

    # Defaults of the networks built when a role is None; role__param
    # hyperparameters override them key by key.
    _roles = {
        "encoder": {"mlp": {"hidden_units": (64, 64)}, "convnet": {}},
        "head": {"mlp": {"hidden_units": ()}},  # a linear layer
    }

    _parameter_constraints = {
        **NetworkEstimator.shared_parameter_constraints,
        **NetworkEstimator.validation_parameter_constraints,
        **NetworkClassifierMixin.classifier_parameter_constraints,
        "encoder": ROLE_CONSTRAINT,
        "head": ROLE_CONSTRAINT,
        "image_shape": [tuple, list, None],
    }

    def __init__(self, encoder=None, head=None, *, label_smoothing=0.0, max_epochs=100, batch_size=64, lr=1e-3,
                 optimizer="adam", early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, callbacks=None,
                 device="cpu", image_shape=None, random_state=None, verbose=0, **role_params):
        self.encoder = encoder
        self.head = head
        self.label_smoothing = label_smoothing
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
        """Train the encoder and the head on the labelled rows ``(X, y)``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), or images \
                (n_samples, H, W) / (n_samples, C, H, W)
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows' losses; ``None``: every row weighs 1.

        Returns
        -------
        self : NeuralClassifier
        """
        device = self._fit_device()  # an unavailable device is refused before any work
        X_net, in_shape = self._network_rows(X, reset=True, image_shape=self.image_shape)
        targets = {"target": self._fit_classes(y, X_net)}
        if sample_weight is not None:
            targets["target_weight"] = _check_sample_weight(sample_weight, X_net, ensure_non_negative=True, dtype=np.float32)
        rng = self._fit_random_state()
        train_rows, valid_rows = self._validation_rows(np.arange(len(X_net)), targets["target"], rng)
        train, valid = self._row_datasets(X_net, targets, train_rows, valid_rows)
        self._fit_net(lambda: self._build_net(in_shape, device, valid), train, None, rng)
        self._n_features_out = feature_size(self.net_.module_.encoder, in_shape)
        return self

    def _build_net(self, in_shape, device, valid_dataset):
        """The skorch net: the encoder and a linear head, trained by a weighted cross-entropy."""
        encoder = self._build_role("encoder", in_shape, None)
        head = self._build_role("head", (feature_size(encoder, in_shape),), len(self.classes_))
        split_params, stopping = self._early_stopping_params(valid_dataset)
        return BaseNet(
            EncoderHead(encoder, head),
            criterion=self._classification_loss(),  # one loss per row, for the weights
            iterator_train=batched_loader,
            iterator_train__shuffle=True,
            iterator_valid=batched_loader,
            **split_params,
            **self._net_params(device, callbacks=stopping),
        )

    def _network_input(self, X):
        return self._network_rows(X, reset=False, image_shape=self.image_shape)[0]
