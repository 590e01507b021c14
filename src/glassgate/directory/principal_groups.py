"""Directory groups for a verified caller: (issuer, subject) -> the user's effective groups.

With ``directory.merge_groups`` on, the gate adds the directory's groups for
the caller to the groups its token carries, so a route can require a group
the IdP does not put in tokens (a rule-derived one, say). The caller is found
by issuer and subject: per issuer, the configuration names the user field
that holds the token's ``sub`` (Okta's ``sub`` is its user id, which Okta's
SCIM provisioning sends as ``externalId``).

Only *active* users get groups; a suspended or deprovisioned user, an
unknown subject or an issuer not configured gets none (never an error: the
token's own groups still apply). Break-glass credentials and API keys are
not directory users and are never enriched.

``GroupLookup`` is built for one snapshot and answers from a per-snapshot
cache, so the per-request cost is a dictionary lookup; a new snapshot gets a
new lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from enum import StrEnum

from glassgate.core.principal import CredentialKind, Principal
from glassgate.directory.state import Directory

__all__ = ["DirectoryGroups", "GroupLookup", "SubjectField"]

_NONE: frozenset[str] = frozenset()
_ENRICHED = frozenset({CredentialKind.JWT, CredentialKind.OPAQUE})


class SubjectField(StrEnum):
    """The user field that equals the token's ``sub`` for one issuer."""

    ID = "id"
    EXTERNAL_ID = "externalId"
    USER_NAME = "userName"


class GroupLookup:
    """One snapshot's answers: (issuer, subject) -> groups, computed once per caller."""

    __slots__ = ("_cache", "_directory", "_external", "_fields")

    def __init__(self, directory: Directory, fields: Mapping[str, SubjectField]) -> None:
        self._directory = directory
        self._fields = fields
        self._cache: dict[tuple[str, str], frozenset[str]] = {}
        self._external: dict[str, str] | None = None  # built on first use

    @property
    def directory(self) -> Directory:
        return self._directory

    def groups(self, issuer: str, subject: str) -> frozenset[str]:
        key = (issuer, subject)
        found = self._cache.get(key)
        if found is None:
            found = self._compute(issuer, subject)
            self._cache[key] = found
        return found

    def _compute(self, issuer: str, subject: str) -> frozenset[str]:
        field = self._fields.get(issuer)
        d = self._directory
        if field is None:
            return _NONE
        if field is SubjectField.ID:
            user = d.user(subject)
        elif field is SubjectField.USER_NAME:
            user = d.user_named(subject)
        else:
            if self._external is None:
                self._external = {
                    u.external_id: u.id for u in d.users.values() if u.external_id is not None
                }
            user_id = self._external.get(subject)
            user = None if user_id is None else d.user(user_id)
        if user is None or not user.active:
            return _NONE
        return d.effective_groups(user.id)


class DirectoryGroups:
    """Adds directory groups to verified principals; ``current`` gives the live snapshot."""

    __slots__ = ("_current", "_fields", "_lookup")

    def __init__(
        self, current: Callable[[], Directory], fields: Mapping[str, SubjectField]
    ) -> None:
        self._current = current
        self._fields = dict(fields)
        self._lookup: GroupLookup | None = None

    def enrich(self, principal: Principal, now: float) -> Principal:
        """``principal`` with its directory groups added (itself when there are none)."""
        if principal.kind not in _ENRICHED:
            return principal
        directory = self._current()
        lookup = self._lookup
        if lookup is None or lookup.directory is not directory:
            lookup = self._lookup = GroupLookup(directory, self._fields)
        extra = lookup.groups(principal.issuer, principal.subject)
        if not extra or extra <= principal.groups:
            return principal
        return replace(principal, groups=principal.groups | extra)
