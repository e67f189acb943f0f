"""The deep solver of TICKMeans: prototypes and a network predicting their transformations (DTI clustering).

The module holds K image-shaped prototypes, a shared encoder of the sample
and, per transformation, a linear head predicting that transformation's
parameters for every prototype. The heads start at zero, so every
transformation starts as the identity. Training runs in
:class:`sklearn_adv.nn.prototypes.PrototypeNet` with the engine's curriculum
and re-seeding callbacks.
"""

import numpy as np
import torch
from skorch import NeuralNetRegressor
from torch import nn

from sklearn_adv.nn.networks import build_network
from sklearn_adv.nn.prototypes import Curriculum, PrototypeNet, ReseedPrototypes
from sklearn_adv.nn.utils import resolve_device, seed_from, torch_seed


class TransformedPrototypes(nn.Module):
    """Errors of each sample against each prototype, transformed as the encoder predicts.

    Parameters
    ----------
    prototypes : ndarray of shape (K, C, H, W)
        Initial prototypes.
    transformations : list of Transformation
        Applied to a prototype in the order listed, except that a
        translation is applied last (outermost), as in the discrete solver.
    encoder : nn.Module
        Maps a batch ``(B, C, H, W)`` to features ``(B, F)``; ``F`` is read
        from its ``out_features``.
    """

    def __init__(self, prototypes, transformations, encoder):
        super().__init__()
        K, C = prototypes.shape[:2]
        prototypes = np.asarray(prototypes, dtype=np.float32)
        # Prototypes are learned in units of their spread, so that the
        # optimizer's step size means the same whatever the pixel range.
        scale = float(prototypes.std()) or 1.0
        self.register_buffer("scale", torch.tensor(scale))
        self.normalised_prototypes = nn.Parameter(torch.as_tensor(prototypes / scale))
        self.order = sorted(range(len(transformations)), key=lambda t: type(transformations[t]).__name__ == "Translation")
        self.transformations = transformations
        self.encoder = encoder
        features = encoder.out_features
        self.heads = nn.ModuleList()
        for transformation in transformations:
            head = nn.Linear(features, K * transformation.n_params(C))
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)
            self.heads.append(head)
        self.n_active = len(transformations)
        # The order in which the curriculum switches transformations on.
        self.curriculum = list(range(len(transformations)))

    @property
    def prototypes(self):
        """The prototypes in pixel units: (K, C, H, W)."""
        return self.normalised_prototypes * self.scale

    def aligned(self, X):
        """Every prototype transformed to match every sample: (B, K, C, H, W)."""
        B = len(X)
        K, C, H, W = self.prototypes.shape
        features = self.encoder(X)
        images = self.prototypes[None].expand(B, K, C, H, W).reshape(B * K, C, H, W)
        active = set(self.curriculum[: self.n_active])
        for t in self.order:
            if t not in active:
                continue
            params = self.heads[t](features).reshape(B * K, -1)
            images = self.transformations[t].apply(images, params)
        return images.reshape(B, K, C, H, W)

    def forward(self, X):
        """Mean squared error per pixel of each sample against each aligned prototype: (B, K)."""
        aligned = self.aligned(X)
        return ((aligned - X[:, None]) ** 2).flatten(2).mean(dim=2)

    @torch.no_grad()
    def reseed(self, dst, src, noise=0.01):
        """Make prototype ``dst`` (and its heads) a slightly perturbed copy of prototype ``src``."""
        proto = self.normalised_prototypes[src]
        self.normalised_prototypes[dst] = proto + noise * torch.randn_like(proto)
        K = self.normalised_prototypes.shape[0]
        for head in self.heads:
            n = head.out_features // K
            head.weight[dst * n : (dst + 1) * n] = head.weight[src * n : (src + 1) * n]
            head.bias[dst * n : (dst + 1) * n] = head.bias[src * n : (src + 1) * n]


class _DeepResult:
    def __init__(self, per_cluster, aligned=None):
        self.per_cluster = per_cluster
        self.labels = per_cluster.argmin(axis=1)
        self.best = per_cluster[np.arange(len(per_cluster)), self.labels]
        self.aligned = aligned


def _build_encoder(spec, shape):
    """The encoder role: a registered name, class or instance; ``None`` is a small conv net."""
    if spec is None:
        return build_network("convnet", shape, None, channels=(16, 32))
    return build_network(spec, shape, None)


