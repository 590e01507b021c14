"""Config models for storage (SPEC C10): where state lives.

SQLite by default (a file, zero set-up) or a shared PostgreSQL when several
gateway instances run::

    storage:
      backend: postgres
      postgres: {dsn: "${GLASSGATE_PG_DSN}"}
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator

from glassgate.config._model import Model
from glassgate.config._units import Duration

__all__ = ["PostgresConfig", "SqliteConfig", "StorageConfig"]


class SqliteConfig(Model):
    """The embedded default: one file, created and migrated on first start."""

    path: str = Field(default="./glassgate.db", min_length=1)
    busy_timeout: Duration = 5.0


class PostgresConfig(Model):
    """A shared PostgreSQL; the DSN is a secret (it may hold a password)."""

    dsn: SecretStr | None = None
    connect_timeout: Duration = 5.0


class StorageConfig(Model):
    backend: Literal["sqlite", "postgres"] = "sqlite"
    sqlite: SqliteConfig = SqliteConfig()
    postgres: PostgresConfig = PostgresConfig()
    auto_migrate: bool = True

    @model_validator(mode="after")
    def _dsn_for_postgres(self) -> Self:
        if self.backend == "postgres" and self.postgres.dsn is None:
            raise ValueError(
                "backend 'postgres' needs postgres.dsn, for example "
                "'postgresql://glassgate@db.internal/glassgate' or '${GLASSGATE_PG_DSN}'"
            )
        return self
