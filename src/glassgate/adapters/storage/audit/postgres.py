"""PostgresAuditStore: the shared audit store when several gateway instances run.

Every append is one transaction that first takes a transaction-scoped
advisory lock on "the audit chain" (``pg_advisory_xact_lock``), then reads the
head, links and inserts. All writers of the database, in any process on any
host, are serialised by that lock, so they extend one chain and never fork it;
the primary key on ``seq`` is the second line of defence. A lost connection is
reopened on the next call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from glassgate.adapters.storage._connection import PostgresConnection
from glassgate.adapters.storage.audit._sql import (
    CHAIN_LOCK_KEY,
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
from glassgate.adapters.storage.revision import postgres_schema_revision
from glassgate.audit.chain import GENESIS, ChainHead, StoredRecord, link
from glassgate.audit.checkpoints import Checkpoint
from glassgate.audit.query import AuditQuery
from glassgate.audit.records import AuditEvent, AuditRecord
from glassgate.errors import StorageUnavailableError

if TYPE_CHECKING:  # psycopg loads only when a PostgreSQL store connects (issue 10: RSS)
    import psycopg

__all__ = ["PostgresAuditStore", "postgres_schema_revision"]

_PH = "%s"


class PostgresAuditStore(PostgresConnection):
    """An ``AuditStore`` on PostgreSQL (psycopg 3). Thread-safe: one connection behind a lock."""

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
        row = conn.execute(SELECT_HEAD).fetchone()
        return GENESIS if row is None else ChainHead(int(str(row[0])), str(row[1]))

    def head(self) -> ChainHead:
        with self._using("read the audit head") as conn:
            return self._head(conn)

    def scan(self, after_seq: int = 0, limit: int = 1000) -> list[StoredRecord]:
        with self._using("read audit records") as conn:
            rows = conn.execute(scan_sql(_PH), (after_seq, limit)).fetchall()
        return stored_records(rows, _bytes)

    def search(self, query: AuditQuery) -> list[AuditRecord]:
        sql, params = search_sql(query, _PH)
        with self._using("search audit records") as conn:
            rows = conn.execute(sql, params).fetchall()
        return parse_rows(stored_records(rows, _bytes))

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self._using("store an audit checkpoint") as conn:
            conn.execute(insert_checkpoint_sql(_PH, checkpoint), checkpoint_row(checkpoint))

    def checkpoints(self) -> list[Checkpoint]:
        with self._using("read audit checkpoints") as conn:
            return read_checkpoints(conn)

    def prune(self, checkpoint: Checkpoint) -> int:
        with self._using("prune audit records") as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK_KEY,))
            return prune_records(conn, _PH, checkpoint)


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise StorageUnavailableError("postgres: audit record body is not bytea; check the schema")
