"""StorageTarget: which database to use, from the config or from a ``--db`` URL."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from glassgate.config.storage import StorageConfig

__all__ = ["StorageTarget"]

Backend = Literal["sqlite", "postgres"]
_KEYWORD_DSN = re.compile(r"^(\w+=\S*\s+)*(host|dbname|service)=")
_KEYWORD = re.compile(r"(\w+)=(\S*)")


@dataclass(frozen=True, slots=True)
class StorageTarget:
    """A backend and its location: a file path for SQLite, a libpq DSN for PostgreSQL.

    The DSN may hold a password, so it is kept out of ``repr``; ``describe``
    gives a safe name for messages.
    """

    backend: Backend
    location: str = field(repr=False)
    timeout: float = 5.0

    @classmethod
    def from_config(cls, config: StorageConfig) -> StorageTarget:
        if config.backend == "postgres":
            dsn = config.postgres.dsn
            if dsn is None:  # the config model already refuses this; keep mypy honest
                raise ValueError("storage.postgres.dsn is required for backend 'postgres'")
            return cls("postgres", dsn.get_secret_value(), config.postgres.connect_timeout)
        return cls("sqlite", config.sqlite.path, config.sqlite.busy_timeout)

    @classmethod
    def parse(cls, url: str) -> StorageTarget:
        """``postgresql://...`` / ``postgres://...``, ``sqlite:///path`` or a plain file path."""
        text = url.strip()
        if not text:
            raise ValueError("--db needs a database URL or a SQLite file path")
        if text.startswith(("postgresql://", "postgres://")) or _KEYWORD_DSN.match(text):
            return cls("postgres", text)
        if text.startswith("sqlite:///"):
            return cls("sqlite", text.removeprefix("sqlite:///") or ":memory:")
        if text.startswith("sqlite://"):
            raise ValueError("use sqlite:///relative/path or sqlite:////absolute/path")
        return cls("sqlite", text)

    def describe(self) -> str:
        """A name for messages that never shows a password."""
        if self.backend == "sqlite":
            return f"sqlite:{self.location}"
        if "://" in self.location:
            parts = urlsplit(self.location)
            fields = {
                "host": parts.hostname or "",
                "port": str(parts.port or ""),
                "dbname": parts.path.lstrip("/"),
            }
        else:
            fields = dict(_KEYWORD.findall(self.location))
        port = fields.get("port")
        where = f"{fields.get('host') or 'localhost'}{f':{port}' if port else ''}"
        return f"postgres://{where}/{fields.get('dbname', '')}"
