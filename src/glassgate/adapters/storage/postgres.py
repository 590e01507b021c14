"""PostgresAuditStore: the shared audit store when several gateway instances run.

Every append is one transaction that first takes a transaction-scoped
advisory lock on "the audit chain" (``pg_advisory_xact_lock``), then reads the
head, links and inserts. All writers of the database, in any process on any
host, are serialised by that lock, so they extend one chain and never fork it;
the primary key on ``seq`` is the second line of defence. A lost connection is
reopened on the next call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg

from glassgate.adapters.storage._errors import map_storage_errors
from glassgate.adapters.storage._sql import (
    CHAIN_LOCK_KEY,
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

__all__ = ["PostgresAuditStore", "postgres_schema_revision"]

_PH = "%s"
_ERRORS = (psycopg.Error,)
# Bound every wait: a stuck lock or statement must surface as an error, not a hang.
_SESSION_SETTINGS = ("SET lock_timeout = '10s'", "SET statement_timeout = '30s'")


def postgres_schema_revision(conn: psycopg.Connection[tuple[object, ...]]) -> str | None:
    """The Alembic revision of the database, or ``None`` if it has no glassgate schema."""
    row = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return None
    version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if version is None else str(version[0])


class PostgresAuditStore:
    """An ``AuditStore`` on PostgreSQL (psycopg 3). Thread-safe: one connection behind a lock."""

    def __init__(self, dsn: str, *, connect_timeout: float = 5.0, name: str = "postgres") -> None:
        self._dsn = dsn
        self._timeout = max(1, round(connect_timeout))
        self._name = name
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    @classmethod
    def open(
        cls, dsn: str, *, connect_timeout: float = 5.0, name: str = "postgres"
    ) -> PostgresAuditStore:
        """Connect and check the schema revision (see ``adapters.storage.open_audit_store``)."""
        store = cls(dsn, connect_timeout=connect_timeout, name=name)
        with store._using("open the database") as conn:
            revision = postgres_schema_revision(conn)
        if revision != SCHEMA_HEAD:
            store.close()
            raise StorageUnavailableError(
                f"{name} has schema revision {revision or 'none'}, this glassgate needs "
                f"{SCHEMA_HEAD}; run `glassgate db upgrade`"
            )
        return store

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        if conn is not None:
            conn.close()
        conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=self._timeout)
        try:
            for statement in _SESSION_SETTINGS:
                conn.execute(statement)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    @contextmanager
    def _using(self, action: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        with self._lock, map_storage_errors(self._name, action, _ERRORS):
            yield self._connection()

    def append(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        if not events:
            return []
        with self._using("append audit records") as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK_KEY,))
            records = link(self._head(conn), events)
            with conn.cursor() as cursor:
                cursor.executemany(insert_record_sql(_PH), [record_row(r) for r in records])
        return records

    @staticmethod
    def _head(conn: psycopg.Connection[tuple[object, ...]]) -> ChainHead:
        row = conn.execute(
            "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return GENESIS if row is None else ChainHead(int(str(row[0])), str(row[1]))

    def head(self) -> ChainHead:
        with self._using("read the audit head") as conn:
            return self._head(conn)

    def scan(self, after_seq: int = 0, limit: int = 1000) -> list[StoredRecord]:
        with self._using("read audit records") as conn:
            rows = conn.execute(
                "SELECT seq, body, hash FROM audit_records WHERE seq > %s ORDER BY seq LIMIT %s",
                (after_seq, limit),
            ).fetchall()
        return [
            StoredRecord(_bytes(body), str(digest), int(str(seq))) for seq, body, digest in rows
        ]

    def search(self, query: AuditQuery) -> list[AuditRecord]:
        sql, params = search_sql(query, _PH)
        with self._using("search audit records") as conn:
            rows = conn.execute(sql, params).fetchall()
        return parse_rows([(int(str(seq)), _bytes(body)) for seq, body in rows])

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self._using("store an audit checkpoint") as conn:
            conn.execute(insert_checkpoint_sql(_PH), checkpoint_row(checkpoint))

    def checkpoints(self) -> list[Checkpoint]:
        with self._using("read audit checkpoints") as conn:
            rows = conn.execute(
                "SELECT seq, head, ts, key_id, signature FROM audit_checkpoints ORDER BY seq"
            ).fetchall()
        return [Checkpoint(int(str(s)), str(h), str(t), str(k), str(g)) for s, h, t, k, g in rows]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __repr__(self) -> str:
        return f"PostgresAuditStore({self._name!r})"


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise StorageUnavailableError("postgres: audit record body is not bytea; check the schema")
