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

Cross-field rules (known strength level, the grant's group not among its
requesters' only way in, ...) are in ``config.checks``.
"""

from __future__ import annotations

from pydantic import Field

from glassgate.config._model import Model
from glassgate.config._units import Duration

__all__ = [
    "GrantAlertsConfig",
    "GrantApprovalConfig",
    "GrantRequirementConfig",
    "GrantTypeConfig",
    "GrantsConfig",
]

_GROUP = Field(min_length=1, max_length=128)
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
    group: str = _GROUP
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
