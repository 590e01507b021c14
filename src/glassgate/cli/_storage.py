"""What the CLI's commands share: ``--config FILE`` or ``--db URL``, the actor, ``run_admin``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from glassgate.adapters.storage.audit import open_audit_store
from glassgate.adapters.storage.target import StorageTarget
from glassgate.config.audit import AuditConfig
from glassgate.errors import ConfigError, Problem, StorageUnavailableError
from glassgate.ports import ApiKeyStore, AuditStore

if TYPE_CHECKING:
    from glassgate.adapters.storage.directory import SqlDirectoryStore
    from glassgate.app.compose import AdminServices
    from glassgate.config.breakglass_compile import CompiledBreakglass
    from glassgate.config.schema import Config

__all__ = [
    "Source",
    "add_source_arguments",
    "command_actor",
    "open_existing_directory_store",
    "open_existing_key_store",
    "open_existing_store",
    "resolve_source",
    "run_admin",
]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Source:
    """The database, and the audit settings when they came from a config file."""

    target: StorageTarget
    audit: AuditConfig | None


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--config", metavar="FILE", help="the gateway's YAML configuration file")
    group.add_argument(
        "--db",
        metavar="URL",
        help="the database directly: sqlite:///path/to.db, a file path, or postgresql://...",
    )


def resolve_source(args: argparse.Namespace) -> Source:
    if args.db is not None:
        try:
            return Source(StorageTarget.parse(args.db), None)
        except ValueError as exc:
            raise ConfigError([Problem("--db", str(exc))]) from None
    from glassgate.config.load import load_config

    config = load_config(args.config).config
    return Source(StorageTarget.from_config(config.storage), config.audit)


def _check_exists(target: StorageTarget, what: str) -> None:
    """Reading commands never create or migrate a database behind the user's back."""
    if target.backend == "sqlite" and not Path(target.location).is_file():
        raise StorageUnavailableError(
            f"no {what} at {target.location}; check --db / storage.sqlite.path"
        )


def open_existing_store(target: StorageTarget) -> AuditStore:
    """Open the audit log for reading: an existing, migrated database only."""
    _check_exists(target, "audit database")
    return open_audit_store(target, migrate=False)


def open_existing_directory_store(target: StorageTarget) -> SqlDirectoryStore:
    """Open the directory for reading: an existing, migrated database only."""
    from glassgate.adapters.storage.directory import open_directory_store

    _check_exists(target, "database")
    return open_directory_store(target, migrate=False)


def open_existing_key_store(target: StorageTarget) -> ApiKeyStore:
    """Open the API keys for reading: an existing, migrated database only."""
    from glassgate.adapters.storage.api_keys import open_api_key_store

    _check_exists(target, "database")
    return open_api_key_store(target, migrate=False)


def command_actor() -> str:
    """Who runs the command, for every CLI audit record: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in the environment or passwd
        return "cli:unknown"


def run_admin(
    config: Config,
    action: Callable[[AdminServices], Awaitable[_T]],
    *,
    breakglass: CompiledBreakglass | None = None,
) -> _T:
    """Run ``action`` with the workflows the composition root builds, then close them all.

    The one way a CLI command changes anything: every workflow it reaches
    writes its audit record first. ``breakglass``: open the break-glass
    service too (``LoadedConfig.compiled.breakglass``).
    """
    from glassgate.app.compose import admin_services

    async def run() -> _T:
        async with admin_services(config, breakglass=breakglass) as services:
            return await action(services)

    return asyncio.run(run())
