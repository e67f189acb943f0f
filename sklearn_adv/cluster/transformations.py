"""Transformations that align a prototype image with a sample, for :class:`TICKMeans`.

Each transformation is a small object registered under a name of the plugin
kind ``"transformation"``. It serves the two solvers of :class:`TICKMeans`:

- the discrete solver asks :meth:`Transformation.grid` for a small set of
  spatial maps (2x3 affine matrices) to search exhaustively; a photometric
  transformation (``"colour"``) is instead solved in closed form for each
  sample and prototype;
- the deep solver asks for ``n_params(n_channels)`` numbers per sample and
  prototype, predicted by a network, and calls :meth:`Transformation.apply`
  on a batch of prototype images. All zeros is the identity, so a network
  whose last layer starts at zero starts with untransformed prototypes;
  :meth:`Transformation.grid_params` gives the parameters of the grid's maps,
  with which the deep solver's network is warm-started.

Two class attributes say how a transformation composes with the others:
``photometric`` (it changes intensities, not positions) and
``translational`` (its maps are pure shifts, applied after every other
spatial map, so that they are the translation part of the composition).

Spatial maps are written in pixel units, as ``(y, x)`` coordinates relative
to the image centre: ``[[a, b, ty], [c, d, tx]]`` sends the prototype pixel
``p`` to ``A p + t`` in the sample.

Examples
--------
>>> from sklearn_adv import plugins
>>> translation = plugins.resolve("transformation", "translation")(max_shift=1)
>>> len(translation.grid((5, 5)))
9
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from sklearn_adv import plugins

__all__ = [
    "Affine",
    "Colour",
    "Morphological",
    "Rotation",
    "Transformation",
    "Translation",
    "resolve_transformations",
    "warp_images",
]


class Transformation:
    """Base class: a family of transformations of a prototype image.

    Subclasses override :meth:`grid` (discrete solver) and/or
    :meth:`n_params` with :meth:`apply` (deep solver), and
    :meth:`grid_params` when the deep solver can start from the grid's maps.
    The class attributes ``photometric`` and ``translational`` say how it
    composes with the others. ``__init__`` stores its arguments, so
    ``repr`` and equality follow them.
    """

    #: Whether this transformation changes intensities rather than positions.
    photometric = False
    #: Whether its maps are pure shifts, applied after (outside) every other spatial map.
    translational = False

    def grid(self, image_shape):
        """The spatial maps the discrete solver searches, as a list of 2x3 arrays.

        ``None`` means the transformation is only available to the deep solver.
        """
        return None

    def n_params(self, n_channels):
        """How many numbers the deep solver predicts per sample and prototype."""
        return 0

    def grid_params(self, image_shape):
        """The deep solver's parameters of each map of :meth:`grid`, as an array (n_maps, n_params).

        They let the deep solver's network start from the discrete solver's
        best maps. ``None`` (the default) means the two forms do not
        correspond and that transformation starts from the identity.
        """
        return None

    def apply(self, images, params):
        """Transform ``images`` of shape (N, C, H, W) with ``params`` of shape (N, n_params)."""
        raise NotImplementedError(f"{type(self).__name__} has no deep-solver form.")

    def _args(self):
        return {name: getattr(self, name) for name in getattr(self, "_arg_names", ())}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._args().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and self._args() == other._args()

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self._args().items(), key=lambda kv: kv[0]))))


def _spatial_size(image_shape):
    """The sizes along the axes that vary: both for images, the length for 1-D signals."""
    sizes = [s for s in image_shape[-2:] if s > 1]
    return min(sizes) if sizes else 1


def _affine_theta(matrices, height, width):
    """Pixel-unit maps (prototype -> sample) as ``affine_grid`` thetas (sample -> prototype).

    ``affine_grid`` works in normalised (x, y) coordinates with
    ``align_corners=False``, where a pixel is 2/W wide.
    """
    # Pixel (y, x) -> normalised (x, y): scale by 2/W, 2/H and swap the axes.
    batch = matrices.shape[0]
    lin = matrices[:, :, :2]
    shift = matrices[:, :, 2]
    inv = torch.linalg.inv(lin)
    inv_shift = -(inv @ shift.unsqueeze(-1)).squeeze(-1)
    scale = matrices.new_tensor([2.0 / height, 2.0 / width])
    # normalised (y, x) = scale * pixel (y, x); conjugate the map by that scaling.
    lin_n = inv * scale[None, :, None] / scale[None, None, :]
    shift_n = inv_shift * scale[None, :]
    theta = matrices.new_zeros((batch, 2, 3))
    # Swap (y, x) to (x, y).
    theta[:, 0, 0] = lin_n[:, 1, 1]
    theta[:, 0, 1] = lin_n[:, 1, 0]
    theta[:, 1, 0] = lin_n[:, 0, 1]
    theta[:, 1, 1] = lin_n[:, 0, 0]
    theta[:, 0, 2] = shift_n[:, 1]
    theta[:, 1, 2] = shift_n[:, 0]
    return theta


def warp_images(images, matrices, padding_mode="zeros"):
    """Warp a batch of images (N, C, H, W) by pixel-unit maps (N, 2, 3), differentiably."""
    height, width = images.shape[-2:]
    theta = _affine_theta(matrices, height, width)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


def _inverse_tanh(fraction):
    """Parameters ``p`` with ``tanh(p) = fraction`` of the largest move, the form of the deep solver's maps.

    The edges of the range (``tanh`` = 1) would need infinite parameters:
    fractions are clipped to 0.95.
    """
    return np.arctanh(np.clip(fraction, -0.95, 0.95))


def _identity_maps(params):
    eye = torch.zeros((params.shape[0], 2, 3), dtype=params.dtype, device=params.device)
    eye[:, 0, 0] = 1.0
    eye[:, 1, 1] = 1.0
    return eye


@plugins.register("transformation", "translation")
class Translation(Transformation):
    """Integer shifts (discrete solver) or continuous shifts (deep solver).

    Parameters
    ----------
    max_shift : int or None, default=None
        Largest shift in pixels along each axis. ``None`` takes a quarter of
        the image side (of the length, for 1-D signals), at least 1.
    mode : {"zeros", "circular"}, default="zeros"
        What enters at the border: zeros, or what left at the other side
        (circular shifts, natural for periodic 1-D signals). The deep
        solver's continuous shifts repeat the border pixel instead of
        wrapping around.
    """

    translational = True
    _arg_names = ("max_shift", "mode")

    def __init__(self, max_shift=None, mode="zeros"):
        self.max_shift = max_shift
        self.mode = mode

    def resolved_shift(self, image_shape):
        """``max_shift`` in pixels for images of this shape."""
        if self.mode not in ("zeros", "circular"):
            raise ValueError(f"Translation mode must be 'zeros' or 'circular', got {self.mode!r}.")
        if self.max_shift is None:
            return max(1, int(round(0.25 * _spatial_size(image_shape))))
        if isinstance(self.max_shift, bool) or int(self.max_shift) != self.max_shift or self.max_shift < 0:
            raise ValueError(f"Translation max_shift must be a non-negative integer or None, got {self.max_shift!r}.")
        return int(self.max_shift)

    def grid(self, image_shape):
        height, width = image_shape[-2:]
        shift = self.resolved_shift(image_shape)
        ys = range(-min(shift, height - 1), min(shift, height - 1) + 1) if height > 1 else [0]
        xs = range(-min(shift, width - 1), min(shift, width - 1) + 1) if width > 1 else [0]
        return [np.array([[1.0, 0.0, dy], [0.0, 1.0, dx]]) for dy in ys for dx in xs]

    def n_params(self, n_channels):
        return 2

    def grid_params(self, image_shape):
        limit = max(self.resolved_shift(image_shape), 1)
        shifts = np.stack(self.grid(image_shape))[:, :, 2]
        return _inverse_tanh(shifts / limit)

    def apply(self, images, params):
        shift = self.resolved_shift(images.shape[1:])
        maps = _identity_maps(params)
        maps[:, :, 2] = shift * torch.tanh(params)
        if images.shape[-2] == 1:
            maps[:, 0, 2] = 0.0
        return warp_images(images, maps, "border" if self.mode == "circular" else "zeros")


@plugins.register("transformation", "rotation")
class Rotation(Transformation):
    """Rotations about the image centre, on a grid of ``n_angles`` angles up to ``max_angle`` degrees.

    1-D signals are left as they are.

    Parameters
    ----------
    max_angle : float, default=15
        Largest rotation, in degrees, either way.
    n_angles : int, default=3
        Number of angles of the discrete solver's grid, evenly spaced in
        ``[-max_angle, max_angle]``; odd numbers include the identity.
    """

    _arg_names = ("max_angle", "n_angles")

    def __init__(self, max_angle=15.0, n_angles=3):
        self.max_angle = max_angle
        self.n_angles = n_angles

    def _check(self):
        if not np.isfinite(self.max_angle) or self.max_angle < 0:
            raise ValueError(f"Rotation max_angle must be a non-negative number, got {self.max_angle!r}.")
        if int(self.n_angles) != self.n_angles or self.n_angles < 1:
            raise ValueError(f"Rotation n_angles must be a positive integer, got {self.n_angles!r}.")

    def grid(self, image_shape):
        self._check()
        if min(image_shape[-2:]) == 1 or self.max_angle == 0:
            return [np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])]
        maps = []
        for angle in np.linspace(-self.max_angle, self.max_angle, int(self.n_angles)):
            c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
            maps.append(np.array([[c, -s, 0.0], [s, c, 0.0]]))
        return maps

    def n_params(self, n_channels):
        return 1

    def grid_params(self, image_shape):
        if self.max_angle == 0:
            return None
        grid = np.stack(self.grid(image_shape))
        angles = np.arctan2(grid[:, 1, 0], grid[:, 0, 0])
        return _inverse_tanh(angles / np.radians(self.max_angle))[:, None]

    def apply(self, images, params):
        self._check()
        if min(images.shape[-2:]) == 1:
            return images
        angle = math.radians(self.max_angle) * torch.tanh(params[:, 0])
        maps = _identity_maps(params)
        maps[:, 0, 0] = torch.cos(angle)
        maps[:, 0, 1] = -torch.sin(angle)
        maps[:, 1, 0] = torch.sin(angle)
        maps[:, 1, 1] = torch.cos(angle)
        return warp_images(images, maps)


@plugins.register("transformation", "affine")
class Affine(Transformation):
    """Scaling and shearing about the centre (rotations and shifts are the other plugins).

    The discrete solver searches scales ``1 - max_scale, 1, 1 + max_scale``
    times shears ``-max_shear, 0, max_shear`` (9 maps); the deep solver
    predicts a full affine map, linear part and shift, from the identity.

    Parameters
    ----------
    max_scale : float, default=0.1
        Relative scaling of the discrete grid.
    max_shear : float, default=0.15
        Shear of the discrete grid.
    """

    _arg_names = ("max_scale", "max_shear")

    def __init__(self, max_scale=0.1, max_shear=0.15):
        self.max_scale = max_scale
        self.max_shear = max_shear

    def grid(self, image_shape):
        if not (0 <= self.max_scale < 1) or not (0 <= self.max_shear < 1):
            raise ValueError(
                f"Affine max_scale and max_shear must be in [0, 1), got {self.max_scale!r} and {self.max_shear!r}."
            )
        if min(image_shape[-2:]) == 1:
            return [np.array([[1.0 + s, 0.0, 0.0], [0.0, 1.0 + s, 0.0]]) for s in (-self.max_scale, 0.0, self.max_scale)]
        maps = []
        for s in sorted({-self.max_scale, 0.0, self.max_scale}):
            for h in sorted({-self.max_shear, 0.0, self.max_shear}):
                maps.append(np.array([[1.0 + s, h, 0.0], [0.0, 1.0 + s, 0.0]]))
        return maps

    def n_params(self, n_channels):
        return 6

    def apply(self, images, params):
        height, width = images.shape[-2:]
        maps = _identity_maps(params) + params.view(-1, 2, 3) * params.new_tensor(
            [[1.0, 1.0, height / 2], [1.0, 1.0, width / 2]]
        )
        return warp_images(images, maps)


@plugins.register("transformation", "colour")
class Colour(Transformation):
    """Per-channel intensity affine map ``a * prototype + b``.

    The discrete solver finds, for every sample and transformed prototype,
    the best ``a`` in ``scale_range`` and the best ``b`` in closed form; the
    deep solver predicts ``log a`` and ``b`` per channel.

    Parameters
    ----------
    scale_range : tuple of two floats, default=(0.5, 2.0)
        Smallest and largest contrast factor ``a``; both positive, so a
        prototype is never inverted.
    """

    photometric = True
    _arg_names = ("scale_range",)

    def __init__(self, scale_range=(0.5, 2.0)):
        self.scale_range = scale_range

    def bounds(self):
        """``scale_range`` checked and returned as two floats."""
        try:
            low, high = (float(v) for v in self.scale_range)
        except (TypeError, ValueError):
            raise ValueError(f"Colour scale_range must be two numbers, got {self.scale_range!r}.") from None
        if not (0 < low <= high < np.inf):
            raise ValueError(f"Colour scale_range must satisfy 0 < low <= high, got {self.scale_range!r}.")
        return low, high

    def grid(self, image_shape):
        self.bounds()
        return [np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])]

    def n_params(self, n_channels):
        return 2 * n_channels

    def apply(self, images, params):
        low, high = self.bounds()
        n_channels = images.shape[1]
        log_scale = params[:, :n_channels].clamp(math.log(low), math.log(high))
        offset = params[:, n_channels:]
        return images * torch.exp(log_scale)[:, :, None, None] + offset[:, :, None, None]


@plugins.register("transformation", "morphological")
class Morphological(Transformation):
    """Thickening or thinning of strokes: a blend towards a dilation or an erosion (deep solver only).

    Parameters
    ----------
    kernel_size : int, default=3
        Side of the square structuring element.
    """

    _arg_names = ("kernel_size",)

    def __init__(self, kernel_size=3):
        self.kernel_size = kernel_size

    def n_params(self, n_channels):
        return 1

    def apply(self, images, params):
        k = int(self.kernel_size)
        if k < 1 or k % 2 == 0:
            raise ValueError(f"Morphological kernel_size must be a positive odd integer, got {self.kernel_size!r}.")
        kernel = (1, k) if images.shape[-2] == 1 else (k, k)
        padding = (kernel[0] // 2, kernel[1] // 2)
        dilated = F.max_pool2d(images, kernel, stride=1, padding=padding)
        eroded = -F.max_pool2d(-images, kernel, stride=1, padding=padding)
        alpha = torch.tanh(params[:, :1])[:, :, None, None]
        return images + alpha.clamp(min=0) * (dilated - images) + (-alpha).clamp(min=0) * (eroded - images)


def resolve_transformations(spec):
    """Turn the ``transformations`` parameter into a list of :class:`Transformation` instances.

    Accepts one item or a sequence of items; an item is a registered name, a
    class (instantiated with its defaults) or an instance.
    """
    if spec is None:
        raise ValueError("transformations must name at least one transformation, got None.")
    items = [spec] if isinstance(spec, (str, Transformation, type)) else list(spec)
    if not items:
        raise ValueError("transformations must name at least one transformation, got an empty sequence.")
    out = []
    for item in items:
        component = plugins.resolve("transformation", item)
        if isinstance(component, type):
            component = component()
        if not (hasattr(component, "grid") and hasattr(component, "apply")):
            raise TypeError(
                f"Each transformation must be a registered name, a Transformation class or instance, got {item!r}."
            )
        out.append(component)
    return out
