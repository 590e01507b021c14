"""The workflow records' stores (``WorkflowStore``): SQLite and PostgreSQL (one SQL), memory.

``open_workflow_store`` is the one way to a database-backed store; it
migrates the schema first when asked.
"""

from __future__ import annotations

from collections.abc import Callable

from glassgate.adapters.storage._open import open_store
from glassgate.adapters.storage.target import StorageTarget
from glassgate.adapters.storage.workflows.memory import MemoryWorkflowStore
from glassgate.adapters.storage.workflows.sql import PostgresWorkflowStore, SqliteWorkflowStore
from glassgate.ports import WorkflowStore

__all__ = [
    "MemoryWorkflowStore",
    "PostgresWorkflowStore",
    "SqliteWorkflowStore",
    "open_workflow_store",
]


def open_workflow_store(target: StorageTarget, *, migrate: bool = True) -> WorkflowStore:
    """Open the workflow store at ``target``, migrating the schema first if ``migrate``."""
    sqlite: Callable[..., WorkflowStore] = SqliteWorkflowStore.open
    return open_store(target, migrate=migrate, sqlite=sqlite, postgres=PostgresWorkflowStore.open)
