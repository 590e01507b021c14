"""SqliteAuditStore: the default audit store, one file in WAL mode, zero set-up.

Every append is ``BEGIN IMMEDIATE`` → read head → insert → ``COMMIT``: the
write lock is taken before the head is read, so several processes sharing the
file extend one chain and never fork it. ``synchronous=FULL`` makes a
returned append durable (it survives a power cut, not just a crash), which is
what "written before the privileged action happens" needs.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from glassgate.adapters.storage._errors import map_storage_errors
from glassgate.adapters.storage._sql import (
    checkpoint_row,
    insert_checkpoint_sql,
    insert_record_sql,
    parse_rows,
    record_row,
    search_sql,
)
from glassgate.adapters.storage.migrations import SCHEMA_HEAD
from glassgate.audit.chain import GENESIS, ChainHead, StoredRecord, link
from glassgate.audit.checkpoints import Checkpoint
from glassgate.audit.query import AuditQuery
from glassgate.audit.records import AuditEvent, AuditRecord
from glassgate.errors import StorageUnavailableError

__all__ = ["SqliteAuditStore", "sqlite_schema_revision"]

_PH = "?"


def sqlite_schema_revision(conn: sqlite3.Connection) -> str | None:
    """The Alembic revision of the database, or ``None`` if it has no glassgate schema."""
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def _blob(value: object) -> bytes:
    """SQLite keeps whatever type was written; a tampered row may hold TEXT or a number."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogateescape")


class SqliteAuditStore:
    """An ``AuditStore`` on a SQLite file. Thread-safe: one connection behind a lock."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self._conn = conn
        self._path = path
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str, *, busy_timeout: float = 5.0) -> SqliteAuditStore:
        """Open a migrated database (see ``adapters.storage.open_audit_store``)."""
        with map_storage_errors("sqlite", f"open {path}", (sqlite3.Error,)):
            conn = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                revision = sqlite_schema_revision(conn)
            except BaseException:
                conn.close()
                raise
        if revision != SCHEMA_HEAD:
            conn.close()
            raise StorageUnavailableError(
                f"sqlite:{path} has schema revision {revision or 'none'}, this glassgate needs "
                f"{SCHEMA_HEAD}; run `glassgate db upgrade --db sqlite:///{path}`"
            )
        return cls(conn, path)

    @contextmanager
    def _using(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._lock, map_storage_errors("sqlite", action, (sqlite3.Error,)):
            yield self._conn

    @contextmanager
    def _transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._using(action) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def append(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        if not events:
            return []
        with self._transaction("append audit records") as conn:
            records = link(self._head(conn), events)
            conn.executemany(insert_record_sql(_PH), [record_row(r) for r in records])
        return records

    @staticmethod
    def _head(conn: sqlite3.Connection) -> ChainHead:
        row = conn.execute(
            "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return GENESIS if row is None else ChainHead(int(row[0]), str(row[1]))

    def head(self) -> ChainHead:
        with self._using("read the audit head") as conn:
            return self._head(conn)

    def scan(self, after_seq: int = 0, limit: int = 1000) -> list[StoredRecord]:
        with self._using("read audit records") as conn:
            rows = conn.execute(
                "SELECT seq, body, hash FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [StoredRecord(_blob(body), str(digest), int(seq)) for seq, body, digest in rows]

    def search(self, query: AuditQuery) -> list[AuditRecord]:
        sql, params = search_sql(query, _PH)
        with self._using("search audit records") as conn:
            rows = conn.execute(sql, params).fetchall()
        return parse_rows([(int(seq), _blob(body)) for seq, body in rows])

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self._transaction("store an audit checkpoint") as conn:
            conn.execute(insert_checkpoint_sql(_PH), checkpoint_row(checkpoint))

    def checkpoints(self) -> list[Checkpoint]:
        with self._using("read audit checkpoints") as conn:
            rows = conn.execute(
                "SELECT seq, head, ts, key_id, signature FROM audit_checkpoints ORDER BY seq"
            ).fetchall()
        return [Checkpoint(int(s), str(h), str(t), str(k), str(g)) for s, h, t, k, g in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SqliteAuditStore({self._path!r})"
