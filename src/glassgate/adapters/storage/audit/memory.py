"""MemoryAuditStore: an in-process ``AuditStore`` for tests and throwaway demos.

It keeps the same contract as the database stores (one lock per append,
append-only, the same search semantics) and is checked by the same suite.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Sequence

from glassgate.audit.chain import GENESIS, ChainHead, StoredRecord, link
from glassgate.audit.checkpoints import Checkpoint
from glassgate.audit.query import AuditQuery
from glassgate.audit.records import AuditEvent, AuditRecord
from glassgate.errors import ChainBrokenError

__all__ = ["MemoryAuditStore"]


def _matches(record: AuditRecord, query: AuditQuery) -> bool:
    exact = (
        (query.subject, record.subject),
        (query.actor, record.actor),
        (query.route, record.route),
        (query.outcome, record.outcome),
    )
    if any(wanted is not None and wanted != value for wanted, value in exact):
        return False
    if query.since is not None and record.ts < query.since:
        return False
    if query.until is not None and record.ts >= query.until:
        return False
    if query.type is not None and not (
        record.type == query.type or record.type.startswith(query.type + ".")
    ):
        return False
    return record.seq > query.after_seq


class MemoryAuditStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[AuditRecord] = []
        self._checkpoints: dict[int, Checkpoint] = {}
        self._prunes: dict[int, Checkpoint] = {}

    def append(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        with self._lock:
            records = link(self._head(), events)
            self._records.extend(records)
        return records

    def _head(self) -> ChainHead:
        if not self._records:
            return GENESIS
        last = self._records[-1]
        return ChainHead(last.seq, last.hash)

    def head(self) -> ChainHead:
        with self._lock:
            return self._head()

    def scan(self, after_seq: int = 0, limit: int = 1000) -> list[StoredRecord]:
        with self._lock:
            start = bisect_right(self._records, after_seq, key=lambda record: record.seq)
            chosen = self._records[start : start + limit]
        return [StoredRecord(record.body, record.hash, record.seq) for record in chosen]

    def search(self, query: AuditQuery) -> list[AuditRecord]:
        with self._lock:
            found = [record for record in self._records if _matches(record, query)]
        if not query.ascending:
            found.reverse()
        return found[: query.limit]

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self._lock:
            kept = self._prunes if checkpoint.is_prune else self._checkpoints
            kept.setdefault(checkpoint.seq, checkpoint)

    def checkpoints(self) -> list[Checkpoint]:
        with self._lock:
            found = [*self._checkpoints.values(), *self._prunes.values()]
        return sorted(found, key=lambda item: (item.seq, item.is_prune))

    def prune(self, checkpoint: Checkpoint) -> int:
        with self._lock:
            seq = checkpoint.seq
            if not self._records or seq >= self._records[-1].seq:
                raise ValueError(f"record {seq} is the newest (or missing): never pruned")
            cut = bisect_right(self._records, seq, key=lambda record: record.seq)
            at = self._records[cut - 1] if cut else None
            if at is not None and at.seq == seq and at.hash != checkpoint.head:
                raise ChainBrokenError(
                    seq, "edited", f"record {seq} no longer has the hash the prune checkpoint signs"
                )
            self._prunes.setdefault(seq, checkpoint)
            del self._records[:cut]
        return cut

    def close(self) -> None:
        """Nothing to release."""
