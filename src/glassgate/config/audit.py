"""Config models for the audit log (SPEC C8): how it is written, checkpointed, sampled, forwarded.

::

    audit:
      sample_rate: 0.1            # allowed ordinary traffic only
      on_failure: serve           # or refuse
      checkpoint: {every_records: 1000, every: 60s, key_file: /etc/glassgate/audit.key}
      sinks:
        - {type: syslog, host: siem.example, port: 6514, transport: tcp}
        - {type: webhook, url: "https://hooks.example/audit", secret: "${HOOK_SECRET}"}
"""

from __future__ import annotations

import os
from pathlib import PurePath
from typing import Annotated, Literal

from pydantic import Field, SecretStr

from glassgate.config._model import Model
from glassgate.config._units import Duration

__all__ = [
    "AuditConfig",
    "CheckpointConfig",
    "SinkConfig",
    "SyslogSinkConfig",
    "WebhookSinkConfig",
    "checkpoint_paths",
]


class CheckpointConfig(Model):
    """Signed chain heads, written every N records or T seconds, whichever comes first.

    The signing key (Ed25519, PKCS#8 PEM) should live apart from the database
    so that whoever can rewrite the database cannot also forge checkpoints:
    set ``key_file`` to another volume or a secret mount. Left empty, the key
    and the checkpoint file are placed by ``checkpoint_paths``: beside the
    SQLite database, named after it, or beside the config file for
    PostgreSQL; never in whatever directory the gateway was started from.
    """

    every_records: int = Field(default=1000, ge=1, le=1_000_000)
    every: Duration = 60.0
    key_file: str = ""
    file: str = ""
    to_sinks: bool = True


def checkpoint_paths(
    checkpoint: CheckpointConfig, sqlite_path: str | None, config_file: str | None
) -> tuple[str, str]:
    """``(key_file, file)``: as configured, else beside the database or the config file.

    ``sqlite_path`` is the database file (``None`` for PostgreSQL); then the
    paths go beside ``config_file``. ``ValueError`` when neither is known.
    """
    if checkpoint.key_file and checkpoint.file:
        return checkpoint.key_file, checkpoint.file
    anchor = sqlite_path or config_file
    if anchor is None:
        raise ValueError(
            "audit.checkpoint.key_file and file must be set: there is no database file "
            "or config file to place them beside"
        )
    where = PurePath(os.path.abspath(anchor))
    stem = where.stem or where.name
    key_file = checkpoint.key_file or str(where.with_name(f"{stem}-audit.key"))
    file = checkpoint.file or str(where.with_name(f"{stem}-audit.checkpoints.jsonl"))
    return key_file, file


class SyslogSinkConfig(Model):
    """RFC 5424 over TCP (RFC 6587 octet counting) or UDP (RFC 5426)."""

    type: Literal["syslog"]
    host: str = Field(min_length=1)
    port: int = Field(default=514, ge=1, le=65535)
    transport: Literal["tcp", "udp"] = "tcp"
    facility: int = Field(default=10, ge=0, le=23)
    event_types: tuple[str, ...] = ()
    queue_size: int = Field(default=10_000, ge=1, le=1_000_000)


class WebhookSinkConfig(Model):
    """HTTP POST of JSON batches, signed with HMAC-SHA256 over timestamp and body."""

    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr
    timeout: Duration = 5.0
    event_types: tuple[str, ...] = ()
    queue_size: int = Field(default=10_000, ge=1, le=1_000_000)


SinkConfig = Annotated[SyslogSinkConfig | WebhookSinkConfig, Field(discriminator="type")]


class AuditConfig(Model):
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
