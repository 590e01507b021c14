"""Drills: evidence, results, and the overdue rule."""

from __future__ import annotations

import pytest

from glassgate.errors import InvalidTransitionError
from glassgate.workflows.drills import (
    DRILL_INTERVAL,
    DrillResult,
    finish_drill,
    note_success,
    overdue,
    start_drill,
)

APPROVERS = [("custodian:alice", "k1"), ("custodian:bob", "k2")]


def drill(now: float = 100.0):  # type: ignore[no-untyped-def]
    return start_drill(
        "D1", "ops", "S1", signed_in_at=now - 40, approvers=APPROVERS, first_seq=7, now=now
    )


def test_a_drill_passes_once_a_request_got_through() -> None:
    running = drill()
    succeeded, events = note_success(running, 130.0)
    assert succeeded.time_to_access == 70.0
    assert [e.name for e in events] == ["drill.first-success"]
    again, events = note_success(succeeded, 140.0)
    assert again is succeeded
    assert events == ()
    finished, events = finish_drill(succeeded, 19, 200.0)
    assert finished.result is DrillResult.PASSED
    assert (finished.first_seq, finished.last_seq) == (7, 19)
    assert events[0].details["approvers"] == [
        {"approver": "custodian:alice", "key_id": "k1"},
        {"approver": "custodian:bob", "key_id": "k2"},
    ]
    with pytest.raises(InvalidTransitionError):
        finish_drill(finished, 20, 300.0)


def test_a_drill_without_a_successful_request_fails() -> None:
    finished, _ = finish_drill(drill(), 9, 200.0)
    assert finished.result is DrillResult.FAILED
    assert finished.time_to_access is None


def test_overdue_accounts() -> None:
    day = 86400.0
    passed, _ = finish_drill(note_success(drill(0.0), 10.0)[0], 1, 20.0)
    failed, _ = finish_drill(drill(80 * day), 1, 80 * day)
    now = 91 * day
    found = overdue(["ops", "dr", "ops"], [passed, failed], now, DRILL_INTERVAL)
    assert [(o.account, o.last_success_at) for o in found] == [("dr", None), ("ops", 10.0)]
    assert overdue(["ops"], [passed], 30 * day, DRILL_INTERVAL) == []
