"""The deep solver of TICKMeans: prototypes and a network predicting their transformations (DTI clustering).

The network is the engine's
:class:`sklearn_adv.nn.prototypes.TransformedPrototypes`: K prototypes, a
shared encoder of the sample and, per transformation, a linear head
predicting that transformation's parameters for every prototype, starting at
the identity. Its heads are warm-started by the engine's
:func:`~sklearn_adv.nn.prototypes.warm_start_heads`, then it is trained in
:class:`~sklearn_adv.nn.prototypes.PrototypeNet` with the engine's
curriculum and re-seeding callbacks. Both nets stop on a diverged loss
(:class:`~sklearn_adv.nn.callbacks.DivergenceGuard`) and run the user's
callbacks.
"""

import numpy as np
import torch

from sklearn_adv.nn.networks import build_network
from sklearn_adv.nn.prototypes import (
    Curriculum,
    PrototypeNet,
    ReseedPrototypes,
    TransformedPrototypes,
    warm_start_heads,
)
from sklearn_adv.nn.utils import resolve_device, seed_from, torch_seed

__all__ = ["TransformedPrototypes", "deep_distances", "fit_deep"]


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


_WARM_START_EPOCHS = 10
# A cluster winning under this fraction of 1/K of an epoch's samples is re-seeded.
_RESEED_THRESHOLD = 0.2


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
        # Without the warm start, the network starts from the identity and, on
        # a CPU budget, hardly learns shifts of more than a pixel: bilinear
        # sampling only has gradients within one pixel.
        warm_start_heads(
            module,
            images,
            head_targets,
            lr=estimator.lr,
            batch_size=min(estimator.batch_size, len(images)),
            max_epochs=_WARM_START_EPOCHS,
            callbacks=list(estimator.callbacks or []),
            device=device,
            verbose=0,
        )
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
