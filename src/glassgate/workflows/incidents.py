"""Incidents: every real activation opens one, and it stays open until closed with notes.

``glassgate breakglass status`` exits non-zero while any is open, so an
activation nobody wrote up keeps showing on dashboards and in CI checks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from glassgate.errors import InvalidTransitionError, WorkflowInputError
from glassgate.types import JSONValue
from glassgate.workflows.events import Event

__all__ = ["MAX_NOTES_CHARS", "Incident", "IncidentState", "close_incident", "open_incident"]

MAX_NOTES_CHARS = 10_000


class IncidentState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    account: str
    request_id: str
    session_id: str
    incident_ref: str | None
    opened_at: float
    state: IncidentState = IncidentState.OPEN
    closed_at: float | None = None
    closed_by: str | None = None
    notes: str | None = None


def open_incident(
    incident_id: str,
    account: str,
    request_id: str,
    session_id: str,
    incident_ref: str | None,
    now: float,
) -> tuple[Incident, tuple[Event, ...]]:
    incident = Incident(incident_id, account, request_id, session_id, incident_ref, now)
    details: dict[str, JSONValue] = {
        "incident_id": incident_id,
        "request_id": request_id,
        "session_id": session_id,
        "incident_ref": incident_ref,
    }
    return incident, (Event("incident.opened", now, "glassgate", account, details),)


def close_incident(
    incident: Incident, actor: str, notes: str, now: float
) -> tuple[Incident, tuple[Event, ...]]:
    if incident.state is not IncidentState.OPEN:
        raise InvalidTransitionError(incident.state.value, "close", f"{incident.id} is closed")
    text = notes.strip()
    if not text or len(text) > MAX_NOTES_CHARS:
        raise WorkflowInputError(
            f"closing an incident needs notes (1-{MAX_NOTES_CHARS} characters): what was done"
        )
    closed = replace(
        incident, state=IncidentState.CLOSED, closed_at=now, closed_by=actor, notes=text
    )
    details: dict[str, JSONValue] = {"incident_id": incident.id, "notes_chars": len(text)}
    return closed, (Event("incident.closed", now, actor, incident.account, details),)
