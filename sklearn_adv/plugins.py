"""Registry of named components: networks, transformations, attacks, GAN losses.

Kinds: ``network``, ``transformation``, ``attack`` (membership inference),
``evasion_attack`` (adversarial examples) and ``gan_loss``.

A hyperparameter that takes a component (``encoder="mlp"``,
``attack="rmia"``) accepts either a registered name or the object itself;
:func:`resolve` turns either into the object.

Built-in components register themselves when their module is imported; the
modules listed in ``_BUILTIN_MODULES`` are imported on the first lookup.
Third-party packages add theirs through the entry-point group
``sklearn_adv.plugins``, one entry point per component, named
``"<kind>.<name>"``::

    [options.entry_points]
    sklearn_adv.plugins =
        network.resnet18 = my_package.networks:ResNet18

Examples
--------
>>> from sklearn_adv import plugins
>>> @plugins.register("network", "tiny")
... class Tiny:
...     pass
>>> plugins.resolve("network", "tiny") is Tiny
True
>>> plugins.resolve("network", Tiny) is Tiny
True
>>> plugins.unregister("network", "tiny")
"""

from importlib import import_module
from importlib.metadata import entry_points

KINDS = ("network", "transformation", "attack", "evasion_attack", "gan_loss")
ENTRY_POINT_GROUP = "sklearn_adv.plugins"

# Modules whose import registers the built-in components.
_BUILTIN_MODULES = (
    "sklearn_adv.nn.networks",
    "sklearn_adv.nn.gan",
    "sklearn_adv.cluster.transformations",
    "sklearn_adv.privacy.attacks",
    "sklearn_adv.robustness.attacks",
    "sklearn_adv.augmentation.gan_losses",
)

_registry = {kind: {} for kind in KINDS}
_loaded = False


def _check_kind(kind):
    if kind not in _registry:
        raise ValueError(f"Unknown plugin kind {kind!r}; expected one of {KINDS}.")


def register(kind, name, obj=None):
    """Register ``obj`` under ``name``; usable as a decorator when ``obj`` is None.

    Registering a name twice replaces the earlier component, so a user can
    override a built-in.
    """
    _check_kind(kind)
    if not isinstance(name, str) or not name:
        raise ValueError(f"A plugin name must be a non-empty string, got {name!r}.")

    def decorator(component):
        _registry[kind][name] = component
        return component

    return decorator if obj is None else decorator(obj)


def unregister(kind, name):
    """Remove a registered component (a no-op when it is not there)."""
    _check_kind(kind)
    _registry[kind].pop(name, None)


def _load_plugins():
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _BUILTIN_MODULES:
        try:
            import_module(module)
        except ModuleNotFoundError as exc:
            # A family that is not part of this installation registers nothing;
            # a module that fails on an import of its own is a real error.
            if not (module == exc.name or module.startswith(f"{exc.name}.")):
                raise
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        kind, _, name = entry_point.name.partition(".")
        if kind in _registry and name and name not in _registry[kind]:
            _registry[kind][name] = entry_point.load()


def available(kind):
    """Sorted names registered for ``kind``."""
    _check_kind(kind)
    _load_plugins()
    return sorted(_registry[kind])


def get(kind, name):
    """The component registered as ``name``; a ValueError lists the valid names."""
    _check_kind(kind)
    _load_plugins()
    try:
        return _registry[kind][name]
    except KeyError:
        raise ValueError(
            f"Unknown {kind} {name!r}; registered {kind}s are {available(kind)}."
        ) from None


def resolve(kind, spec):
    """A registered name becomes its component; anything else is returned as is."""
    return get(kind, spec) if isinstance(spec, str) else spec
