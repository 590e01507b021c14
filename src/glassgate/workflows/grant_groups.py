"""Active grants at the gate: (issuer, subject) -> the groups their grants add, until they end.

``GrantGroups`` is the ``PrincipalEnricher`` for just-in-time grants. It holds
only *active* grants, in a dictionary keyed by issuer and subject, so a
principal with no grant costs one dictionary lookup per request (issue 13,
point 6). A grant counts until its ``ends_at`` (checked per request against
the gate's ``now``) or until it is revoked: the instance that revoked it drops
it at once (``put``); every other instance sharing the database drops it at
its next ``replace_all`` (every ``grants.refresh_interval``).

Only IdP principals (JWT, opaque) get grant groups: API keys are machines and
break-glass principals never pass through the enrichers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from glassgate.core.principal import CredentialKind, Principal
from glassgate.workflows.grants import Grant, GrantState

__all__ = ["GrantGroups"]

_ENRICHED = frozenset({CredentialKind.JWT, CredentialKind.OPAQUE})


@dataclass(frozen=True, slots=True)
class _Active:
    grant_id: str
    group: str
    ends_at: float


class GrantGroups:
    """The index of active grants, and the enricher reading it."""

    __slots__ = ("_by_person", "changes")

    def __init__(self) -> None:
        self._by_person: dict[tuple[str, str], tuple[_Active, ...]] = {}
        self.changes = 0  # local changes so far: a refresh read before one must not undo it

    def enrich(self, principal: Principal, now: float) -> Principal:
        """``principal`` with the groups of its active grants (itself when it has none)."""
        found = self._by_person.get((principal.issuer, principal.subject))
        if found is None or principal.kind not in _ENRICHED:
            return principal
        live = [grant for grant in found if now < grant.ends_at]
        if not live:
            return principal
        groups = principal.groups | {grant.group for grant in live}
        ids = tuple(grant.grant_id for grant in live)
        return replace(principal, groups=groups, grants=(*principal.grants, *ids))

    def put(self, grant: Grant, now: float) -> None:
        """Take one grant's new state into account now (this instance changed it)."""
        self.changes += 1
        key = (grant.issuer, grant.subject)
        kept = tuple(g for g in self._by_person.get(key, ()) if g.grant_id != grant.id)
        if grant.state(now) is GrantState.ACTIVE and grant.ends_at is not None:
            kept = (*kept, _Active(grant.id, grant.group, grant.ends_at))
        if kept:
            self._by_person[key] = kept
        else:
            self._by_person.pop(key, None)

    def replace_all(self, grants: Iterable[Grant], now: float) -> None:
        """Rebuild from the store's approved grants (a refresh); one swap, never half."""
        index: dict[tuple[str, str], tuple[_Active, ...]] = {}
        for grant in grants:
            if grant.state(now) is GrantState.ACTIVE and grant.ends_at is not None:
                key = (grant.issuer, grant.subject)
                index[key] = (*index.get(key, ()), _Active(grant.id, grant.group, grant.ends_at))
        self._by_person = index

    def __len__(self) -> int:
        return len(self._by_person)
