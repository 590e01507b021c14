"""Retention: which records ``audit prune --before TIME`` removes, and the event that says so.

Only the oldest part of the chain goes, as one unbroken run: from the first
record still stored up to the last one before the first record at or after
``before`` (records carry event time, so a late writer's record ends the run
early rather than being skipped over). The newest record is always kept: the
chain continues from it. The removal itself is recorded as a privileged
``audit.prune`` event, written before anything is removed, and the range is
signed in a prune checkpoint (``checkpoints``) that ``verify`` accepts.
Pure: records in, a plan out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from glassgate.audit.records import AuditEvent, AuditRecord

__all__ = ["PRUNE_EVENT", "PrunePlan", "plan_prune", "prune_event"]

PRUNE_EVENT = "audit.prune"


@dataclass(frozen=True, slots=True)
class PrunePlan:
    """Records ``first``..``last`` go; ``head`` is record ``last``'s hash (where the log is cut)."""

    first: int
    last: int
    head: str
    before: str

    @property
    def count(self) -> int:
        return self.last - self.first + 1


def plan_prune(records: Iterable[AuditRecord], before: str, newest: int) -> PrunePlan | None:
    """The run of oldest ``records`` (in chain order) written before ``before``; ``None`` if none.

    ``before`` is a stored-format timestamp (``records.format_ts``); ``newest``
    is the head's sequence number, never included.
    """
    first: AuditRecord | None = None
    last: AuditRecord | None = None
    for record in records:
        if record.ts >= before or record.seq >= newest:
            break
        first = first or record
        last = record
    if first is None or last is None:
        return None
    return PrunePlan(first.seq, last.seq, last.hash, before)


def prune_event(plan: PrunePlan, export_sha256: str, actor: str, at: float) -> AuditEvent:
    """The privileged record written before ``plan`` is carried out."""
    return AuditEvent(
        type=PRUNE_EVENT,
        outcome="ok",
        at=at,
        actor=actor,
        details={
            "pruned_from": plan.first,
            "pruned_to": plan.last,
            "records": plan.count,
            "before": plan.before,
            "export_sha256": export_sha256,
        },
    )
