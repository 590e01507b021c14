"""The workflow records' stores (``WorkflowStore``): SQLite and PostgreSQL (one SQL), memory.

``open_workflow_store`` is the one way to a database-backed store; it
migrates the schema first when asked.
"""

from __future__ import annotations

from glassgate.adapters.storage.revision import upgrade_if_due
from glassgate.adapters.storage.target import StorageTarget
from glassgate.adapters.storage.workflows.memory import MemoryWorkflowStore
from glassgate.adapters.storage.workflows.sql import PostgresWorkflowStore, SqliteWorkflowStore
from glassgate.workflows._ports import WorkflowStore

__all__ = [
    "MemoryWorkflowStore",
    "PostgresWorkflowStore",
    "SqliteWorkflowStore",
    "open_workflow_store",
]


def open_workflow_store(target: StorageTarget, *, migrate: bool = True) -> WorkflowStore:
    """Open the workflow store at ``target``, migrating the schema first if ``migrate``."""
    if migrate:
        upgrade_if_due(target)
    if target.backend == "postgres":
        return PostgresWorkflowStore.open(
            target.location, connect_timeout=target.timeout, name=target.describe()
        )
    return SqliteWorkflowStore.open(target.location, busy_timeout=target.timeout)
