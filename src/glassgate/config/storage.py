"""Config models for storage (SPEC C10) and the audit log (SPEC C8).

``storage`` says where state lives: SQLite by default (a file, zero set-up) or
a shared PostgreSQL when several gateway instances run. ``audit`` says how
the tamper-evident log is written, checkpointed, sampled and forwarded::

    storage:
      backend: postgres
      postgres: {dsn: "${GLASSGATE_PG_DSN}"}
    audit:
      sample_rate: 0.1            # allowed ordinary traffic only
      on_failure: serve           # or refuse
      checkpoint: {every_records: 1000, every: 60s, key_file: /etc/glassgate/audit.key}
      sinks:
        - {type: syslog, host: siem.example, port: 6514, transport: tcp}
        - {type: webhook, url: "https://hooks.example/audit", secret: "${HOOK_SECRET}"}

The models mirror ``schema._Model`` (frozen, unknown keys forbidden); the base
is repeated here because ``schema`` imports this module.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from glassgate.config._units import Duration

__all__ = [
    "AuditConfig",
    "CheckpointConfig",
    "PostgresConfig",
    "SinkConfig",
    "SqliteConfig",
    "StorageConfig",
    "SyslogSinkConfig",
    "WebhookSinkConfig",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class SqliteConfig(_Model):
    """The embedded default: one file, created and migrated on first start."""

    path: str = Field(default="./glassgate.db", min_length=1)
    busy_timeout: Duration = 5.0


class PostgresConfig(_Model):
    """A shared PostgreSQL; the DSN is a secret (it may hold a password)."""

    dsn: SecretStr | None = None
    connect_timeout: Duration = 5.0


class StorageConfig(_Model):
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


class CheckpointConfig(_Model):
    """Signed chain heads, written every N records or T seconds, whichever comes first.

    The signing key (Ed25519, PKCS#8 PEM) must live apart from the database so
    that whoever can rewrite the database cannot also forge checkpoints.
    """

    every_records: int = Field(default=1000, ge=1, le=1_000_000)
    every: Duration = 60.0
    key_file: str = Field(default="./glassgate-audit.key", min_length=1)
    file: str = Field(default="./glassgate-audit.checkpoints.jsonl", min_length=1)
    to_sinks: bool = True


class SyslogSinkConfig(_Model):
    """RFC 5424 over TCP (RFC 6587 octet counting) or UDP (RFC 5426)."""

    type: Literal["syslog"]
    host: str = Field(min_length=1)
    port: int = Field(default=514, ge=1, le=65535)
    transport: Literal["tcp", "udp"] = "tcp"
    facility: int = Field(default=10, ge=0, le=23)
    event_types: tuple[str, ...] = ()
    queue_size: int = Field(default=10_000, ge=1, le=1_000_000)


class WebhookSinkConfig(_Model):
    """HTTP POST of JSON batches, signed with HMAC-SHA256 over timestamp and body."""

    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr
    timeout: Duration = 5.0
    event_types: tuple[str, ...] = ()
    queue_size: int = Field(default=10_000, ge=1, le=1_000_000)


SinkConfig = Annotated[SyslogSinkConfig | WebhookSinkConfig, Field(discriminator="type")]


class AuditConfig(_Model):
    """How the audit log behaves.

    ``sample_rate`` applies to allowed ordinary decisions only: denials,
    step-ups and privileged events are always recorded. ``on_failure`` says
    what ordinary traffic does when its record cannot be queued or written:
    ``serve`` (default: keep serving, count the loss, alert) or ``refuse``.
    Privileged actions always fail closed, whatever this says.
    """

    sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    on_failure: Literal["serve", "refuse"] = "serve"
    queue_size: int = Field(default=10_000, ge=1, le=1_000_000)
    batch_size: int = Field(default=500, ge=1, le=10_000)
    write_timeout: Duration = 5.0
    checkpoint: CheckpointConfig = CheckpointConfig()
    sinks: tuple[SinkConfig, ...] = ()