class _Heads(nn.Module):
    """Some transformation heads on the shared encoder, concatenated, for warm-starting them by regression."""

    def __init__(self, module, indices):
        super().__init__()
        self.module = module
        self.indices = list(indices)

    def forward(self, X):
        features = self.module.encoder(X)
        return torch.cat([self.module.heads[t](features) for t in self.indices], dim=1)


_WARM_START_EPOCHS = 10
# A cluster winning under this fraction of 1/K of an epoch's samples is re-seeded.
_RESEED_THRESHOLD = 0.2


def _warm_start_heads(module, images, targets, estimator, device):
    """Teach the heads the discrete solver's best parameters of each prototype for each sample.

    ``targets`` maps a transformation's index to its parameters, (n, K, n_params).
    Without this, the network starts from the identity and, on a CPU budget,
    hardly learns shifts of more than a pixel: bilinear sampling only has
    gradients within one pixel.
    """
    if not targets:
        return
    indices = sorted(targets)
    y = np.concatenate([targets[t].reshape(len(images), -1) for t in indices], axis=1).astype(np.float32)
    regressor = NeuralNetRegressor(
        _Heads(module, indices),
        criterion=nn.MSELoss,
        optimizer=torch.optim.Adam,
        lr=estimator.lr,
        batch_size=min(estimator.batch_size, len(images)),
        max_epochs=_WARM_START_EPOCHS,
        iterator_train__shuffle=True,
        train_split=None,
        device=device,
        verbose=0,
    )
    regressor.fit(images, y)


def fit_deep(estimator, images, shape, transformations, initial_centers, head_targets, rng):
    """Train the prototypes and the transformation network; returns centers, labels, inertia, n_epochs.

    ``head_targets`` maps the index of a transformation to the parameters,
    (n, K, n_params), that the discrete solver found best for each sample
    and initial prototype; those heads are warm-started on them.
    """
    device = resolve_device(estimator.device)
    seed = seed_from(rng)
    with torch_seed(seed):
        encoder = _build_encoder(estimator.encoder, shape)
        module = TransformedPrototypes(initial_centers.reshape((len(initial_centers), *shape)), transformations, encoder)
        _warm_start_heads(module, images, head_targets, estimator, device)
        # Warm-started transformations are on from the start; the others follow in the order listed.
        warm = sorted(head_targets)
        module.curriculum = warm + [t for t in range(len(transformations)) if t not in head_targets]
        net = PrototypeNet(
            module,
            optimizer=torch.optim.Adam,
            lr=estimator.lr,
            batch_size=min(estimator.batch_size, len(images)),
            max_epochs=estimator.max_epochs,
            iterator_train__shuffle=True,
            callbacks=[
                ("curriculum", Curriculum(len(transformations), initially=max(len(warm), 1))),
                ("reseed", ReseedPrototypes(_RESEED_THRESHOLD)),
                *list(estimator.callbacks or []),
            ],
            device=device,
            verbose=estimator.verbose,
        )
        net.fit(images, None)
    estimator.net_ = net
    estimator.history_ = net.history
    result = deep_distances(estimator, images)
    centers = net.module_.prototypes.detach().cpu().numpy().reshape(len(initial_centers), shape[0], -1)
    return centers, result.labels, float(result.best.sum()), len(net.history)


def deep_distances(estimator, images, with_aligned=False, batch_size=256):
    """Squared distances (sum over pixels) of each image to each aligned prototype, in eval mode."""
    net = estimator.net_
    module = net.module_
    module.eval()
    errors, aligned = [], []
    device = next(module.parameters()).device
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            batch = torch.as_tensor(images[start : start + batch_size], device=device)
            prototypes = module.aligned(batch)
            errors.append((((prototypes - batch[:, None]) ** 2).flatten(2).sum(dim=2)).double().cpu().numpy())
            if with_aligned:
                aligned.append(prototypes.cpu().numpy())
    per_cluster = np.concatenate(errors) if errors else np.zeros((0, module.prototypes.shape[0]))
    result = _DeepResult(per_cluster)
    if with_aligned:
        stacked = np.concatenate(aligned)
        result.aligned = stacked[np.arange(len(stacked)), result.labels].reshape(len(stacked), -1)
    return result
