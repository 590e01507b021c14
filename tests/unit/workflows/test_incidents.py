"""Incidents open with each activation and close only with notes."""

from __future__ import annotations

import pytest

from glassgate.errors import InvalidTransitionError, WorkflowInputError
from glassgate.workflows.incidents import IncidentState, close_incident, open_incident


def test_open_then_close_with_notes() -> None:
    incident, events = open_incident("I1", "ops", "R1", "S1", "INC-7", 10.0)
    assert incident.state is IncidentState.OPEN
    assert [e.name for e in events] == ["incident.opened"]
    closed, events = close_incident(incident, "cli:root", "  restored SSO settings  ", 20.0)
    assert closed.state is IncidentState.CLOSED
    assert closed.notes == "restored SSO settings"
    assert [e.name for e in events] == ["incident.closed"]
    with pytest.raises(InvalidTransitionError):
        close_incident(closed, "cli:root", "again", 30.0)


@pytest.mark.parametrize("notes", ["", "   ", "x" * 10_001])
def test_notes_are_required_and_bounded(notes: str) -> None:
    incident, _ = open_incident("I1", "ops", "R1", "S1", None, 10.0)
    with pytest.raises(WorkflowInputError):
        close_incident(incident, "cli:root", notes, 20.0)
