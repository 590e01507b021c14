"""Verify a whole audit store: every record, and the checkpoints from every place they are kept.

Reads through the ports page by page, so a long log is never held in memory
at once (only a diagnosis after a break looks further ahead).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from glassgate.audit.chain import ChainReport, StoredRecord, verify
from glassgate.audit.checkpoints import Checkpoint
from glassgate.ports import AuditStore, CheckpointLog

__all__ = ["collect_checkpoints", "iter_stored", "verify_log"]


def iter_stored(store: AuditStore, page: int = 1000) -> Iterator[StoredRecord]:
    """Every stored record in storage order, fetched ``page`` at a time."""
    after = 0
    while True:
        batch = store.scan(after, page)
        yield from batch
        if len(batch) < page:
            return
        last = batch[-1].row
        if last is None or last <= after:
            return
        after = last


def collect_checkpoints(logs: Sequence[CheckpointLog]) -> list[Checkpoint]:
    """The union of the checkpoints in ``logs`` (duplicates kept once), by sequence number."""
    found: set[Checkpoint] = set()
    for log in logs:
        found.update(log.checkpoints())
    return sorted(found, key=lambda item: (item.seq, item.ts))


def verify_log(
    store: AuditStore,
    *,
    checkpoint_logs: Sequence[CheckpointLog] = (),
    keys: Mapping[str, Ed25519PublicKey] | None = None,
) -> ChainReport:
    """Raise ``ChainBrokenError`` at the first break; return a report when intact."""
    checkpoints = collect_checkpoints([store, *checkpoint_logs])
    return verify(iter_stored(store), checkpoints, keys)
