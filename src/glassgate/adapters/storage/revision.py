"""Which schema revision a database is at, read with the driver alone (no Alembic import).

Gateway start-up calls this on every start; Alembic is only imported when a
migration is actually due (``migrate.upgrade``).
"""

from __future__ import annotations

import sqlite3

import psycopg

from glassgate.adapters.storage._errors import map_storage_errors
from glassgate.adapters.storage.postgres import postgres_schema_revision
from glassgate.adapters.storage.sqlite import sqlite_schema_revision
from glassgate.adapters.storage.target import StorageTarget

__all__ = ["DRIVER_ERRORS", "connect_postgres", "connect_sqlite", "current_revision"]

DRIVER_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, psycopg.Error)


def connect_sqlite(target: StorageTarget) -> sqlite3.Connection:
    return sqlite3.connect(
        target.location, timeout=target.timeout, isolation_level=None, check_same_thread=False
    )


def connect_postgres(target: StorageTarget) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(target.location, connect_timeout=max(1, round(target.timeout)))


def current_revision(target: StorageTarget) -> str | None:
    """The database's schema revision, or ``None`` when it has no glassgate schema yet."""
    with map_storage_errors(target.describe(), "read the schema revision", DRIVER_ERRORS):
        if target.backend == "sqlite":
            sqlite_conn = connect_sqlite(target)
            try:
                return sqlite_schema_revision(sqlite_conn)
            finally:
                sqlite_conn.close()
        with connect_postgres(target) as pg_conn:
            return postgres_schema_revision(pg_conn)
