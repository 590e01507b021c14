"""MemoryWorkflowStore: versioned documents in a dict, for tests and the demo.

It is held to the same contract as the SQL stores
(``tests/contract/test_workflow_store.py``): batches are all-or-nothing and
every write checks the version it replaces.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence

from glassgate.errors import ConcurrentChangeError
from glassgate.workflows.stored import WorkflowRecord

__all__ = ["MemoryWorkflowStore", "check_batch", "conflict"]


def check_batch(writes: Sequence[WorkflowRecord]) -> None:
    """A batch never writes the same record twice, and versions start at 1."""
    seen: set[tuple[str, str]] = set()
    for write in writes:
        if write.version < 1:
            raise ValueError("record versions start at 1")
        ident = (write.kind, write.key)
        if ident in seen:
            raise ValueError(f"record {write.kind}/{write.key} appears twice in one batch")
        seen.add(ident)


def conflict(write: WorkflowRecord) -> ConcurrentChangeError:
    return ConcurrentChangeError(
        f"{write.kind} {write.key} was changed by someone else meanwhile; reload and retry"
    )


class MemoryWorkflowStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], WorkflowRecord] = {}

    def commit(self, writes: Sequence[WorkflowRecord]) -> None:
        check_batch(writes)
        with self._lock:
            for write in writes:
                current = self._records.get((write.kind, write.key))
                have = 0 if current is None else current.version
                if have != write.version - 1:
                    raise conflict(write)
            for write in writes:
                self._records[(write.kind, write.key)] = copy.deepcopy(write)

    def get(self, kind: str, key: str) -> WorkflowRecord | None:
        with self._lock:
            found = self._records.get((kind, key))
            return copy.deepcopy(found)

    def find(
        self, kind: str, *, a: str | None = None, b: str | None = None, limit: int = 1000
    ) -> list[WorkflowRecord]:
        with self._lock:
            found = [
                record
                for (k, _), record in self._records.items()
                if k == kind and (a is None or record.a == a) and (b is None or record.b == b)
            ]
        return copy.deepcopy(found[:limit])

    def purge(self, kind: str, before: float) -> int:
        with self._lock:
            doomed = [
                ident
                for ident, record in self._records.items()
                if ident[0] == kind and record.expires_at is not None and record.expires_at < before
            ]
            for ident in doomed:
                del self._records[ident]
        return len(doomed)

    def close(self) -> None:
        """Nothing to release."""
