"""Break-glass sessions: what an approved activation grants, and for how long (SPEC C7).

A session is short (default 30 minutes, a configured hard maximum never above
60), bound to the client address it was started from, and limited to its
scope (the recovery routes, or the drill route for a drill)::

    ACTIVE ──end (any custodian, or the requester)──► ENDED
       └────expire (now ≥ expires_at)───────────────► EXPIRED

Every use is checked here (``check_use``): after the end or expiry, or from
another address, it is refused with a typed error. ``note_use`` decides
which uses are alerted: the first, then a summary at most every
``summary_every`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from glassgate.errors import (
    ActionForbiddenError,
    InvalidTransitionError,
    SessionAddressError,
    SessionEndedError,
    WorkflowInputError,
)
from glassgate.types import JSONValue, Secret
from glassgate.workflows import bearer
from glassgate.workflows.events import Event

__all__ = [
    "HARD_MAX_SESSION",
    "SESSION_COOKIE",
    "SESSION_PREFIX",
    "IssuedSession",
    "Session",
    "SessionState",
    "check_use",
    "end",
    "expire",
    "is_session_token",
    "note_use",
    "parse_session_token",
    "start_session",
]

HARD_MAX_SESSION = 3600.0
SESSION_PREFIX = "ggbg_"
SESSION_COOKIE = "gg_breakglass"  # the browser's copy: Secure; HttpOnly; SameSite=Strict


class SessionState(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    request_id: str
    account: str
    drill: bool
    scope: tuple[str, ...]
    client_ip: str
    secret_hash: str  # SHA-256 hex of the token's secret part
    started_at: float
    expires_at: float
    state: SessionState = SessionState.ACTIVE
    ended_at: float | None = None
    ended_by: str | None = None
    first_use_at: float | None = None
    uses: int = 0
    reported_uses: int = 0
    reported_at: float | None = None
    first_seq: int | None = None  # audit range: the activation record ...
    last_seq: int | None = None  # ... to the end or expiry record

    def live(self, now: float) -> bool:
        return self.state is SessionState.ACTIVE and now < self.expires_at

    def __repr__(self) -> str:
        return f"Session({self.id!r}, account={self.account!r}, state={self.state.value!r})"


@dataclass(frozen=True, slots=True)
class IssuedSession:
    token: Secret  # ``ggbg_<id>_<secret>``: shown once (bearer), or set as the cookie
    session: Session


def is_session_token(raw: str) -> bool:
    return raw[: len(SESSION_PREFIX)].lower() == SESSION_PREFIX


def parse_session_token(raw: str) -> tuple[str, str] | None:
    """``(session id, secret)`` of a well-formed token, else None."""
    return bearer.parse(SESSION_PREFIX, raw)


def start_session(
    request_id: str,
    account: str,
    *,
    drill: bool,
    scope: tuple[str, ...],
    client_ip: str,
    ttl: float,
    now: float,
) -> tuple[IssuedSession, tuple[Event, ...]]:
    if not 0 < ttl <= HARD_MAX_SESSION:
        raise WorkflowInputError("a break-glass session lasts more than 0 and at most 60 minutes")
    if not scope:
        raise WorkflowInputError("a break-glass session needs a scope")
    minted = bearer.mint(SESSION_PREFIX)
    session_id = minted.id
    session = Session(
        session_id, request_id, account, drill, scope, client_ip, minted.digest, now, now + ttl
    )
    details: dict[str, JSONValue] = {
        "session_id": session_id,
        "request_id": request_id,
        "client_ip": client_ip,
        "scope": list(scope),
        "expires_at": session.expires_at,
        "drill": drill,
    }
    event = Event("session.started", now, f"breakglass:{account}", account, details)
    return IssuedSession(minted.token, session), (event,)


def check_use(session: Session, secret: str, client_ip: str, now: float) -> None:
    """Refuse a wrong secret, an ended or expired session, or another client address."""
    if not bearer.digest_matches(session.secret_hash, secret):
        raise SessionEndedError("this break-glass session token is not valid")
    if not session.live(now):
        raise SessionEndedError(
            f"break-glass session {session.id} has {_finished(session, now)}; "
            "a new activation needs a new request and approvals"
        )
    if client_ip != session.client_ip:
        raise SessionAddressError(
            f"break-glass session {session.id} is bound to the address it started from; "
            "this request came from another address"
        )


def _finished(session: Session, now: float) -> str:
    return "ended" if session.state is SessionState.ENDED else "expired"


def note_use(
    session: Session, now: float, summary_every: float
) -> tuple[Session, tuple[Event, ...]]:
    """Count one use; the first use and then a summary per ``summary_every`` are events."""
    uses = session.uses + 1
    if session.first_use_at is None:
        updated = replace(session, uses=uses, first_use_at=now, reported_uses=uses, reported_at=now)
        return updated, (_use_event(updated, "session.first-use", now, uses),)
    if session.reported_at is not None and now - session.reported_at < summary_every:
        return replace(session, uses=uses), ()
    updated = replace(session, uses=uses, reported_uses=uses, reported_at=now)
    return updated, (_use_event(updated, "session.use-summary", now, uses - session.reported_uses),)


def _use_event(session: Session, name: str, now: float, count: int) -> Event:
    details: dict[str, JSONValue] = {
        "session_id": session.id,
        "uses": count,
        "total_uses": session.uses,
        "drill": session.drill,
    }
    return Event(name, now, f"breakglass:{session.account}", session.account, details)


def end(
    session: Session, actor: str, now: float, *, may_end: bool
) -> tuple[Session, tuple[Event, ...]]:
    """End early. ``may_end``: the actor is a custodian or the session's own account."""
    if not may_end:
        raise ActionForbiddenError("only a custodian or the requester can end this session")
    if not session.live(now):
        raise InvalidTransitionError(
            _finished(session, now), "end", f"session {session.id} has {_finished(session, now)}"
        )
    updated = replace(session, state=SessionState.ENDED, ended_at=now, ended_by=actor)
    details: dict[str, JSONValue] = {"session_id": session.id, "uses": session.uses}
    return updated, (Event("session.ended", now, actor, session.account, details),)


def expire(session: Session, now: float) -> tuple[Session, tuple[Event, ...]]:
    if session.state is not SessionState.ACTIVE or now < session.expires_at:
        raise InvalidTransitionError(session.state.value, "expire")
    updated = replace(session, state=SessionState.EXPIRED, ended_at=session.expires_at)
    details: dict[str, JSONValue] = {"session_id": session.id, "uses": session.uses}
    return updated, (Event("session.expired", now, "glassgate", session.account, details),)
