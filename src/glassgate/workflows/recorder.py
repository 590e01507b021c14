"""The orchestration rule, written once: transition → audit durably → save → alert.

Every state change of a workflow goes through ``Recorder.apply``:

1. its events are written to the audit log with ``await append`` (durable,
   privileged). If that fails, ``AuditUnavailableError`` propagates and
   nothing is saved: no record, no action.
2. a *required* alert (the activation) must be accepted by a sink; if not,
   a refusal is audited and ``AlertDeliveryError`` propagates, nothing saved.
3. the changes are committed in one batch (``ConcurrentChangeError`` if
   someone changed a record meanwhile; the log then over-reports an action
   that did not happen, never the reverse).
4. the other alerts are sent; their failures are logged, never raised.

Refusals (a wrong password, a replayed assertion) are audited too, through
``refused``: best effort, so an audit outage never turns a refusal into
something else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from glassgate.alerts import Alert
from glassgate.audit.records import AuditEvent, AuditRecord
from glassgate.errors import AlertDeliveryError, AuditUnavailableError, GlassgateError
from glassgate.ports import Alerts, AuditAppender
from glassgate.types import Clock, JSONValue
from glassgate.workflows.events import Event
from glassgate.workflows.notices import REQUIRED, alert_for
from glassgate.workflows.records import Change, Records

__all__ = ["Recorder", "audit_event"]

_log = logging.getLogger("glassgate.breakglass")
PREFIX = "breakglass"


def audit_event(event: Event, outcome: str = "ok") -> AuditEvent:
    return AuditEvent(
        type=f"{PREFIX}.{event.name}",
        outcome=outcome,
        at=event.at,
        subject=event.subject,
        actor=event.actor,
        details=event.details,
    )


class Recorder:
    def __init__(
        self,
        records: Records,
        audit: AuditAppender,
        alerts: Alerts,
        clock: Clock,
        *,
        alerts_required: bool,
        runbook: str,
    ) -> None:
        self.records = records
        self._audit = audit
        self._alerts = alerts
        self.clock = clock
        self._required = alerts_required
        self._runbook = runbook

    async def apply(
        self,
        events: Sequence[Event],
        changes: Sequence[Change] | Callable[[list[AuditRecord]], Sequence[Change]],
    ) -> list[AuditRecord]:
        """Audit, then (required alert), then save, then alert; see the module docstring.

        ``changes`` may be a function of the audit records just written, for
        records that cite their own audit range (drills).
        """
        written = [await self._audit.append(audit_event(event)) for event in events]
        alerts = [(event, alert_for(event, self._runbook)) for event in events]
        required = [(e, a) for e, a in alerts if a is not None and self._is_required(e)]
        for event, needed in required:
            await self._send_required(event, needed)
        batch = changes(written) if callable(changes) else changes
        await self.records.commit(*batch)
        for event, alert in alerts:
            if alert is not None and not self._is_required(event):
                await self._alerts.send(alert)
        return written

    def _is_required(self, event: Event) -> bool:
        return self._required and event.name in REQUIRED

    async def _send_required(self, event: Event, alert: Alert) -> None:
        try:
            await self._alerts.send(alert, required=True)
        except AlertDeliveryError as exc:
            await self.refused(event.name, event.actor, event.subject, exc, dict(event.details))
            raise

    async def refused(
        self,
        name: str,
        actor: str,
        subject: str,
        error: GlassgateError,
        details: Mapping[str, JSONValue] | None = None,
    ) -> None:
        """Audit a refusal (best effort): which step, who, and the error's code and detail."""
        facts: dict[str, JSONValue] = dict(details or {})
        facts["error"] = error.code
        detail = getattr(error, "detail", None) or getattr(error, "reason", None)
        if isinstance(detail, str):
            facts["detail"] = detail
        event = Event(name, self.clock(), actor, subject, facts)
        try:
            await self._audit.append(audit_event(event, outcome="refused"))
        except AuditUnavailableError:
            _log.error("the refusal of %s by %s could not be audited", name, actor)
