"""The API keys' stores (``ApiKeyStore``): SQLite and PostgreSQL (one SQL), memory.

``open_api_key_store`` is the one way to a database-backed store; it migrates
the schema first when asked.
"""

from __future__ import annotations

from collections.abc import Callable

from glassgate.adapters.storage._open import open_store
from glassgate.adapters.storage.api_keys.sql import PostgresApiKeyStore, SqliteApiKeyStore
from glassgate.adapters.storage.target import StorageTarget
from glassgate.ports import ApiKeyStore

__all__ = ["PostgresApiKeyStore", "SqliteApiKeyStore", "open_api_key_store"]


def open_api_key_store(target: StorageTarget, *, migrate: bool = True) -> ApiKeyStore:
    """Open the key store at ``target``, migrating the schema first if ``migrate``."""
    sqlite: Callable[..., ApiKeyStore] = SqliteApiKeyStore.open
    return open_store(target, migrate=migrate, sqlite=sqlite, postgres=PostgresApiKeyStore.open)
