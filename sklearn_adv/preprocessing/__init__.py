"""Preprocessing of tables for the networks, free of torch.

:class:`TabularEncoder` encodes mixed numeric and categorical columns as a
float matrix laid out span by span (:class:`Span`), with an exact inverse.
"""

from sklearn_adv.preprocessing._tabular import Span, TabularEncoder, reject_missing_numbers

__all__ = ["Span", "TabularEncoder", "reject_missing_numbers"]
