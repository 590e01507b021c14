"""Break-glass requests: activations, drills and resets, each gated by the custodian quorum.

A request wraps an ``ApprovalRequest`` with what it is for::

    PENDING ──quorum──► APPROVED ──fulfil──► FULFILLED   (a session, or a reset link)
       │                   └──(not fulfilled by activate_by)──► EXPIRED
       └──deny / expire / cancel──► DENIED / EXPIRED / CANCELLED

An activation or drill is fulfilled by starting its session; a reset by
issuing the one-time reset link. An approved request must be fulfilled within
the request expiry of its approval (``activate_by``), and only once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from glassgate.errors import (
    InvalidTransitionError,
    QuorumNotMetError,
    RequestExpiredError,
    WorkflowInputError,
)
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
    "BreakglassRequest",
    "Decision",
    "RequestKind",
    "RequestState",
    "cancel",
    "decide",
    "expire",
    "file_request",
    "fulfil",
]

MAX_REASON_CHARS = 500
_INCIDENT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/#-]{0,63}$")


class RequestKind(StrEnum):
    ACTIVATION = "activation"
    DRILL = "drill"
    RESET = "reset"


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    FULFILLED = "fulfilled"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Decision(StrEnum):
    APPROVE = "approve"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class BreakglassRequest:
    id: str
    kind: RequestKind
    account: str  # the account's name
    requester: str  # identity ref of whoever filed it (the account, or an operator)
    reason: str
    incident_ref: str | None
    scope: tuple[str, ...]  # route ids the session may reach (empty for a reset)
    session_ttl: float
    approval: ApprovalRequest
    activate_by: float | None = None
    fulfilled_at: float | None = None

    def state(self, now: float) -> RequestState:
        """The state as of ``now``: pending or approved past their time read as expired."""
        if self.fulfilled_at is not None:
            return RequestState.FULFILLED
        status = self.approval.state
        if status is ApprovalState.PENDING and now >= self.approval.expires_at:
            return RequestState.EXPIRED
        approved = status is ApprovalState.APPROVED
        if approved and self.activate_by is not None and now >= self.activate_by:
            return RequestState.EXPIRED
        return RequestState(status.value)

    def binding(self, decision: Decision, approver: str) -> dict[str, JSONValue]:
        """What a custodian's WebAuthn assertion commits to (``challenges``)."""
        return {
            "request_id": self.id,
            "kind": self.kind.value,
            "account": self.account,
            "scope": list(self.scope),
            "expires_at": self.approval.expires_at,
            "decision": decision.value,
            "approver": approver,
        }


Result = tuple[BreakglassRequest, tuple[Event, ...]]


def _events(request: BreakglassRequest, found: tuple[ApprovalEvent, ...]) -> tuple[Event, ...]:
    details: dict[str, JSONValue] = {"request_id": request.id, "account": request.account}
    return tuple(
        Event(
            f"{request.kind.value}.{event.kind}",
            event.at,
            event.actor,
            request.account,
            {**details, "key_id": event.key_id} if event.key_id else details,
        )
        for event in found
    )


def _check_text(reason: str, incident_ref: str | None, kind: RequestKind) -> None:
    if not reason.strip() or len(reason) > MAX_REASON_CHARS or "\n" in reason:
        raise WorkflowInputError(f"give a one-line reason of at most {MAX_REASON_CHARS} chars")
    if kind is RequestKind.ACTIVATION and incident_ref is None:
        raise WorkflowInputError("an activation needs an incident reference (e.g. INC-1234)")
    if incident_ref is not None and not _INCIDENT_REF.match(incident_ref):
        raise WorkflowInputError(
            "the incident reference must be 1-64 letters, digits or _.:/#- (e.g. INC-1234)"
        )


def file_request(
    request_id: str,
    kind: RequestKind,
    account: str,
    requester: str,
    *,
    reason: str,
    incident_ref: str | None,
    scope: tuple[str, ...],
    session_ttl: float,
    rule: ApprovalRule,
    now: float,
    ttl: float,
) -> Result:
    _check_text(reason, incident_ref, kind)
    if kind is not RequestKind.RESET and (not scope or session_ttl <= 0):
        raise WorkflowInputError("a session needs a scope and a positive length")
    approval, found = approvals.open_request(request_id, requester, rule, now, ttl)
    request = BreakglassRequest(
        request_id,
        kind,
        account,
        requester,
        reason.strip(),
        incident_ref,
        scope,
        session_ttl if kind is not RequestKind.RESET else 0.0,
        approval,
    )
    events = _events(request, found)
    first = events[0]
    extra: dict[str, JSONValue] = {
        "reason": request.reason,
        "incident_ref": incident_ref,
        "scope": list(scope),
        "expires_at": approval.expires_at,
    }
    return request, (replace(first, details={**first.details, **extra}),)


def decide(
    request: BreakglassRequest, approver: Approver, decision: Decision, now: float
) -> Result:
    """A custodian's approval or denial (after their bound assertion verified)."""
    move = approvals.approve if decision is Decision.APPROVE else approvals.deny
    approval, found = move(request.approval, approver, now)
    activate_by = None
    if approval.state is ApprovalState.APPROVED:
        activate_by = now + (request.approval.expires_at - request.approval.created_at)
    updated = replace(request, approval=approval, activate_by=activate_by)
    return updated, _events(updated, found)


def fulfil(request: BreakglassRequest, now: float) -> Result:
    """Start the session or issue the reset link: once, after the quorum, in time."""
    state = request.state(now)
    if state is RequestState.PENDING:
        have = len(request.approval.approvals)
        raise QuorumNotMetError(
            f"request {request.id} has {have} approval(s); the custodian quorum is not met"
        )
    if state is RequestState.EXPIRED:
        raise RequestExpiredError(f"request {request.id} expired; file a new request")
    if state is not RequestState.APPROVED:
        raise InvalidTransitionError(state.value, "fulfil", f"request {request.id} is {state}")
    updated = replace(request, fulfilled_at=now)
    name = "activated" if request.kind is not RequestKind.RESET else "link-issued"
    details: dict[str, JSONValue] = {
        "request_id": request.id,
        "account": request.account,
        "approvers": [
            {"approver": a.approver, "key_id": a.key_id} for a in request.approval.approvals
        ],
    }
    event = Event(f"{request.kind.value}.{name}", now, request.requester, request.account, details)
    return updated, (event,)


def expire(request: BreakglassRequest, now: float) -> Result:
    """Record the expiry of a request whose time ran out (pending, or approved but unused)."""
    if request.state(now) is not RequestState.EXPIRED or request.fulfilled_at is not None:
        raise InvalidTransitionError(request.state(now).value, "expire")
    if request.approval.state is ApprovalState.PENDING:
        approval, found = approvals.expire(request.approval, now)
        updated = replace(request, approval=approval)
        return updated, _events(updated, found)
    if request.approval.state is ApprovalState.EXPIRED:
        raise InvalidTransitionError("expired", "expire")
    approval = replace(request.approval, state=ApprovalState.EXPIRED)
    updated = replace(request, approval=approval)
    event = Event(
        f"{request.kind.value}.expired",
        now,
        "glassgate",
        request.account,
        {"request_id": request.id, "account": request.account, "approved_but_unused": True},
    )
    return updated, (event,)


def cancel(request: BreakglassRequest, actor: str, now: float) -> Result:
    approval, found = approvals.cancel(request.approval, actor, now)
    updated = replace(request, approval=approval)
    return updated, _events(updated, found)
