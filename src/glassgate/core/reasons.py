"""Reasons: why a criterion or a decision came out the way it did.

Kebab-case ``<subject>-<verdict>``; ``*-ok`` and its failure form come in pairs.
They are stable identifiers: logs, metrics, audit records and policy tests
refer to them.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Reason"]


class Reason(StrEnum):
    ROUTE_OK = "route-ok"
    ROUTE_NOT_FOUND = "route-not-found"
    METHOD_DENIED = "method-denied"
    ANONYMOUS_OK = "anonymous-ok"
    TOKEN_MISSING = "token-missing"
    TOKEN_INVALID = "token-invalid"
    ISSUER_OK = "issuer-ok"
    ISSUER_DENIED = "issuer-denied"
    ROUTE_SCOPE_DENIED = "route-scope-denied"
    # A break-glass session outside its recovery (or drill) routes: named by SPEC C7.
    BREAKGLASS_OUT_OF_SCOPE = "breakglass-out-of-scope"
    NETWORK_OK = "network-ok"
    NETWORK_DENIED = "network-denied"
    GROUPS_OK = "groups-ok"
    GROUPS_DENIED = "groups-denied"
    GROUP_DENYLISTED = "group-denylisted"
    SCOPES_OK = "scopes-ok"
    SCOPES_INSUFFICIENT = "scopes-insufficient"
    TIME_WINDOW_OK = "time-window-ok"
    TIME_WINDOW_DENIED = "time-window-denied"
    CONDITION_OK = "condition-ok"
    CONDITION_DENIED = "condition-denied"
    AUTH_STRENGTH_OK = "auth-strength-ok"
    AUTH_STRENGTH_INSUFFICIENT = "auth-strength-insufficient"
    AUTH_AGE_OK = "auth-age-ok"
    AUTH_AGE_EXPIRED = "auth-age-expired"
    QUOTA_OK = "quota-ok"
    QUOTA_EXCEEDED = "quota-exceeded"
    QUOTA_STORE_UNAVAILABLE = "quota-store-unavailable"
    REPORT_ONLY = "report-only"
    PILOT_EXEMPT = "pilot-exempt"
