"""Which schema revision a database is at, read with the driver alone (no Alembic import).

Gateway start-up calls this on every start; Alembic is only imported when a
migration is actually due (``upgrade_if_due`` → ``migrate.upgrade``).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from glassgate.adapters.private_files import create_owner_only
from glassgate.adapters.storage._errors import map_storage_errors
from glassgate.adapters.storage.migrations import SCHEMA_HEAD
from glassgate.adapters.storage.target import StorageTarget

if TYPE_CHECKING:  # psycopg loads only for a PostgreSQL target (about 20 MB of RSS otherwise)
    import psycopg

__all__ = [
    "connect_postgres",
    "connect_sqlite",
    "current_revision",
    "driver_errors",
    "postgres_schema_revision",
    "sqlite_schema_revision",
    "upgrade_if_due",
]


def driver_errors(target: StorageTarget) -> tuple[type[BaseException], ...]:
    """The errors ``target``'s driver raises (mapped to ``StorageUnavailableError``)."""
    if target.backend == "sqlite":
        return (sqlite3.Error, OSError)
    import psycopg  # noqa: PLC0415 - see the TYPE_CHECKING import

    return (psycopg.Error, OSError)


def sqlite_schema_revision(conn: sqlite3.Connection) -> str | None:
    """The Alembic revision of the database, or ``None`` if it has no glassgate schema."""
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def postgres_schema_revision(conn: psycopg.Connection[tuple[object, ...]]) -> str | None:
    """The Alembic revision of the database, or ``None`` if it has no glassgate schema."""
    row = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return None
    version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if version is None else str(version[0])


def connect_sqlite(target: StorageTarget) -> sqlite3.Connection:
    create_owner_only(target.location)  # before SQLite creates it: its -wal/-shm copy the mode
    return sqlite3.connect(
        target.location, timeout=target.timeout, isolation_level=None, check_same_thread=False
    )


def connect_postgres(target: StorageTarget) -> psycopg.Connection[tuple[object, ...]]:
    import psycopg  # noqa: PLC0415 - see the TYPE_CHECKING import

    return psycopg.connect(target.location, connect_timeout=max(1, round(target.timeout)))


def current_revision(target: StorageTarget) -> str | None:
    """The database's schema revision, or ``None`` when it has no glassgate schema yet."""
    with map_storage_errors(target.describe(), "read the schema revision", driver_errors(target)):
        if target.backend == "sqlite":
            sqlite_conn = connect_sqlite(target)
            try:
                return sqlite_schema_revision(sqlite_conn)
            finally:
                sqlite_conn.close()
        with connect_postgres(target) as pg_conn:
            return postgres_schema_revision(pg_conn)


def upgrade_if_due(target: StorageTarget) -> None:
    """Migrate ``target`` to ``SCHEMA_HEAD`` unless it is there already."""
    if current_revision(target) != SCHEMA_HEAD:
        # Alembic and SQLAlchemy load only when a migration is due: fast ordinary starts.
        from glassgate.adapters.storage.migrate import upgrade  # noqa: PLC0415

        upgrade(target)
