"""Drills: a real activation, scoped to a harmless route, that proves the path works.

A drill goes through the same sign-in and approvals as an emergency, but its
session reaches only ``breakglass.drill_route`` and it does not lock the
account. Its evidence: time from sign-in to the first successful request,
who approved (with key ids), the audit record range, and the result. An
account with no successful drill within ``interval`` (90 days by default)
is overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from glassgate.errors import InvalidTransitionError
from glassgate.types import JSONValue
from glassgate.workflows.events import Event

__all__ = [
    "DRILL_INTERVAL",
    "Drill",
    "DrillResult",
    "Overdue",
    "finish_drill",
    "note_success",
    "overdue",
    "start_drill",
]

DRILL_INTERVAL = 90 * 86400.0


class DrillResult(StrEnum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Drill:
    id: str  # the drill's request id
    account: str
    session_id: str
    signed_in_at: float  # the requester's sign-in that led to the request
    started_at: float  # the session's start
    approvers: tuple[tuple[str, str | None], ...]  # (custodian, key id)
    first_seq: int | None  # audit range: the first record of the drill session
    first_success_at: float | None = None
    last_seq: int | None = None
    result: DrillResult = DrillResult.RUNNING
    finished_at: float | None = None

    @property
    def time_to_access(self) -> float | None:
        """Seconds from sign-in to the first successful request through the drill route."""
        if self.first_success_at is None:
            return None
        return self.first_success_at - self.signed_in_at


@dataclass(frozen=True, slots=True)
class Overdue:
    account: str
    last_success_at: float | None  # None: never drilled successfully


def start_drill(
    drill_id: str,
    account: str,
    session_id: str,
    *,
    signed_in_at: float,
    approvers: Sequence[tuple[str, str | None]],
    first_seq: int | None,
    now: float,
) -> Drill:
    return Drill(drill_id, account, session_id, signed_in_at, now, tuple(approvers), first_seq)


def note_success(drill: Drill, now: float) -> tuple[Drill, tuple[Event, ...]]:
    """The first successful request through the drill route: the time to access is known."""
    if drill.first_success_at is not None or drill.result is not DrillResult.RUNNING:
        return drill, ()
    updated = replace(drill, first_success_at=now)
    details: dict[str, JSONValue] = {
        "drill_id": drill.id,
        "session_id": drill.session_id,
        "time_to_access": updated.time_to_access,
    }
    return updated, (Event("drill.first-success", now, "glassgate", drill.account, details),)


def finish_drill(drill: Drill, last_seq: int | None, now: float) -> tuple[Drill, tuple[Event, ...]]:
    """When the drill session ends: passed if a request got through, failed otherwise."""
    if drill.result is not DrillResult.RUNNING:
        raise InvalidTransitionError(drill.result.value, "finish")
    result = DrillResult.PASSED if drill.first_success_at is not None else DrillResult.FAILED
    updated = replace(drill, result=result, finished_at=now, last_seq=last_seq)
    details: dict[str, JSONValue] = {
        "drill_id": drill.id,
        "result": result.value,
        "time_to_access": updated.time_to_access,
        "first_seq": drill.first_seq,
        "last_seq": last_seq,
        "approvers": [{"approver": a, "key_id": k} for a, k in drill.approvers],
    }
    return updated, (Event("drill.finished", now, "glassgate", drill.account, details),)


def overdue(
    accounts: Iterable[str], drills: Iterable[Drill], now: float, interval: float
) -> list[Overdue]:
    """Accounts with no passed drill within ``interval`` seconds of ``now``, by name."""
    last: dict[str, float] = {}
    for drill in drills:
        if drill.result is DrillResult.PASSED and drill.first_success_at is not None:
            last[drill.account] = max(last.get(drill.account, 0.0), drill.first_success_at)
    return [
        Overdue(account, last.get(account))
        for account in sorted(set(accounts))
        if account not in last or now - last[account] > interval
    ]
