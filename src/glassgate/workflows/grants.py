"""Just-in-time grants: a group for a while, approved through the approval engine (issue 13).

A grant wraps an ``ApprovalRequest`` with what it is for: the group its type
names, for whom (issuer + subject: the same ``sub`` from another issuer is
another person), for how long::

    PENDING ──rule met──► ACTIVE ──(now ≥ ends_at)──► ENDED
       │                    └──revoke──► REVOKED
       └──deny / expire / withdraw──► DENIED / EXPIRED / CANCELLED

The group counts from the approval that met the rule until ``ends_at``
(approval time + the requested duration) or revocation, whichever is first.
Transitions are pure ``(grant, ..., now) -> (grant, events)``; a refused move
raises a typed ``WorkflowError`` and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from glassgate.errors import ActionForbiddenError, InvalidTransitionError, WorkflowInputError
from glassgate.types import JSONValue
from glassgate.workflows import approvals
from glassgate.workflows.approvals import (
    ApprovalEvent,
    ApprovalRequest,
    ApprovalRule,
    ApprovalState,
    Approver,
)
from glassgate.workflows.events import Event

__all__ = [
    "Grant",
    "GrantState",
    "GrantType",
    "approve",
    "as_document",
    "deny",
    "expire",
    "file_grant",
    "person_id",
    "revoke",
]

MAX_REASON_CHARS = 500


def person_id(issuer: str, subject: str) -> str:
    """One IdP user, comparable across requests: issuer and subject (issuers have no space)."""
    return f"{issuer} {subject}"


class GrantState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    ENDED = "ended"
    REVOKED = "revoked"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class GrantType:
    """One ``grants.types`` entry, compiled: what it grants, to whom, approved how."""

    id: str
    group: str
    max_duration: float
    requesters: frozenset[str]
    rule: ApprovalRule
    alert_on_request: bool = True
    alert_on_approval: bool = True


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    type_id: str
    group: str
    issuer: str
    subject: str
    reason: str
    duration: float
    approval: ApprovalRequest
    ends_at: float | None = None  # set when the rule is met
    revoked_at: float | None = None
    revoked_by: str | None = None

    @property
    def requester(self) -> str:
        return self.approval.requester

    def state(self, now: float) -> GrantState:
        """The state as of ``now``: time turns pending into expired and active into ended."""
        if self.revoked_at is not None:
            return GrantState.REVOKED
        status = self.approval.state
        if status is ApprovalState.APPROVED:
            return GrantState.ACTIVE if now < (self.ends_at or 0.0) else GrantState.ENDED
        if self.approval.is_expired(now):
            return GrantState.EXPIRED
        return GrantState(status.value)

    @property
    def stored_state(self) -> str:
        """The index value kept with the record: what changes only by an action."""
        return "revoked" if self.revoked_at is not None else self.approval.state.value


Result = tuple[Grant, tuple[Event, ...]]


def _details(grant: Grant) -> dict[str, JSONValue]:
    return {
        "grant_id": grant.id,
        "grant_type": grant.type_id,
        "group": grant.group,
        "issuer": grant.issuer,
        "subject": grant.subject,
    }


def _events(grant: Grant, found: tuple[ApprovalEvent, ...]) -> tuple[Event, ...]:
    details = _details(grant)
    return tuple(
        Event(f"grant.{event.kind}", event.at, event.actor, grant.subject, details)
        for event in found
    )


def file_grant(
    grant_id: str,
    kind: GrantType,
    requester: tuple[str, str, frozenset[str]],
    *,
    reason: str,
    duration: float,
    now: float,
    ttl: float,
    group: str | None = None,
) -> Result:
    """Open a request for ``kind``'s group; ``requester`` is (issuer, subject, groups).

    ``group``: the group the caller asked for, when they named one; it must be
    the type's own (a type never grants another group).
    """
    issuer, subject, groups = requester
    if group is not None and group != kind.group:
        raise ActionForbiddenError(f"grant type '{kind.id}' grants the group {kind.group} only")
    if groups.isdisjoint(kind.requesters):
        raise ActionForbiddenError(
            f"grant type '{kind.id}' may be requested by members of "
            f"{', '.join(sorted(kind.requesters))} only"
        )
    if not reason.strip() or len(reason) > MAX_REASON_CHARS or "\n" in reason:
        raise WorkflowInputError(f"give a one-line reason of at most {MAX_REASON_CHARS} chars")
    if not 0 < duration <= kind.max_duration:
        raise WorkflowInputError(
            f"the duration must be positive and at most {kind.max_duration:g}s "
            f"for grant type '{kind.id}'"
        )
    who = person_id(issuer, subject)
    approval, found = approvals.open_request(grant_id, who, kind.rule, now, ttl)
    grant = Grant(
        grant_id, kind.id, kind.group, issuer, subject, reason.strip(), duration, approval
    )
    first = _events(grant, found)[0]
    extra: dict[str, JSONValue] = {
        "reason": grant.reason,
        "duration": duration,
        "expires_at": approval.expires_at,
    }
    return grant, (replace(first, details={**first.details, **extra}),)


def approve(grant: Grant, approver: Approver, now: float) -> Result:
    """One approval; the grant is active from the approval that meets the rule."""
    approval, found = approvals.approve(grant.approval, approver, now)
    ends_at = now + grant.duration if approval.state is ApprovalState.APPROVED else None
    updated = replace(grant, approval=approval, ends_at=ends_at)
    events = _events(updated, found)
    if ends_at is None:
        return updated, events
    last = events[-1]
    return updated, (*events[:-1], replace(last, details={**last.details, "ends_at": ends_at}))


def deny(grant: Grant, approver: Approver, now: float) -> Result:
    approval, found = approvals.deny(grant.approval, approver, now)
    updated = replace(grant, approval=approval)
    return updated, _events(updated, found)


def expire(grant: Grant, now: float) -> Result:
    """Record that a pending request ran out of time (readers see it expired already)."""
    approval, found = approvals.expire(grant.approval, now)
    updated = replace(grant, approval=approval)
    return updated, _events(updated, found)


def revoke(grant: Grant, actor: str, may_revoke: bool, now: float) -> Result:
    """End a grant now: a pending one is withdrawn (its requester only), an active one revoked.

    ``may_revoke``: whether ``actor`` is an approver of the grant's rule or a
    grants admin (the caller knows the groups); the requester always may.
    """
    state = grant.state(now)
    if state is GrantState.PENDING:
        approval, found = approvals.cancel(grant.approval, actor, now)
        updated = replace(grant, approval=approval)
        return updated, _events(updated, found)
    if state is not GrantState.ACTIVE:
        raise InvalidTransitionError(state.value, "revoke", f"grant {grant.id} is {state}")
    if actor != grant.requester and not may_revoke:
        raise ActionForbiddenError(
            "only the requester, an approver of this grant type or a grants admin may revoke it"
        )
    updated = replace(grant, revoked_at=now, revoked_by=actor)
    event = Event("grant.revoked", now, actor, grant.subject, _details(grant))
    return updated, (event,)


def as_document(grant: Grant, now: float) -> dict[str, JSONValue]:
    """The grant as the API and ``grants show --json`` print it (state as of ``now``)."""
    return {
        "id": grant.id,
        "type": grant.type_id,
        "group": grant.group,
        "issuer": grant.issuer,
        "subject": grant.subject,
        "reason": grant.reason,
        "duration": grant.duration,
        "state": grant.state(now).value,
        "created_at": grant.approval.created_at,
        "expires_at": grant.approval.expires_at,
        "approvers": list(grant.approval.approvers()),
        "ends_at": grant.ends_at,
        "revoked_by": grant.revoked_by,
    }
