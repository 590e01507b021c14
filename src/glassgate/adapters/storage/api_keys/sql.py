"""ApiKeyStore on SQLite and PostgreSQL (SPEC C4).

Rows hold a key's digest, never its secret. The SQL is shared by both
databases (only placeholders differ) and every value is a bound parameter.
A row that does not read back as a valid key (edited by hand, say) raises
``StorageUnavailableError``: the gateway then refuses the key, it never guesses.

Each store holds one connection behind a lock, like the audit stores (both
build on ``_connection``); the gateway calls it from one worker thread
(``adapters.idp.api_keys``), so lookups never block the event loop. Writes are
rare (the CLI), reads are indexed by the primary key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from glassgate.adapters.storage._connection import PostgresConnection, SqliteConnection
from glassgate.errors import StorageUnavailableError
from glassgate.tokens.api_keys import ApiKeyRecord

__all__ = ["PostgresApiKeyStore", "SqliteApiKeyStore"]

_COLUMNS = (
    "key_id",
    "name",
    "subject",
    "secret_hash",
    "group_names",
    "route_ids",
    "quota_tier",
    "created_at",
    "created_by",
    "expires_at",
    "revoked_at",
    "revoked_by",
)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM api_keys"  # noqa: S608 - constant names only


def _insert_sql(ph: str) -> str:
    values = ", ".join([ph] * len(_COLUMNS))
    return (
        f"INSERT INTO api_keys ({', '.join(_COLUMNS)}) VALUES ({values}) "  # noqa: S608
        "ON CONFLICT (key_id) DO NOTHING"
    )


def _revoke_sql(ph: str) -> str:
    return (
        f"UPDATE api_keys SET revoked_at = {ph}, revoked_by = {ph} "  # noqa: S608
        f"WHERE key_id = {ph} AND revoked_at IS NULL"
    )


def _json_list(values: frozenset[str] | None) -> str | None:
    if values is None:
        return None
    return json.dumps(sorted(values), ensure_ascii=False, separators=(",", ":"))


def _row(record: ApiKeyRecord) -> tuple[object, ...]:
    return (
        record.key_id,
        record.name,
        record.subject,
        record.secret_hash,
        _json_list(record.groups),
        _json_list(record.routes),
        record.quota_tier,
        record.created_at,
        record.created_by,
        record.expires_at,
        record.revoked_at,
        record.revoked_by,
    )


def _strings(text: object) -> frozenset[str]:
    items = json.loads(str(text))
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueError("not a JSON array of strings")
    return frozenset(items)


def _time(value: object) -> float | None:
    return None if value is None else float(str(value))


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def _record(row: Sequence[object], where: str) -> ApiKeyRecord:
    try:
        created_at = _time(row[7])
        return ApiKeyRecord(
            key_id=str(row[0]),
            name=str(row[1]),
            subject=str(row[2]),
            secret_hash=str(row[3]),
            groups=_strings(row[4]),
            routes=None if row[5] is None else _strings(row[5]),
            quota_tier=_optional(row[6]),
            created_at=0.0 if created_at is None else created_at,
            created_by=_optional(row[8]),
            expires_at=_time(row[9]),
            revoked_at=_time(row[10]),
            revoked_by=_optional(row[11]),
        )
    except (ValueError, TypeError) as exc:  # json errors are ValueErrors
        raise StorageUnavailableError(
            f"{where}: the stored API key {str(row[0])[:32]!r} is unreadable ({exc}); "
            "it is refused until the row is fixed or the key re-created"
        ) from None


class SqliteApiKeyStore(SqliteConnection):
    """An ``ApiKeyStore`` on the SQLite file that also holds the audit log."""

    @classmethod
    def open(cls, path: str, *, busy_timeout: float = 5.0) -> SqliteApiKeyStore:
        return cls(cls._connect(path, busy_timeout), path)

    def add(self, record: ApiKeyRecord) -> bool:
        with self._using("store an API key") as conn:
            return conn.execute(_insert_sql("?"), _row(record)).rowcount == 1

    def get(self, key_id: str) -> ApiKeyRecord | None:
        with self._using("read an API key") as conn:
            row = conn.execute(f"{_SELECT} WHERE key_id = ?", (key_id,)).fetchone()
        return None if row is None else _record(row, f"sqlite:{self._path}")

    def records(self) -> list[ApiKeyRecord]:
        with self._using("list API keys") as conn:
            rows = conn.execute(f"{_SELECT} ORDER BY created_at, key_id").fetchall()
        return [_record(row, f"sqlite:{self._path}") for row in rows]

    def revoke(self, key_id: str, at: float, by: str | None = None) -> ApiKeyRecord | None:
        with self._using("revoke an API key") as conn:
            conn.execute(_revoke_sql("?"), (at, by, key_id))
        return self.get(key_id)


class PostgresApiKeyStore(PostgresConnection):
    """An ``ApiKeyStore`` on PostgreSQL; a lost connection is reopened on the next call."""

    def add(self, record: ApiKeyRecord) -> bool:
        with self._using("store an API key") as conn:
            return conn.execute(_insert_sql("%s"), _row(record)).rowcount == 1

    def get(self, key_id: str) -> ApiKeyRecord | None:
        with self._using("read an API key") as conn:
            row = conn.execute(f"{_SELECT} WHERE key_id = %s", (key_id,)).fetchone()
        return None if row is None else _record(row, self._name)

    def records(self) -> list[ApiKeyRecord]:
        with self._using("list API keys") as conn:
            rows = conn.execute(f"{_SELECT} ORDER BY created_at, key_id").fetchall()
        return [_record(row, self._name) for row in rows]

    def revoke(self, key_id: str, at: float, by: str | None = None) -> ApiKeyRecord | None:
        with self._using("revoke an API key") as conn:
            conn.execute(_revoke_sql("%s"), (at, by, key_id))
        return self.get(key_id)
