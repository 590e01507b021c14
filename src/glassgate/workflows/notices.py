"""Which workflow events raise an alert, how loud, and the one line a human reads.

An explicit table: events not listed are audited but not alerted. The
activation (or drill) alert is the one that may be *required*: if no sink
accepts it and ``alerts.required`` is on, the activation is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from glassgate.alerts import Alert, Severity
from glassgate.workflows.events import Event

__all__ = ["REQUIRED", "alert_for"]

_WARN, _CRIT, _INFO = Severity.WARNING, Severity.CRITICAL, Severity.INFO

_TABLE: Mapping[str, tuple[Severity, str]] = {
    "activation.requested": (_WARN, "break-glass: {subject} asks for activation ({incident_ref})"),
    "activation.approved": (_WARN, "break-glass: {actor} approved {subject}'s activation"),
    "activation.quorum-met": (_WARN, "break-glass: {subject}'s activation has its quorum"),
    "activation.denied": (_WARN, "break-glass: {actor} denied {subject}'s activation"),
    "activation.expired": (_INFO, "break-glass: {subject}'s activation request expired"),
    "activation.activated": (_CRIT, "break-glass ACTIVE: {subject} (approved, session starts)"),
    "drill.requested": (_INFO, "break-glass drill: {subject} asks for a drill"),
    "drill.approved": (_INFO, "break-glass drill: {actor} approved {subject}'s drill"),
    "drill.denied": (_INFO, "break-glass drill: {actor} denied {subject}'s drill"),
    "drill.activated": (_WARN, "break-glass drill ACTIVE: {subject} (drill route only)"),
    "reset.requested": (_WARN, "break-glass: reset of {subject} opened by {actor}"),
    "reset.approved": (_WARN, "break-glass: {actor} approved the reset of {subject}"),
    "reset.denied": (_WARN, "break-glass: {actor} denied the reset of {subject}"),
    "reset.link-issued": (_WARN, "break-glass: reset link issued for {subject}"),
    "session.first-use": (_CRIT, "break-glass session of {subject} used (first request)"),
    "session.use-summary": (_WARN, "break-glass session of {subject}: {uses} more request(s)"),
    "session.ended": (_WARN, "break-glass session of {subject} ended by {actor}"),
    "session.expired": (_WARN, "break-glass session of {subject} expired"),
    "incident.closed": (_INFO, "break-glass incident of {subject} closed by {actor}"),
}

REQUIRED = frozenset({"activation.activated", "drill.activated"})


def alert_for(event: Event, runbook: str) -> Alert | None:
    found = _TABLE.get(event.name)
    if found is None:
        return None
    severity, template = found
    values = {key: str(value) for key, value in event.details.items()}
    values.update(subject=event.subject, actor=event.actor)
    summary = template.format_map(_Defaulting(values))
    return Alert(
        kind=f"breakglass.{event.name}",
        severity=severity,
        summary=summary[:300],
        at=event.at,
        details=event.details,
        runbook=runbook,
    )


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "-"
