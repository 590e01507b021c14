"""Builders for audit tests: deterministic events, chains, keys and checkpoints."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glassgate.audit.chain import GENESIS, StoredRecord, link
from glassgate.audit.checkpoints import Checkpoint, sign_checkpoint
from glassgate.audit.records import AuditEvent, AuditRecord

__all__ = ["T0", "checkpoint_at", "event", "make_chain", "stored"]

T0 = 1_790_000_000.0  # a fixed instant: 2026-09-21T...Z


def event(index: int = 0, **overrides: object) -> AuditEvent:
    """A plausible decision event; ``overrides`` replace any field."""
    fields: dict[str, object] = {
        "type": "decision",
        "outcome": "deny" if index % 3 == 1 else "allow",
        "at": T0 + index,
        "subject": f"user-{index % 4}",
        "route": f"route-{index % 2}",
        "reasons": ("groups-ok",),
        "request_id": f"req-{index}",
        "details": {"method": "GET", "path": f"/api/items/{index}"},
    }
    fields.update(overrides)
    return AuditEvent(**fields)  # type: ignore[arg-type]


def make_chain(count: int) -> list[AuditRecord]:
    return link(GENESIS, [event(index) for index in range(count)])


def stored(records: list[AuditRecord]) -> list[StoredRecord]:
    return [StoredRecord(record.body, record.hash, record.seq) for record in records]


def checkpoint_at(record: AuditRecord, key: Ed25519PrivateKey) -> Checkpoint:
    return sign_checkpoint(record.seq, record.hash, T0 + 10_000 + record.seq, key)
