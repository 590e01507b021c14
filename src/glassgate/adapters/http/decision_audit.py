"""DecisionAuditor: the gate's ``DecisionAudit`` over the ``AuditLog``.

Sampling is decided before the event is built (``audit.sampling``), so an
allowed request that sampling drops costs no event at all.
"""

from __future__ import annotations

from glassgate.adapters.http.gate import GateResult
from glassgate.audit.events import (
    decision_event,
    is_privileged_principal,
    minimal_decision_event,
)
from glassgate.audit.sampling import sampleable_decision
from glassgate.audit.service import AuditLog

__all__ = ["DecisionAuditor"]


class DecisionAuditor:
    """Records every gate decision: queued for ordinary traffic, durable for privileged.

    ``AuditLog.submit`` picks the path; it raises ``AuditUnavailableError`` when a
    privileged record (or, with ``on_failure: refuse``, any record) cannot be
    written, and the gate then refuses the request instead of forwarding it.
    An event that cannot be built becomes a minimal record (typed fields only),
    counted in ``counters.minimal``: a decision is never answered without one.
    """

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    async def audit(self, result: GateResult, now: float) -> None:
        decision, principal = result.decision, result.principal
        would_be = decision.would_be.outcome.value if decision.would_be is not None else None
        sampleable = sampleable_decision(
            decision.outcome.value, would_be, is_privileged_principal(principal)
        )
        if sampleable and not self.log.keeps_allowed_decision():
            return  # sampled out before the event is built: the common case costs nothing
        request = result.facts.request
        try:
            event = decision_event(
                decision, request, principal, at=now, auth_error=result.token_detail
            )
        except ValueError:
            # never a 500 without a record: what the client sent could not be made
            # recordable, so the decision is kept with its typed fields only
            event = minimal_decision_event(decision, request, principal, at=now)
            self.log.count_minimal()
        if sampleable:
            self.log.record(event, drawn=True)
        else:
            await self.log.submit(event)
