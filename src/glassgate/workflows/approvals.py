"""The approval engine: M-of-N dual control as an explicit state machine (SPEC C7).

One engine serves break-glass activations and resets (custodian quorum) and
just-in-time grants (issue 13). A request is approved when its
``ApprovalRule`` is met, denied as soon as any eligible approver denies, and
expires unapproved at ``expires_at``::

    PENDING ──approve (rule met)──► APPROVED
       │ ──deny──────────────────► DENIED
       │ ──expire (now ≥ expires)► EXPIRED
       └ ──cancel (requester)────► CANCELLED

Rules are alternatives of group requirements: "two from custodians", or
"two from Admins, or one from Admins and one from Security". Approvers fill
slots, one person one slot, so somebody in both groups never counts twice.
A rule may also require the approver's sign-in to meet a strength level and
to be recent (``max_auth_age``).

Transitions are pure ``(request, action, now) -> (request, events)``; every
move that is not allowed raises a typed error and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from glassgate.errors import (
    ApprovalRefusedError,
    InvalidTransitionError,
    RequestExpiredError,
    WorkflowInputError,
)

__all__ = [
    "Approval",
    "ApprovalEvent",
    "ApprovalRequest",
    "ApprovalRule",
    "ApprovalState",
    "Approver",
    "Requirement",
    "approve",
    "cancel",
    "deny",
    "expire",
    "open_request",
    "rule_met",
]


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Requirement:
    """``count`` distinct approvers who belong to ``group``."""

    group: str
    count: int = 1

    def __post_init__(self) -> None:
        if not self.group or self.count < 1:
            raise ValueError("a requirement names a group and needs at least one approver")


@dataclass(frozen=True, slots=True)
class ApprovalRule:
    """Met when any one alternative is met; each alternative is a set of requirements.

    ``strength``: a level name the approver's authentication must meet.
    ``max_auth_age``: seconds since the approver's authentication, at most.
    """

    alternatives: tuple[tuple[Requirement, ...], ...]
    strength: str | None = None
    max_auth_age: float | None = None

    def __post_init__(self) -> None:
        if not self.alternatives or not all(self.alternatives):
            raise ValueError("an approval rule needs at least one non-empty alternative")
        if self.max_auth_age is not None and self.max_auth_age <= 0:
            raise ValueError("max_auth_age must be positive")

    @classmethod
    def quorum(cls, group: str, count: int, *, strength: str | None = None) -> ApprovalRule:
        """``count`` of the members of ``group`` (the break-glass custodian quorum)."""
        return cls(((Requirement(group, count),),), strength=strength)

    @property
    def groups(self) -> frozenset[str]:
        return frozenset(r.group for alt in self.alternatives for r in alt)


@dataclass(frozen=True, slots=True)
class Approver:
    """Who is deciding, as established by their own sign-in for this decision.

    ``id`` is stable and comparable with the requester's id. ``strengths``
    are the levels the sign-in met; ``key_id`` is the credential that signed
    the decision (a WebAuthn credential id), kept for the post-use report.
    """

    id: str
    groups: frozenset[str]
    strengths: frozenset[str] = frozenset()
    auth_time: float | None = None
    key_id: str | None = None


@dataclass(frozen=True, slots=True)
class Approval:
    """One recorded decision: who, when, in which groups, with which key."""

    approver: str
    at: float
    groups: frozenset[str]
    key_id: str | None = None


@dataclass(frozen=True, slots=True)
class ApprovalEvent:
    """What happened: ``kind`` is requested, approved, quorum-met, denied, expired, cancelled."""

    kind: str
    request_id: str
    at: float
    actor: str
    key_id: str | None = None


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    id: str
    requester: str
    rule: ApprovalRule
    created_at: float
    expires_at: float
    state: ApprovalState = ApprovalState.PENDING
    approvals: tuple[Approval, ...] = ()
    denial: Approval | None = None
    closed_at: float | None = None

    def approvers(self) -> tuple[str, ...]:
        return tuple(a.approver for a in self.approvals)

    def is_expired(self, now: float) -> bool:
        """Pending past its expiry: it can only expire now, whatever the stored state says."""
        return self.state is ApprovalState.PENDING and now >= self.expires_at


Result = tuple[ApprovalRequest, tuple[ApprovalEvent, ...]]


def open_request(
    request_id: str, requester: str, rule: ApprovalRule, now: float, ttl: float
) -> Result:
    if not request_id or not requester:
        raise WorkflowInputError("an approval request needs an id and a requester")
    if ttl <= 0:
        raise WorkflowInputError("an approval request must expire after a positive time")
    request = ApprovalRequest(request_id, requester, rule, now, now + ttl)
    return request, (ApprovalEvent("requested", request_id, now, requester),)


def _check_open(request: ApprovalRequest, action: str, now: float) -> None:
    if request.state is not ApprovalState.PENDING:
        raise InvalidTransitionError(
            request.state.value, action, f"request {request.id} is {request.state.value}"
        )
    if now >= request.expires_at:
        raise RequestExpiredError(f"request {request.id} expired unapproved; file a new request")


def _check_eligible(request: ApprovalRequest, approver: Approver, now: float) -> None:
    rule = request.rule
    if approver.id == request.requester:
        raise ApprovalRefusedError(
            "self-approval", "the requester can never approve or deny their own request"
        )
    if approver.groups.isdisjoint(rule.groups):
        raise ApprovalRefusedError(
            "not-an-approver", f"{approver.id} is not an approver for request {request.id}"
        )
    if rule.strength is not None and rule.strength not in approver.strengths:
        raise ApprovalRefusedError(
            "strength-insufficient",
            f"approving needs a '{rule.strength}' sign-in; sign in again with it",
        )
    if rule.max_auth_age is not None and (
        approver.auth_time is None or not 0 <= now - approver.auth_time <= rule.max_auth_age
    ):
        raise ApprovalRefusedError(
            "auth-age-expired",
            f"approving needs a sign-in within the last {rule.max_auth_age:g}s; sign in again",
        )


def approve(request: ApprovalRequest, approver: Approver, now: float) -> Result:
    """Record ``approver``'s approval; the request is approved once the rule is met."""
    _check_open(request, "approve", now)
    _check_eligible(request, approver, now)
    if approver.id in request.approvers():
        raise ApprovalRefusedError(
            "already-approved", f"{approver.id} already approved request {request.id}"
        )
    approval = Approval(approver.id, now, approver.groups, approver.key_id)
    approvals = (*request.approvals, approval)
    events = [ApprovalEvent("approved", request.id, now, approver.id, approver.key_id)]
    if rule_met(request.rule, approvals):
        updated = replace(request, approvals=approvals, state=ApprovalState.APPROVED, closed_at=now)
        events.append(ApprovalEvent("quorum-met", request.id, now, approver.id))
    else:
        updated = replace(request, approvals=approvals)
    return updated, tuple(events)


