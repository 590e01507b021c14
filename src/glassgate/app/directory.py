"""The directory in a glassgate process: its store, runner, service, SCIM tokens, refresher.

Built by the composition root (``app.compose``) for the gateway when SCIM or
group merging is on, and for the CLI's directory, rules and scim commands.
A gateway reloads the directory when another process (the CLI, another
instance) committed, every ``directory.refresh_interval``, so SCIM answers,
the lockout guard and merged groups follow changes made elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from glassgate.adapters.storage.directory import SqlDirectoryStore, open_directory_store
from glassgate.adapters.storage.target import StorageTarget
from glassgate.config.schema import Config
from glassgate.directory.guard import LockoutGuard, ProtectedGroup
from glassgate.directory.principal_groups import DirectoryGroups, SubjectField
from glassgate.errors import GlassgateError
from glassgate.ports import Alerts, AuditAppender
from glassgate.store_runner import StoreRunner
from glassgate.types import Clock
from glassgate.workflows.directory import DirectoryService
from glassgate.workflows.scim_tokens import ScimTokens

__all__ = ["DirectoryRuntime", "guard_of", "merged_groups", "open_directory"]

_log = logging.getLogger("glassgate.directory")


def guard_of(config: Config) -> LockoutGuard:
    """The lockout guard the configuration asks for (``directory.protected_groups``)."""
    groups = config.directory.protected_groups.items()
    return LockoutGuard(ProtectedGroup(name, minimum) for name, minimum in groups)


def merged_groups(config: Config, directory: DirectoryRuntime | None) -> DirectoryGroups | None:
    """The enricher adding directory groups to principals (``directory.merge_groups``).

    None when merging is off, or when it was switched on by a reload of a
    gateway started without a directory (it takes effect on restart).
    """
    merge = config.directory.merge_groups
    if not merge.enabled:
        return None
    if directory is None:
        _log.warning("directory.merge_groups takes effect on restart; groups are not merged yet")
        return None
    fields = {issuer: SubjectField(name) for issuer, name in merge.issuers.items()}
    service = directory.service
    return DirectoryGroups(lambda: service.current, fields)


@dataclass
class DirectoryRuntime:
    store: SqlDirectoryStore
    runner: StoreRunner
    service: DirectoryService
    tokens: ScimTokens
    refresh_interval: float
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def start(self, *, follow: bool = True) -> None:
        """Load the directory; with ``follow``, keep picking up changes made elsewhere."""
        await self.service.refresh()
        if follow:
            self._task = asyncio.create_task(self._follow(), name="glassgate-directory-refresh")

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_interval)
            try:
                await self.service.refresh()
            except GlassgateError as exc:  # keep serving the last snapshot; try again later
                _log.warning("directory refresh failed (%s): %s", exc.code, exc)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.runner.close()
        self.store.close()


def open_directory(
    config: Config, audit: AuditAppender, alerts: Alerts, clock: Clock
) -> DirectoryRuntime:
    """Open the directory store (migrating it when ``storage.auto_migrate``) and its services."""
    target = StorageTarget.from_config(config.storage)
    store = open_directory_store(target, migrate=config.storage.auto_migrate)
    runner = StoreRunner("directory")
    service = DirectoryService(store, runner, guard_of(config), audit, alerts, clock)
    tokens = ScimTokens(store, runner, audit, clock)
    return DirectoryRuntime(store, runner, service, tokens, config.directory.refresh_interval)
