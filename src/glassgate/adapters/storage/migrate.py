"""Schema migrations (Alembic): ``glassgate db upgrade`` and the embedded default's first start.

SQLAlchemy Core is used only because Alembic needs it; the stores write with
the drivers directly. Connections come from the drivers too (``creator=``), so
a libpq keyword DSN works as well as a URL. The whole upgrade is one
transaction under a lock (see ``migrations/env.py``).
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from glassgate.adapters.storage._errors import map_storage_errors
from glassgate.adapters.storage.migrations import SCHEMA_HEAD, SCRIPT_LOCATION
from glassgate.adapters.storage.revision import (
    connect_postgres,
    connect_sqlite,
    driver_errors,
)
from glassgate.adapters.storage.target import StorageTarget
from glassgate.errors import StorageUnavailableError

__all__ = ["alembic_head", "upgrade"]


def _engine(target: StorageTarget) -> Engine:
    if target.backend == "postgres":
        return create_engine(
            "postgresql+psycopg://", creator=lambda: connect_postgres(target), poolclass=NullPool
        )
    engine = create_engine("sqlite://", creator=lambda: connect_sqlite(target), poolclass=NullPool)

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Connection) -> None:
        # The driver is in autocommit mode; take the write lock up front so that
        # two processes starting together migrate one after the other.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


def alembic_head() -> str | None:
    """The newest revision Alembic finds on disk (tests pin ``SCHEMA_HEAD`` to it)."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - only tests ask

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def upgrade(target: StorageTarget) -> str:
    """Apply every pending migration in one transaction; return the new revision."""
    engine = _engine(target)
    errors = (*driver_errors(target), SQLAlchemyError)
    try:
        with (
            map_storage_errors(target.describe(), "migrate the schema", errors),
            engine.begin() as conn,
        ):
            command.upgrade(_alembic_config(conn), "head")
    except CommandError as exc:
        raise StorageUnavailableError(
            f"{target.describe()}: cannot migrate the schema: {exc}; is the database newer "
            "than this glassgate?"
        ) from exc
    finally:
        engine.dispose()
    return SCHEMA_HEAD
