"""SqliteAuditStore: the default audit store, one file in WAL mode, zero set-up.

Every append is ``BEGIN IMMEDIATE`` → read head → insert → ``COMMIT``: the
write lock is taken before the head is read, so several processes sharing the
file extend one chain and never fork it. A batch holding any privileged
record commits with ``synchronous=FULL``: the returned append is durable (it
survives a power cut, not just a crash), which is what "written before the
privileged action happens" needs, and its sync also covers every earlier
commit. A batch of ordinary records only commits with ``synchronous=NORMAL``:
in WAL mode that survives a process crash (SIGKILL) but may lose the last
transactions to a power cut, which is the loss ordinary traffic already
tolerates; it saves a sync per batch, the largest cost of writing them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from glassgate.adapters.storage._connection import SqliteConnection
from glassgate.adapters.storage.audit._sql import (
    SELECT_HEAD,
    checkpoint_row,
    insert_checkpoint_sql,
    insert_record_sql,
    parse_rows,
    prune_records,
    read_checkpoints,
    record_row,
    scan_sql,
    search_sql,
    stored_records,
)
from glassgate.adapters.storage.revision import sqlite_schema_revision
from glassgate.audit.chain import GENESIS, ChainHead, StoredRecord, link
from glassgate.audit.checkpoints import Checkpoint
from glassgate.audit.query import AuditQuery
from glassgate.audit.records import AuditEvent, AuditRecord

__all__ = ["SqliteAuditStore", "sqlite_schema_revision"]

_PH = "?"


def _blob(value: object) -> bytes:
    """SQLite keeps whatever type was written; a tampered row may hold TEXT or a number."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogateescape")


class SqliteAuditStore(SqliteConnection):
    """An ``AuditStore`` on a SQLite file. Thread-safe: one connection behind a lock."""

    _sync_mode = "FULL"  # the connection opens with synchronous=FULL

    @classmethod
    def open(cls, path: str, *, busy_timeout: float = 5.0) -> SqliteAuditStore:
        """Open a migrated database (see ``adapters.storage.open_audit_store``)."""
        upgrade = f"glassgate db upgrade --db sqlite:///{path}"
        return cls(cls._connect(path, busy_timeout, upgrade=upgrade), path)

    def append(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        if not events:
            return []
        self._sync_for(any(event.is_privileged for event in events))
        with self._transaction("append audit records") as conn:
            records = link(self._head(conn), events)
            conn.executemany(insert_record_sql(_PH), [record_row(r) for r in records])
        return records

    def _sync_for(self, privileged: bool) -> None:
        mode = "FULL" if privileged else "NORMAL"
        if self._sync_mode != mode:
            with self._using("set the sync mode") as conn:
                conn.execute(f"PRAGMA synchronous={mode}")
            self._sync_mode = mode

    @staticmethod
    def _head(conn: sqlite3.Connection) -> ChainHead:
        row = conn.execute(SELECT_HEAD).fetchone()
        return GENESIS if row is None else ChainHead(int(row[0]), str(row[1]))

    def head(self) -> ChainHead:
        with self._using("read the audit head") as conn:
            return self._head(conn)

    def scan(self, after_seq: int = 0, limit: int = 1000) -> list[StoredRecord]:
        with self._using("read audit records") as conn:
            rows = conn.execute(scan_sql(_PH), (after_seq, limit)).fetchall()
        return stored_records(rows, _blob)

    def search(self, query: AuditQuery) -> list[AuditRecord]:
        sql, params = search_sql(query, _PH, sqlite=True)
        with self._using("search audit records") as conn:
            rows = conn.execute(sql, params).fetchall()
        return parse_rows(stored_records(rows, _blob))

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self._transaction("store an audit checkpoint") as conn:
            conn.execute(insert_checkpoint_sql(_PH, checkpoint), checkpoint_row(checkpoint))

    def checkpoints(self) -> list[Checkpoint]:
        with self._using("read audit checkpoints") as conn:
            return read_checkpoints(conn)

    def prune(self, checkpoint: Checkpoint) -> int:
        self._sync_for(True)  # the removal is as durable as a privileged record
        with self._transaction("prune audit records") as conn:
            return prune_records(conn, _PH, checkpoint)
