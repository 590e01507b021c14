"""One database connection behind a lock: what every SQL store (audit log, API keys) holds.

``SqliteConnection`` opens the file in WAL mode with ``synchronous=FULL`` and
refuses a database whose schema is not at ``SCHEMA_HEAD``. ``PostgresConnection``
connects on first use, bounds every wait with session settings, and reopens a
lost connection on the next call. Each store subclasses one of them and runs
every call inside ``_using``: under the lock, with driver errors mapped to
``StorageUnavailableError``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Self, TypeVar

from glassgate.adapters.private_files import create_owner_only
from glassgate.adapters.storage._errors import map_storage_errors
from glassgate.adapters.storage.migrations import SCHEMA_HEAD
from glassgate.adapters.storage.revision import postgres_schema_revision, sqlite_schema_revision
from glassgate.errors import StorageUnavailableError

if TYPE_CHECKING:  # psycopg loads only when a PostgreSQL store connects (issue 10: RSS)
    import psycopg

__all__ = ["PostgresConnection", "SqliteConnection", "check_schema"]

_UPGRADE = "glassgate db upgrade"

T = TypeVar("T")
# Bound every wait: a stuck lock or statement must surface as an error, not a hang.
_PG_SESSION = ("SET lock_timeout = '10s'", "SET statement_timeout = '30s'")


def check_schema(revision: str | None, name: str, upgrade: str = _UPGRADE) -> None:
    """``StorageUnavailableError`` naming the command to run, unless ``revision`` is the head."""
    if revision != SCHEMA_HEAD:
        raise StorageUnavailableError(
            f"{name} has schema revision {revision or 'none'}, this glassgate needs "
            f"{SCHEMA_HEAD}; run `{upgrade}`"
        )


def _retry_while_busy(step: Callable[[], T], timeout: float) -> T:
    """Run ``step``, retrying while another process holds the database (SQLITE_BUSY).

    Switching to WAL needs an exclusive lock and SQLite does not always wait for
    it through the busy handler: a process opening the file while another one
    migrates it would fail at once. Retrying for up to ``timeout`` keeps two
    gateways starting together from failing.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", None) in (
                sqlite3.SQLITE_BUSY,
                sqlite3.SQLITE_LOCKED,
            )
            if not busy or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


class SqliteConnection:
    """One SQLite connection behind a lock (thread-safe); ``path`` names it in messages."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self._conn = conn
        self._path = path
        self._lock = threading.Lock()

    @staticmethod
    def _connect(path: str, busy_timeout: float, *, upgrade: str = _UPGRADE) -> sqlite3.Connection:
        """A connection to a migrated database; closed again if anything fails."""
        with map_storage_errors("sqlite", f"open {path}", (sqlite3.Error, OSError)):
            create_owner_only(path)  # before SQLite creates it: its -wal/-shm copy the mode
            conn = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            try:
                _retry_while_busy(lambda: conn.execute("PRAGMA journal_mode=WAL"), busy_timeout)
                conn.execute("PRAGMA synchronous=FULL")
                revision = _retry_while_busy(lambda: sqlite_schema_revision(conn), busy_timeout)
            except BaseException:
                conn.close()
                raise
        try:
            check_schema(revision, f"sqlite:{path}", upgrade)
        except StorageUnavailableError:
            conn.close()
            raise
        return conn

    @contextmanager
    def _using(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._lock, map_storage_errors("sqlite", action, (sqlite3.Error,)):
            yield self._conn

    @contextmanager
    def _transaction(self, action: str, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` (the write lock first) ... ``COMMIT``, or ``ROLLBACK`` on error.

        ``write=False``: a plain ``BEGIN``, so several reads see one snapshot
        (WAL) without taking the write lock.
        """
        with self._using(action) as conn:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._path!r})"


class PostgresConnection:
    """One psycopg connection behind a lock (thread-safe), opened on first use.

    ``name`` is the safe description used in messages (``StorageTarget.describe``);
    the DSN may hold a password and is never shown.
    """

    def __init__(self, dsn: str, *, connect_timeout: float = 5.0, name: str = "postgres") -> None:
        self._dsn = dsn
        self._timeout = max(1, round(connect_timeout))
        self._name = name
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        import psycopg  # noqa: PLC0415 - see the TYPE_CHECKING import

        self._errors: tuple[type[BaseException], ...] = (psycopg.Error,)

    @classmethod
    def open(cls, dsn: str, *, connect_timeout: float = 5.0, name: str = "postgres") -> Self:
        """Connect and check the schema revision; closed again if either fails."""
        store = cls(dsn, connect_timeout=connect_timeout, name=name)
        try:
            with store._using("open the database") as conn:
                revision = postgres_schema_revision(conn)
            check_schema(revision, name)
        except StorageUnavailableError:
            store.close()
            raise
        return store

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        if conn is not None:
            conn.close()
        import psycopg  # noqa: PLC0415 - see the TYPE_CHECKING import

        conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=self._timeout)
        try:
            for statement in _PG_SESSION:
                conn.execute(statement)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    @contextmanager
    def _using(self, action: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        with self._lock, map_storage_errors(self._name, action, self._errors):
            yield self._connection()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r})"
