"""WorkflowStore on SQLite and PostgreSQL: versioned JSON documents in one table.

One row per record: ``(kind, key)`` is unique, ``version`` increases by one
per write, ``document`` is the record as JSON, ``idx_a``/``idx_b`` are the two
lookup values, ``seq`` keeps the order records were first written. A batch
is one transaction (SQLite ``BEGIN IMMEDIATE``; PostgreSQL ``transaction()``):
an insert that finds the key taken, or an update that finds another version,
rolls the whole batch back and raises ``ConcurrentChangeError``. Every value
is a bound parameter; the SQL is shared (only placeholders differ).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from glassgate.adapters.storage._connection import PostgresConnection, SqliteConnection
from glassgate.adapters.storage.workflows.memory import check_batch, conflict
from glassgate.errors import StorageUnavailableError
from glassgate.workflows.stored import WorkflowRecord

__all__ = ["PostgresWorkflowStore", "SqliteWorkflowStore"]

_SELECT = "SELECT kind, key, version, document, idx_a, idx_b, expires_at FROM workflow_records"


def _insert_sql(ph: str) -> str:
    return (
        "INSERT INTO workflow_records (kind, key, version, document, idx_a, idx_b, expires_at) "  # noqa: S608
        f"VALUES ({ph}, {ph}, {ph}, {ph}, {ph}, {ph}, {ph}) ON CONFLICT (kind, key) DO NOTHING"
    )


def _update_sql(ph: str) -> str:
    return (
        f"UPDATE workflow_records SET version = {ph}, document = {ph}, idx_a = {ph}, "  # noqa: S608
        f"idx_b = {ph}, expires_at = {ph} WHERE kind = {ph} AND key = {ph} AND version = {ph}"
    )


def _find_sql(ph: str, a: str | None, b: str | None) -> str:
    where = f"kind = {ph}"
    if a is not None:
        where += f" AND idx_a = {ph}"
    if b is not None:
        where += f" AND idx_b = {ph}"
    return f"{_SELECT} WHERE {where} ORDER BY seq LIMIT {ph}"


def _document(record: WorkflowRecord) -> str:
    return json.dumps(record.document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _write(execute: Callable[[str, tuple[Any, ...]], int], ph: str, record: WorkflowRecord) -> None:
    document = _document(record)
    if record.version == 1:
        row = (record.kind, record.key, 1, document, record.a, record.b, record.expires_at)
        changed = execute(_insert_sql(ph), row)
    else:
        values = (record.version, document, record.a, record.b, record.expires_at)
        changed = execute(_update_sql(ph), (*values, record.kind, record.key, record.version - 1))
    if changed != 1:
        raise conflict(record)


def _record(row: Sequence[Any], where: str) -> WorkflowRecord:
    try:
        document = json.loads(str(row[3]))
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        expires = None if row[6] is None else float(row[6])
        return WorkflowRecord(
            str(row[0]), str(row[1]), int(row[2]), document, row[4], row[5], expires
        )
    except (ValueError, TypeError) as exc:
        raise StorageUnavailableError(
            f"{where}: stored {str(row[0])[:32]} {str(row[1])[:32]!r} is unreadable ({exc})"
        ) from None


class SqliteWorkflowStore(SqliteConnection):
    @classmethod
    def open(cls, path: str, *, busy_timeout: float = 5.0) -> SqliteWorkflowStore:
        return cls(cls._connect(path, busy_timeout), path)

    def commit(self, writes: Sequence[WorkflowRecord]) -> None:
        check_batch(writes)
        with self._transaction("write workflow records") as conn:

            def execute(sql: str, params: tuple[Any, ...]) -> int:
                return conn.execute(sql, params).rowcount

            for record in writes:
                _write(execute, "?", record)

    def get(self, kind: str, key: str) -> WorkflowRecord | None:
        with self._using("read a workflow record") as conn:
            row = conn.execute(f"{_SELECT} WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return None if row is None else _record(row, f"sqlite:{self._path}")

    def find(
        self, kind: str, *, a: str | None = None, b: str | None = None, limit: int = 1000
    ) -> list[WorkflowRecord]:
        params = (*tuple(v for v in (kind, a, b) if v is not None), limit)
        with self._using("find workflow records") as conn:
            rows = conn.execute(_find_sql("?", a, b), params).fetchall()
        return [_record(row, f"sqlite:{self._path}") for row in rows]

    def purge(self, kind: str, before: float) -> int:
        with self._using("purge workflow records") as conn:
            sql = "DELETE FROM workflow_records WHERE kind = ? AND expires_at < ?"
            return conn.execute(sql, (kind, before)).rowcount


class PostgresWorkflowStore(PostgresConnection):
    def commit(self, writes: Sequence[WorkflowRecord]) -> None:
        check_batch(writes)
        with self._using("write workflow records") as conn, conn.transaction():

            def execute(sql: str, params: tuple[Any, ...]) -> int:
                return conn.execute(sql, params).rowcount

            for record in writes:
                _write(execute, "%s", record)

    def get(self, kind: str, key: str) -> WorkflowRecord | None:
        with self._using("read a workflow record") as conn:
            sql = f"{_SELECT} WHERE kind = %s AND key = %s"
            row = conn.execute(sql, (kind, key)).fetchone()
        return None if row is None else _record(row, self._name)

    def find(
        self, kind: str, *, a: str | None = None, b: str | None = None, limit: int = 1000
    ) -> list[WorkflowRecord]:
        params = (*tuple(v for v in (kind, a, b) if v is not None), limit)
        with self._using("find workflow records") as conn:
            rows = conn.execute(_find_sql("%s", a, b), params).fetchall()
        return [_record(row, self._name) for row in rows]

    def purge(self, kind: str, before: float) -> int:
        with self._using("purge workflow records") as conn:
            sql = "DELETE FROM workflow_records WHERE kind = %s AND expires_at < %s"
            return conn.execute(sql, (kind, before)).rowcount
