"""The API keys' stores (``ApiKeyStore``): SQLite and PostgreSQL (one SQL), memory.

``open_api_key_store`` is the one way to a database-backed store; it migrates
the schema first when asked.
"""

from __future__ import annotations

from glassgate.adapters.storage.api_keys.sql import PostgresApiKeyStore, SqliteApiKeyStore
from glassgate.adapters.storage.revision import upgrade_if_due
from glassgate.adapters.storage.target import StorageTarget
from glassgate.ports import ApiKeyStore

__all__ = ["PostgresApiKeyStore", "SqliteApiKeyStore", "open_api_key_store"]


def open_api_key_store(target: StorageTarget, *, migrate: bool = True) -> ApiKeyStore:
    """Open the key store at ``target``, migrating the schema first if ``migrate``."""
    if migrate:
        upgrade_if_due(target)
    if target.backend == "postgres":
        return PostgresApiKeyStore.open(
            target.location, connect_timeout=target.timeout, name=target.describe()
        )
    return SqliteApiKeyStore.open(target.location, busy_timeout=target.timeout)
