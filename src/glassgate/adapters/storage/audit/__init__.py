"""The audit log's stores (``AuditStore``, ``CheckpointLog``): SQLite, PostgreSQL, memory, file.

``open_audit_store`` is the one way to a database-backed store: it migrates
the schema first when asked (the embedded default does on first start).
Driver errors never leave this package: they become ``StorageUnavailableError``.
"""

from __future__ import annotations

from collections.abc import Callable

from glassgate.adapters.storage._open import open_store
from glassgate.adapters.storage.audit.postgres import PostgresAuditStore
from glassgate.adapters.storage.audit.sqlite import SqliteAuditStore
from glassgate.adapters.storage.target import StorageTarget
from glassgate.ports import AuditStore

__all__ = ["PostgresAuditStore", "SqliteAuditStore", "open_audit_store"]


def open_audit_store(target: StorageTarget, *, migrate: bool = True) -> AuditStore:
    """Open the audit store at ``target``, migrating it first if ``migrate``."""
    sqlite: Callable[..., AuditStore] = SqliteAuditStore.open
    return open_store(target, migrate=migrate, sqlite=sqlite, postgres=PostgresAuditStore.open)
