"""The discrete solver's grids of warps: every map it searches, as one sparse operator per curriculum stage.

Each transformation with a :meth:`~sklearn_adv.cluster.transformations.Transformation.grid`
contributes a few spatial maps (2x3 affine matrices, in pixel units about the
image centre), or a colour model when it is ``photometric``. A stage composes
the grids of the transformations switched on so far (:func:`curriculum`) into
a :class:`WarpBank`: all composed maps as bilinear warps stacked in one sparse
matrix, so that every prototype under every map is one matrix product.
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["WarpBank", "curriculum", "head_targets", "warp_matrix"]


class WarpBank:
    """A grid of spatial maps as one sparse operator, plus an optional colour model.

    ``A`` stacks the ``n_ops`` warps (each ``(H*W, H*W)``, applied to every
    channel) vertically; ``shifts`` is the integer translation part of each
    map (for re-centring prototypes), ``colour`` the bounds of the contrast
    factor or None.
    """

    def __init__(self, shape, maps, shifts, colour, circular):
        channels, height, width = shape
        self.shape = shape
        self.hw = height * width
        self.n_ops = len(maps)
        hw, n_ops = self.hw, self.n_ops
        warp, op = _warp_matrices(height, width, maps, circular)
        self.A = warp.tocsr().astype(np.float32)
        self.AT = self.A.T.tocsr()
        self.shifts = shifts
        self.circular = circular
        self.colour = colour
        # Per map b: the diagonal of A_b^T A_b, and the row and column sums of |A_b|.
        block_col = op * hw + warp.col
        self.diag = np.bincount(block_col, warp.data**2, minlength=n_ops * hw).reshape(n_ops, hw).astype(np.float32)
        row_sums = np.bincount(warp.row, np.abs(warp.data), minlength=n_ops * hw).reshape(n_ops, hw).max(axis=1)
        col_sums = np.bincount(block_col, np.abs(warp.data), minlength=n_ops * hw).reshape(n_ops, hw).max(axis=1)
        # The operator norm of each warp is at most sqrt(max row sum * max column sum).
        self.lipschitz = float(np.sqrt(row_sums * col_sums).max()) * (colour[1] if colour else 1.0)
        # Integer shifts move each pixel to at most one place: every A_b^T A_b
        # is then the diagonal ``diag``, and the update is a division.
        self.diagonal = bool(
            np.all(warp.data == 1.0)
            and np.bincount(warp.row, minlength=1).max(initial=0) <= 1
            and np.bincount(block_col, minlength=1).max(initial=0) <= 1
        )

    def gram(self):
        """The ``A_b^T A_b`` as a dense (n_ops, hw*hw) array, or None when diagonal or too large."""
        if self.diagonal or self.n_ops * self.hw * self.hw > 2e7:
            return None
        hw, n_ops = self.hw, self.n_ops
        # All maps at once: the block-diagonal matrix of the A_b has the A_b^T A_b as its Gram blocks.
        coo = self.A.tocoo()
        blocks = sp.csr_matrix((coo.data, (coo.row, (coo.row // hw) * hw + coo.col)), shape=(n_ops * hw, n_ops * hw))
        products = (blocks.T @ blocks).tocoo()
        out = np.zeros((n_ops, hw, hw), dtype=np.float32)
        out[products.row // hw, products.row % hw, products.col % hw] = products.data
        return out.reshape(n_ops, hw * hw)


def warp_matrix(height, width, matrix, circular):
    """Sparse (H*W, H*W) bilinear warp: output pixel q reads the input at ``matrix^-1 q``."""
    return _warp_matrices(height, width, [matrix], circular)[0].tocsr()


def _warp_matrices(height, width, maps, circular):
    """All warps of ``maps`` stacked, as COO parts: ``(matrix (n_ops*H*W, H*W), op of each entry)``."""
    maps = np.asarray(maps, dtype=float)  # (n_ops, 2, 3)
    inverse = np.linalg.inv(maps[:, :, :2])
    shift = maps[:, :, 2]
    centre = np.array([(height - 1) / 2.0, (width - 1) / 2.0])
    ys, xs = np.mgrid[0:height, 0:width]
    q = np.stack([ys.ravel(), xs.ravel()]).astype(float) - centre[:, None]  # (2, hw)
    src = np.einsum("bij,bjq->biq", inverse, q[None] - shift[:, :, None]) + centre[None, :, None]
    src = np.round(src, 9)  # integer shifts stay exact
    y0, x0 = np.floor(src[:, 0]), np.floor(src[:, 1])
    fy, fx = src[:, 0] - y0, src[:, 1] - x0
    size = height * width
    out = np.arange(len(maps) * size).reshape(len(maps), size)
    ops = np.repeat(np.arange(len(maps)), size).reshape(len(maps), size)
    rows, cols, vals, which = [], [], [], []
    for dy, dx, weight in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        iy, ix = y0 + dy, x0 + dx
        if circular:
            iy, ix = np.mod(iy, height), np.mod(ix, width)
            keep = weight > 1e-9
        else:
            keep = (weight > 1e-9) & (iy >= 0) & (iy < height) & (ix >= 0) & (ix < width)
        rows.append(out[keep])
        cols.append((iy[keep] * width + ix[keep]).astype(np.int64))
        vals.append(weight[keep])
        which.append(ops[keep])
    rows, cols, vals, which = (np.concatenate(a) for a in (rows, cols, vals, which))
    return sp.coo_matrix((vals, (rows, cols)), shape=(len(maps) * size, size)), which


def head_targets(transformations, gridded, shape, ops):
    """The deep solver's parameters of the discrete solver's best maps, for the transformations that have them.

    ``ops`` (n, K) index the composed grid of the spatial transformations of
    ``gridded`` (mixed radix, in the order listed, as :func:`_compose`); each
    transformation translates its own grid into its deep form's parameters
    (:meth:`~sklearn_adv.cluster.transformations.Transformation.grid_params`).
    A transformation of ``gridded`` that is not one of ``transformations``
    (the stand-in translation when none has a grid) gets no target.
    Returns ``{index in transformations: (n, K, n_params)}``.
    """
    spatial = [t for t in gridded if not t.photometric]
    sizes = [len(t.grid(shape)) for t in spatial]
    if not spatial:
        return {}
    digits = np.unravel_index(ops, sizes)
    position = {id(t): i for i, t in enumerate(transformations)}
    targets = {}
    for transformation, digit in zip(spatial, digits):
        index = position.get(id(transformation))
        params = transformation.grid_params(shape) if index is not None else None
        if params is not None:
            targets[index] = params[digit]
    return targets


def _is_translational(transformation):
    # Transformations written before the attribute existed are not translations.
    return getattr(transformation, "translational", False)


def _compose(per_plugin):
    """All compositions of one map per plugin, as ``(2x3 map, integer shift)`` pairs.

    The other plugins act in the order listed; a ``translational`` one (pure
    shifts) acts last, so that its shift is the map's translation part.
    """
    maps = [(np.eye(3), np.zeros(2))]
    for transformation, grid in per_plugin:
        shifts_only = _is_translational(transformation)
        maps = [
            (total, shift + g[:, 2]) if shifts_only else (np.vstack([g, [0.0, 0.0, 1.0]]) @ total, shift)
            for total, shift in maps
            for g in grid
        ]
    out = []
    for total, shift in maps:
        m = total[:2].copy()
        m[:, 2] += shift
        out.append((m, shift))
    return out


def curriculum(transformations, shape):
    """One bank per stage: the transformations switched on in the order listed."""
    banks, grids, seen = [], [], set()
    circular = any(getattr(t, "mode", None) == "circular" for t in transformations)
    for transformation in transformations:
        grid = transformation.grid(shape)
        if grid is None:
            raise ValueError(
                f"The transformation {transformation!r} is only available with method='deep'; "
                f"the discrete solver supports those with a grid (translation, rotation, affine, colour)."
            )
        grids.append((transformation, grid))
        spatial = [(t, g) for t, g in grids if not t.photometric]
        colours = [t for t, _ in grids if t.photometric]
        key = (tuple(len(g) for _, g in spatial), len(colours))
        if key in seen:
            continue
        seen.add(key)
        composed = _compose(spatial)
        maps = [m for m, _ in composed]
        has_shift = any(_is_translational(t) for t, _ in spatial)
        shifts = np.array([np.round(s).astype(int) for _, s in composed]) if has_shift else None
        colour = colours[-1].bounds() if colours else None
        banks.append(WarpBank(shape, maps, shifts, colour, circular))
    return banks

