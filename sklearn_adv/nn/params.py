"""skorch-style ``role__param`` hyperparameters on scikit-learn estimators.

``DomainAdversarialClassifier(encoder__hidden_units=(32,))`` or
``GridSearchCV(est, {"adversary__hidden_units": [(8,), (32,)]})`` reach the
network built for that role, as ``module__...`` does in skorch. scikit-learn's
``BaseEstimator`` would read ``encoder__hidden_units`` as a parameter of a
nested estimator ``encoder``; this mixin keeps such keys as plain
hyperparameters instead, so ``get_params``, ``set_params`` and ``clone`` work.
"""


class RoleParamsMixin:
    """Mixin (before ``BaseEstimator``) for estimators with named network roles.

    A subclass lists its roles in ``_roles`` (e.g. ``("encoder", "head")``, or
    a dict keyed by role),
    takes ``**role_params`` in ``__init__`` and passes them to
    :meth:`_store_role_params`; :meth:`role_params` gives one role's keyword
    arguments when the network is built.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator, clone
    >>> class Model(RoleParamsMixin, BaseEstimator):
    ...     _roles = ("encoder",)
    ...     def __init__(self, encoder=None, **role_params):
    ...         self.encoder = encoder
    ...         self._store_role_params(role_params)
    >>> model = clone(Model(encoder__hidden_units=(8,)))
    >>> model.role_params("encoder")
    {'hidden_units': (8,)}
    >>> model.set_params(encoder__hidden_units=(4,)).get_params()["encoder__hidden_units"]
    (4,)
    """

    _roles = ()

    def _is_role_param(self, key):
        role, sep, param = key.partition("__")
        return bool(sep and param) and role in self._roles

    def _store_role_params(self, role_params):
        for key, value in role_params.items():
            if not self._is_role_param(key):
                raise TypeError(
                    f"{type(self).__name__} got an unexpected keyword argument {key!r}; network "
                    f"parameters are prefixed by a role, one of {list(self._roles)} "
                    f"(e.g. '{next(iter(self._roles))}__hidden_units')."
                    if self._roles
                    else f"{type(self).__name__} got an unexpected keyword argument {key!r}."
                )
            setattr(self, key, value)

    def role_params(self, role):
        """The keyword arguments routed to ``role``'s network, without the prefix."""
        prefix = role + "__"
        return {key[len(prefix) :]: value for key, value in vars(self).items() if key.startswith(prefix)}

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update({key: value for key, value in vars(self).items() if self._is_role_param(key)})
        return params

    def set_params(self, **params):
        for key in [key for key in params if self._is_role_param(key)]:
            setattr(self, key, params.pop(key))
        return super().set_params(**params)
