"""The directory's stores (``DirectoryStore``): SQLite and PostgreSQL (one SQL), memory.

``open_directory_store`` is the one way to a database-backed store; it
migrates the schema first when asked.
"""

from __future__ import annotations

from glassgate.adapters.storage.directory.memory import MemoryDirectoryStore
from glassgate.adapters.storage.directory.sql import PostgresDirectoryStore, SqliteDirectoryStore
from glassgate.adapters.storage.revision import upgrade_if_due
from glassgate.adapters.storage.target import StorageTarget

__all__ = [
    "MemoryDirectoryStore",
    "PostgresDirectoryStore",
    "SqliteDirectoryStore",
    "open_directory_store",
]


def open_directory_store(
    target: StorageTarget, *, migrate: bool = True
) -> SqliteDirectoryStore | PostgresDirectoryStore:
    """Open the directory store at ``target``, migrating the schema first if ``migrate``."""
    if migrate:
        upgrade_if_due(target)
    if target.backend == "postgres":
        return PostgresDirectoryStore.open(
            target.location, connect_timeout=target.timeout, name=target.describe()
        )
    return SqliteDirectoryStore.open(target.location, busy_timeout=target.timeout)
