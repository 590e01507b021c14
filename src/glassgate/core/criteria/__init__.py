"""Route criteria, one feature per module, in evaluation order.

Deny-type criteria come first (network, groups, scopes, time window, condition),
then the step-up ones (strength, age): the first deny decides, and a step-up is
only offered when nothing denies. The order is the explicit tuple below, and
``config.compile`` builds every route's criteria in it (adding a criterion
without a place here fails at load).
"""

from __future__ import annotations

__all__ = ["CRITERIA_ORDER"]

CRITERIA_ORDER = (
    "network",
    "groups",
    "scopes",
    "time_window",
    "condition",
    "auth_strength",
    "auth_age",
)
