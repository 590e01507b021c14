"""What the break-glass services return: frozen values, ready for JSON (pydantic or not).

Secrets (a session token, a one-time link token) appear only in the result of
the call that created them, as ``Secret`` (masked in ``repr``); nothing else
here is secret. Times are epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glassgate.types import Secret
from glassgate.workflows.drills import Drill
from glassgate.workflows.incidents import Incident
from glassgate.workflows.requests import BreakglassRequest
from glassgate.workflows.sessions import SESSION_COOKIE, Session

__all__ = [
    "SESSION_COOKIE",
    "ActivatedSession",
    "Actor",
    "ApprovalView",
    "CeremonyOptions",
    "CookieSpec",
    "DecisionResult",
    "DrillView",
    "EnrolmentStart",
    "IncidentView",
    "IssuedLinkView",
    "RequestView",
    "SessionView",
    "SignedIn",
]


@dataclass(frozen=True, slots=True)
class CeremonyOptions:
    """Hand ``public_key`` to ``PublicKeyCredential.parse*OptionsFromJSON``; post back
    ``credential.toJSON()`` with ``challenge_id``."""

    challenge_id: str
    public_key: dict[str, Any]


@dataclass(frozen=True, slots=True)
class IssuedLinkView:
    identity: str  # kind:name
    purpose: str  # enrol | reset
    token: Secret  # goes in the link only, shown once
    expires_at: float


@dataclass(frozen=True, slots=True)
class EnrolmentStart:
    identity: str
    purpose: str
    link_expires_at: float
    ceremony: CeremonyOptions


@dataclass(frozen=True, slots=True)
class Actor:
    """A signed-in local identity (console session), as the services see the caller."""

    ref: str
    kind: str  # breakglass | custodian
    name: str
    console_id: str
    signed_in_at: float
    key_id: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: Secret  # the console session credential (cookie), shown once
    actor: Actor
    expires_at: float


@dataclass(frozen=True, slots=True)
class ApprovalView:
    approver: str
    at: float
    key_id: str | None


@dataclass(frozen=True, slots=True)
class RequestView:
    id: str
    kind: str
    account: str
    requester: str
    reason: str
    incident_ref: str | None
    scope: tuple[str, ...]
    state: str
    created_at: float
    expires_at: float
    quorum: int
    approvals: tuple[ApprovalView, ...]
    denied_by: str | None
    activate_by: float | None
    fulfilled_at: float | None

    @classmethod
    def of(cls, request: BreakglassRequest, quorum: int, now: float) -> RequestView:
        approval = request.approval
        return cls(
            id=request.id,
            kind=request.kind.value,
            account=request.account,
            requester=request.requester,
            reason=request.reason,
            incident_ref=request.incident_ref,
            scope=request.scope,
            state=request.state(now).value,
            created_at=approval.created_at,
            expires_at=approval.expires_at,
            quorum=quorum,
            approvals=tuple(ApprovalView(a.approver, a.at, a.key_id) for a in approval.approvals),
            denied_by=None if approval.denial is None else approval.denial.approver,
            activate_by=request.activate_by,
            fulfilled_at=request.fulfilled_at,
        )


@dataclass(frozen=True, slots=True)
class DecisionResult:
    request: RequestView
    reset_link: IssuedLinkView | None = None  # to the custodian whose approval met a reset's quorum


@dataclass(frozen=True, slots=True)
class SessionView:
    id: str
    request_id: str
    account: str
    drill: bool
    scope: tuple[str, ...]
    client_ip: str
    state: str
    started_at: float
    expires_at: float
    ended_at: float | None
    ended_by: str | None
    uses: int
    first_use_at: float | None

    @classmethod
    def of(cls, session: Session, now: float) -> SessionView:
        state = session.state.value
        if session.state.value == "active" and now >= session.expires_at:
            state = "expired"
        return cls(
            session.id,
            session.request_id,
            session.account,
            session.drill,
            session.scope,
            session.client_ip,
            state,
            session.started_at,
            session.expires_at,
            session.ended_at,
            session.ended_by,
            session.uses,
            session.first_use_at,
        )


@dataclass(frozen=True, slots=True)
class CookieSpec:
    """The browser's copy of the session: ``Set-Cookie: name=value; attributes``."""

    name: str
    value: Secret
    attributes: str


@dataclass(frozen=True, slots=True)
class ActivatedSession:
    token: Secret  # bearer token for API tools: shown once
    cookie: CookieSpec
    session: SessionView


@dataclass(frozen=True, slots=True)
class IncidentView:
    id: str
    account: str
    request_id: str
    session_id: str
    incident_ref: str | None
    state: str
    opened_at: float
    closed_at: float | None
    closed_by: str | None
    notes: str | None

    @classmethod
    def of(cls, incident: Incident) -> IncidentView:
        return cls(
            incident.id,
            incident.account,
            incident.request_id,
            incident.session_id,
            incident.incident_ref,
            incident.state.value,
            incident.opened_at,
            incident.closed_at,
            incident.closed_by,
            incident.notes,
        )


@dataclass(frozen=True, slots=True)
class DrillView:
    id: str
    account: str
    session_id: str
    result: str
    signed_in_at: float
    started_at: float
    first_success_at: float | None
    time_to_access: float | None
    approvers: tuple[ApprovalView, ...]
    first_seq: int | None
    last_seq: int | None
    finished_at: float | None

    @classmethod
    def of(cls, drill: Drill) -> DrillView:
        return cls(
            drill.id,
            drill.account,
            drill.session_id,
            drill.result.value,
            drill.signed_in_at,
            drill.started_at,
            drill.first_success_at,
            drill.time_to_access,
            tuple(ApprovalView(name, drill.started_at, key) for name, key in drill.approvers),
            drill.first_seq,
            drill.last_seq,
            drill.finished_at,
        )
