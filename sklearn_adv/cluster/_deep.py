"""The deep solver of TICKMeans: prototypes and a network predicting their transformations (DTI clustering).

The network is the engine's
:class:`sklearn_adv.nn.prototypes.TransformedPrototypes`: K prototypes, a
shared encoder of the sample and, per transformation, a linear head
predicting that transformation's parameters for every prototype, starting at
the identity. :func:`prototype_net` warm-starts its heads with the engine's
:func:`~sklearn_adv.nn.prototypes.warm_start_heads` and returns it in a
:class:`~sklearn_adv.nn.prototypes.PrototypeNet` with the engine's
curriculum and re-seeding callbacks, for the estimator to train; both nets
stop on a diverged loss and run the user's callbacks.
:func:`deep_distances` reads the trained module.
"""

import numpy as np
import torch

from sklearn_adv.nn.prototypes import (
    Curriculum,
    PrototypeNet,
    ReseedPrototypes,
    TransformedPrototypes,
    warm_start_heads,
)

__all__ = ["deep_distances", "prototype_net"]

_WARM_START_EPOCHS = 10
# A cluster winning under this fraction of 1/K of an epoch's samples is re-seeded.
_RESEED_THRESHOLD = 0.2


class _DeepResult:
    def __init__(self, per_cluster, aligned=None):
        self.per_cluster = per_cluster
        self.labels = per_cluster.argmin(axis=1)
        self.best = per_cluster[np.arange(len(per_cluster)), self.labels]
        self.aligned = aligned


def prototype_net(
    encoder, images, initial_centers, transformations, head_targets, *, max_epochs, lr, batch_size, callbacks, device,
    verbose,
):
    """The net that trains the prototypes and the transformation network, its heads warm-started.

    Build the module and warm-start its heads within the caller's seeded
    block: both draw from torch's generators.

    Parameters
    ----------
    encoder : nn.Module
        The network reading a sample, with ``out_features``.
    images : ndarray of shape (n, C, H, W)
        The training samples, float32.
    initial_centers : ndarray of shape (K, ...)
        The initial prototypes, ``C * H * W`` values each.
    transformations : list of Transformation
    head_targets : dict
        Maps the index of a transformation to the parameters, ``(n, K,
        n_params)``, that the discrete solver found best for each sample and
        initial prototype; those heads are warm-started on them and the
        transformations are on from the start.
    max_epochs, lr, batch_size, callbacks, device, verbose
        The training's settings; the warm start takes all but ``max_epochs``
        and ``verbose``.

    Returns
    -------
    net : PrototypeNet
        Not fitted; ``net.fit(images)`` trains it.
    """
    shape = images.shape[1:]
    module = TransformedPrototypes(initial_centers.reshape((len(initial_centers), *shape)), transformations, encoder)
    # Without the warm start, the network starts from the identity and, on
    # a CPU budget, hardly learns shifts of more than a pixel: bilinear
    # sampling only has gradients within one pixel.
    shared = {"lr": lr, "batch_size": batch_size, "device": device}
    warm_start_heads(
        module,
        images,
        head_targets,
        max_epochs=_WARM_START_EPOCHS,
        callbacks=list(callbacks),
        verbose=0,
        **shared,
    )
    # Warm-started transformations are on from the start; the others follow in the order listed.
    warm = sorted(head_targets)
    module.curriculum = warm + [t for t in range(len(transformations)) if t not in head_targets]
    return PrototypeNet(
        module,
        optimizer=torch.optim.Adam,
        max_epochs=max_epochs,
        iterator_train__shuffle=True,
        callbacks=[
            ("curriculum", Curriculum(len(transformations), initially=max(len(warm), 1))),
            ("reseed", ReseedPrototypes(_RESEED_THRESHOLD)),
            *callbacks,
        ],
        verbose=verbose,
        **shared,
    )


def deep_distances(module, images, with_aligned=False, batch_size=256):
    """Squared distances (sum over pixels) of each image to each prototype aligned by ``module``, in eval mode.

    Sums rather than the module's per-pixel means, in the batches of a
    fixed size (float32 rounding depends on it), so that the distances, and
    the labels, are the same at every call.
    """
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