def deny(request: ApprovalRequest, approver: Approver, now: float) -> Result:
    """Any eligible approver's denial ends the request."""
    _check_open(request, "deny", now)
    _check_eligible(request, approver, now)
    denial = Approval(approver.id, now, approver.groups, approver.key_id)
    updated = replace(request, state=ApprovalState.DENIED, denial=denial, closed_at=now)
    return updated, (ApprovalEvent("denied", request.id, now, approver.id, approver.key_id),)


def cancel(request: ApprovalRequest, actor: str, now: float) -> Result:
    """The requester withdraws a pending request."""
    if request.state is not ApprovalState.PENDING:
        raise InvalidTransitionError(request.state.value, "cancel")
    if actor != request.requester:
        raise ApprovalRefusedError("not-the-requester", "only the requester can withdraw it")
    updated = replace(request, state=ApprovalState.CANCELLED, closed_at=now)
    return updated, (ApprovalEvent("cancelled", request.id, now, actor),)


def expire(request: ApprovalRequest, now: float) -> Result:
    """A pending request past ``expires_at`` becomes expired (the sweeper and readers call it)."""
    if not request.is_expired(now):
        raise InvalidTransitionError(request.state.value, "expire")
    updated = replace(request, state=ApprovalState.EXPIRED, closed_at=request.expires_at)
    return updated, (ApprovalEvent("expired", request.id, now, "glassgate"),)


def rule_met(rule: ApprovalRule, approvals: Sequence[Approval]) -> bool:
    return any(_alternative_met(alt, approvals) for alt in rule.alternatives)


def _alternative_met(requirements: Iterable[Requirement], approvals: Sequence[Approval]) -> bool:
    """Bipartite matching of slots to distinct approvers (Kuhn's augmenting paths).

    Sizes are a handful of people, so the simple algorithm is plenty; what
    matters is that one person fills at most one slot across all groups.
    """
    slots = [r.group for r in requirements for _ in range(r.count)]
    if len(slots) > len(approvals):
        return False
    holder: dict[int, int] = {}  # approval index -> slot index

    def place(slot: int, seen: set[int]) -> bool:
        for index, approval in enumerate(approvals):
            if slots[slot] not in approval.groups or index in seen:
                continue
            seen.add(index)
            if index not in holder or place(holder[index], seen):
                holder[index] = slot
                return True
        return False

    return all(place(slot, set()) for slot in range(len(slots)))
