"""DecisionAuditor: the gate's ``DecisionAudit`` over the ``AuditLog``.

Sampling is decided before the event is built (``audit.sampling``), so an
allowed request that sampling drops costs no event at all.
"""

from __future__ import annotations

from glassgate.adapters.http.gate import GateResult
from glassgate.audit.events import build_decision, is_privileged_principal
from glassgate.audit.sampling import sampleable_decision
from glassgate.audit.service import AuditLog

__all__ = ["DecisionAuditor"]


class DecisionAuditor:
    """Records every gate decision: queued for ordinary traffic, durable for privileged.

    An ordinary decision is queued as its typed fields (``record_decision``):
    the event is built, cleaned and encoded by the audit writer, off the
    request. A privileged one (a break-glass credential) is built here and
    written before the request goes on (``append``); it raises
    ``AuditUnavailableError`` when it cannot be written, as ``record_decision``
    does with ``on_failure: refuse``, and the gate then refuses the request.
    An event that cannot be built becomes a minimal record (typed fields only),
    counted in ``counters.minimal``: a decision is never answered without one.
    """

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    async def audit(self, result: GateResult, now: float) -> None:
        decision, principal, request = result.decision, result.principal, result.facts.request
        if is_privileged_principal(principal):
            await self._durable(result, now)
            return
        rate = 1.0
        would_be = decision.would_be
        if sampleable_decision(
            decision.outcome.value, None if would_be is None else would_be.outcome.value, False
        ):
            if not self.log.keeps_allowed_decision():
                return  # sampled out before anything is built: the common case costs nothing
            rate = self.log.sample_rate
        self.log.record_decision((decision, request, principal, result.token_detail, now, rate))

    async def _durable(self, result: GateResult, now: float) -> None:
        event, minimal = build_decision(
            (result.decision, result.facts.request, result.principal, result.token_detail, now, 1.0)
        )
        if minimal:
            self.log.count_minimal()
        await self.log.append(event)
