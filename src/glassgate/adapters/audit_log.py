"""Assemble the AuditLog from the ``storage`` and ``audit`` config sections.

For the composition root: opens (and on first start migrates) the store,
loads or creates the checkpoint signing key, and builds the sinks. Blocking:
call it at start-up, before serving.
"""

from __future__ import annotations

import logging
from pathlib import Path

from glassgate.adapters.audit_sinks import build_sinks
from glassgate.adapters.clock import now as system_now
from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.storage.audit import open_audit_store
from glassgate.adapters.storage.audit.checkpoint_file import (
    CheckpointFile,
    load_or_create_signing_key,
)
from glassgate.adapters.storage.target import StorageTarget
from glassgate.audit.checkpoints import CheckpointSchedule
from glassgate.audit.events import decision_event, is_privileged_principal
from glassgate.audit.sampling import sampleable_decision
from glassgate.audit.service import AuditLog, AuditSettings, CheckpointPlan
from glassgate.config.audit import AuditConfig
from glassgate.config.storage import StorageConfig
from glassgate.types import Clock

__all__ = ["DecisionAuditor", "build_audit_log"]

_log = logging.getLogger("glassgate.audit")


def build_audit_log(
    storage: StorageConfig,
    audit: AuditConfig,
    *,
    clock: Clock = system_now,
) -> AuditLog:
    """An ``AuditLog`` ready to ``start()``; raises ``StorageUnavailableError`` if unusable."""
    store = open_audit_store(StorageTarget.from_config(storage), migrate=storage.auto_migrate)
    try:
        settings = audit.checkpoint
        if not Path(settings.key_file).exists():
            _log.warning(
                "creating a new audit checkpoint key at %s; keep it apart from the database",
                settings.key_file,
            )
        plan = CheckpointPlan(
            key=load_or_create_signing_key(settings.key_file),
            schedule=CheckpointSchedule(settings.every_records, settings.every),
            logs=(CheckpointFile(settings.file), store),
            to_sinks=settings.to_sinks,
        )
        sinks = build_sinks(audit.sinks, clock=clock)
    except BaseException:
        store.close()
        raise
    return AuditLog(
        store,
        clock=clock,
        settings=AuditSettings.from_config(audit),
        checkpoints=plan,
        sinks=sinks,
    )


class DecisionAuditor:
    """Records every gate decision: queued for ordinary traffic, durable for privileged.

    ``AuditLog.submit`` picks the path; it raises ``AuditUnavailableError`` when a
    privileged record (or, with ``on_failure: refuse``, any record) cannot be
    written, and the gate then refuses the request instead of forwarding it.
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
        event = decision_event(
            decision, result.facts.request, principal, at=now, auth_error=result.token_detail
        )
        if sampleable:
            self.log.record(event, drawn=True)
        else:
            await self.log.submit(event)
