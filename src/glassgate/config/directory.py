"""Config models for the directory (SPEC C6): protected groups, group merging, SCIM.

::

    directory:
      protected_groups: {Admins: 2}     # the lockout guard: never fewer active members
      merge_groups:                     # add directory groups to verified principals
        enabled: true
        issuers: {"https://example.okta.com": externalId}   # which user field is the token's sub
      refresh_interval: 5s              # how soon a gateway sees changes made elsewhere
    scim:
      enabled: true                     # /scim/v2 on the console listener (console.enabled)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from glassgate.config._model import Model
from glassgate.config._units import Duration

__all__ = ["DirectoryConfig", "MergeGroupsConfig", "ScimConfig"]

SubjectFieldName = Literal["id", "externalId", "userName"]


class MergeGroupsConfig(Model):
    """Off by default: then the gateway does nothing per request for the directory."""

    enabled: bool = False
    issuers: dict[str, SubjectFieldName] = Field(default_factory=dict)


class DirectoryConfig(Model):
    """``protected_groups`` follows reloads; turning ``merge_groups`` or ``scim`` on
    or off takes effect on restart (the directory is opened once per process)."""

    protected_groups: dict[str, int] = Field(default_factory=dict)
    merge_groups: MergeGroupsConfig = MergeGroupsConfig()
    refresh_interval: Duration = Field(default=5.0, gt=0, le=300)


class ScimConfig(Model):
    """SCIM 2.0 provisioning at ``/scim/v2`` on the console listener, with a bearer
    token from ``glassgate scim token issue``. Off by default."""

    enabled: bool = False
