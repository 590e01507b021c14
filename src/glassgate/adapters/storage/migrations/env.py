"""Alembic environment: runs on a connection that ``glassgate db upgrade`` opened.

The whole upgrade is one transaction under a lock (``BEGIN IMMEDIATE`` on
SQLite, an advisory lock on PostgreSQL), so two processes starting at once
migrate exactly once and nothing is left half-migrated.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

MIGRATION_LOCK = 0x676C617373676174  # "glassgat"


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.run_migrations()


connection = context.config.attributes.get("connection")
if context.is_offline_mode() or not isinstance(connection, Connection):
    raise RuntimeError("run migrations with `glassgate db upgrade`, not the alembic command")
_run(connection)
