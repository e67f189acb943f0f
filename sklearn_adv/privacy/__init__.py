"""Membership-inference audits of fitted classifiers and generators.

:class:`MembershipAuditor` runs one attack against a fitted target;
:func:`membership_metrics` and :func:`plot_membership_roc` report any
membership score the way the literature does. The attacks themselves, and
what a new attack needs, live in :mod:`sklearn_adv.privacy.attacks`; each is
a plugin of kind ``"attack"`` (see :mod:`sklearn_adv.plugins`).
"""

from sklearn_adv.privacy._metrics import membership_metrics, plot_membership_roc
from sklearn_adv.privacy.auditor import MembershipAuditor

__all__ = ["MembershipAuditor", "membership_metrics", "plot_membership_roc"]
