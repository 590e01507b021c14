"""Config models for just-in-time grants (issue 13, SPEC C7 last point)::

    grants:
      request_ttl: 1h            # a request nobody approved by then expires
      refresh_interval: 2s       # how soon other instances sharing the database see changes
      admins: [SecurityAdmins]   # may revoke any grant
      types:
        - id: admins-jit
          group: Admins                  # the group an approved grant adds
          max_duration: 1h
          requesters: [Engineers]        # who may request (token or directory groups)
          approval:
            any_of:                      # alternatives: 2 from Admins, or Admins + Security
              - [{group: Admins, count: 2}]
              - [{group: Admins}, {group: Security}]
            strength: mfa                # the approver's token must meet this level
            max_auth_age: 10m            # and its auth_time be at most this old
          alerts: {on_request: true, on_approval: true}
        - id: payments-access            # a route access request (APIPark-style):
          routes: [payments-api]         # no group; the grant lets its holder in here
          max_duration: 8h
          requesters: [Partners]
          approval: {any_of: [[{group: PaymentsOwners}]]}

A type with ``routes`` (with or without ``group``) is narrowed to those routes:
its grant adds the group ``grant:<type id>`` (``added_group``), which exactly
those routes allow besides their own ``allow.groups`` (``route_grant_groups``),
so it opens nothing else. Without ``routes`` the grant adds ``group`` itself,
which counts wherever that group does.

Cross-field rules (known strength level, the grant's group not among its
requesters' only way in, ...) are in ``config.checks``.
"""

from __future__ import annotations

from pydantic import Field

from glassgate.config._model import Model
from glassgate.config._units import Duration
from glassgate.tokens.claims import RESERVED_GROUP_PREFIX

__all__ = [
    "GRANT_GROUP_PREFIX",
    "GrantAlertsConfig",
    "GrantApprovalConfig",
    "GrantRequirementConfig",
    "GrantTypeConfig",
    "GrantsConfig",
    "added_group",
    "route_grant_groups",
]

GRANT_GROUP_PREFIX = RESERVED_GROUP_PREFIX  # never taken from a token (tokens.claims)

_GROUP = Field(min_length=1, max_length=128)
_GROUP_OPTIONAL = Field(default=None, min_length=1, max_length=128)
_WEEK = 7 * 86_400.0


class GrantRequirementConfig(Model):
    group: str = _GROUP
    count: int = Field(default=1, ge=1, le=20)


class GrantApprovalConfig(Model):
    any_of: tuple[tuple[GrantRequirementConfig, ...], ...] = Field(min_length=1, max_length=8)
    strength: str | None = None
    max_auth_age: Duration | None = Field(default=None, gt=0, le=86_400)


class GrantAlertsConfig(Model):
    """Which grant events alert through the ``alerts`` sinks (never required)."""

    on_request: bool = True
    on_approval: bool = True


class GrantTypeConfig(Model):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
    group: str | None = _GROUP_OPTIONAL
    routes: tuple[str, ...] = ()
    max_duration: Duration = Field(gt=0, le=_WEEK)
    requesters: tuple[str, ...] = Field(min_length=1)
    approval: GrantApprovalConfig
    alerts: GrantAlertsConfig = GrantAlertsConfig()


class GrantsConfig(Model):
    """Off while ``types`` is empty: then the gate does nothing per request for grants."""

    request_ttl: Duration = Field(default=3600.0, gt=0, le=_WEEK)
    refresh_interval: Duration = Field(default=2.0, gt=0, le=60)
    admins: tuple[str, ...] = ()
    types: tuple[GrantTypeConfig, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.types)


def added_group(kind: GrantTypeConfig) -> str:
    """The group an approved grant of ``kind`` adds to its holder at the gate."""
    if kind.routes or kind.group is None:
        return GRANT_GROUP_PREFIX + kind.id
    return kind.group


def route_grant_groups(section: GrantsConfig) -> dict[str, frozenset[str]]:
    """Route id -> the narrowed grant groups it allows, besides its own groups."""
    found: dict[str, set[str]] = {}
    for kind in section.types:
        for route in kind.routes:
            found.setdefault(route, set()).add(added_group(kind))
    return {route: frozenset(groups) for route, groups in found.items()}
