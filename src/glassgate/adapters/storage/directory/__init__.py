"""The directory's stores (``DirectoryStore`` and ``ScimTokenStore``): SQLite and
PostgreSQL (one SQL), memory.

``open_directory_store`` is the one way to a database-backed store; it
migrates the schema first when asked.
"""

from __future__ import annotations

from collections.abc import Callable

from glassgate.adapters.storage._open import open_store
from glassgate.adapters.storage.directory.memory import MemoryDirectoryStore
from glassgate.adapters.storage.directory.sql import PostgresDirectoryStore, SqliteDirectoryStore
from glassgate.adapters.storage.target import StorageTarget

__all__ = [
    "MemoryDirectoryStore",
    "PostgresDirectoryStore",
    "SqlDirectoryStore",
    "SqliteDirectoryStore",
    "open_directory_store",
]

SqlDirectoryStore = SqliteDirectoryStore | PostgresDirectoryStore


def open_directory_store(target: StorageTarget, *, migrate: bool = True) -> SqlDirectoryStore:
    """Open the directory store at ``target``, migrating the schema first if ``migrate``."""
    sqlite: Callable[..., SqlDirectoryStore] = SqliteDirectoryStore.open
    return open_store(target, migrate=migrate, sqlite=sqlite, postgres=PostgresDirectoryStore.open)
