"""The directory service: the one door through which the directory changes (SPEC C6).

SCIM, imports, CLI edits and ``rules apply`` all call ``DirectoryService.change``
with a *plan*: a function from the current snapshot to the changes wanted.
Under one lock, the service

1. picks up what other processes committed (the store's revision moved);
2. applies the plan through the lockout guard (``guard.check_change``);
3. on a refusal, writes a privileged audit record, raises an alert saying that
   an upstream IdP doing this is itself the incident, and re-raises: nothing
   changes;
4. otherwise writes the privileged audit record *before* the change
   (``AuditUnavailableError``: nothing changes), commits the writes in one
   store transaction that fails if another process committed meanwhile, and
   swaps the snapshot in.

Readers use ``current`` (the last committed snapshot) without the lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from enum import StrEnum

from glassgate.alerts import Alert, Severity
from glassgate.audit.records import AuditEvent
from glassgate.directory.changes import Change, build, describe
from glassgate.directory.guard import LockoutGuard, check_change
from glassgate.directory.records import DirectoryWrites, StoredDirectory, diff
from glassgate.directory.rules import RuleErrors, RuleSet
from glassgate.directory.state import Directory
from glassgate.errors import (
    AuditUnavailableError,
    DirectoryConflictError,
    LockoutRefusedError,
)
from glassgate.ports import Alerts, AuditAppender, DirectoryStore
from glassgate.store_runner import StoreRunner
from glassgate.types import JSONValue
from glassgate.workflows.policy import RUNBOOK  # the break-glass procedure: the way back in

__all__ = ["ChangeOutcome", "DirectoryService", "Plan", "Source"]

_log = logging.getLogger(__name__)
REFUSED_EVENT = "directory.lockout.refused"
_NAMES_IN_RECORDS = 50

Plan = Callable[[Directory], Sequence[Change]]
_MAX_NAME_IN_SUMMARY = 60


class Source(StrEnum):
    """Where a change comes from; it names the audit event (``admin.directory.<source>``)."""

    SCIM = "scim"
    IMPORT = "import"
    CLI = "cli"
    RULES = "rules"


class ChangeOutcome:
    """A committed change: the new snapshot and what it cost to evaluate."""

    __slots__ = ("directory", "errors", "writes")

    def __init__(self, directory: Directory, writes: DirectoryWrites, errors: RuleErrors) -> None:
        self.directory = directory
        self.writes = writes
        self.errors = errors


class DirectoryService:
    def __init__(
        self,
        store: DirectoryStore,
        runner: StoreRunner,
        guard: LockoutGuard,
        audit: AuditAppender,
        alerts: Alerts,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._runner = runner
        self._guard = guard
        self._audit = audit
        self._alerts = alerts
        self._clock = clock
        self._lock = asyncio.Lock()
        self._current = Directory.empty()
        self._revision = -1

    @property
    def current(self) -> Directory:
        return self._current

    @property
    def guard(self) -> LockoutGuard:
        return self._guard

    def use_guard(self, guard: LockoutGuard) -> None:
        """Protect other groups from the next change on (a reloaded configuration)."""
        self._guard = guard

    async def refresh(self) -> bool:
        """Reload if another process committed since; True if the snapshot changed."""
        async with self._lock:
            return await self._refresh()

    async def _refresh(self) -> bool:
        if await self._runner.run(self._store.revision) == self._revision:
            return False
        stored = await self._runner.run(self._store.load)
        self._current = _snapshot(stored)
        self._revision = stored.revision
        return True

    async def change(
        self, plan: Plan, *, actor: str, source: Source, action: str | None = None
    ) -> ChangeOutcome:
        """Apply ``plan`` to the current snapshot, guarded, audited and committed.

        Raises ``LockoutRefusedError`` (refused, audited, alerted),
        ``AuditUnavailableError`` (nothing changed), ``DirectoryConflictError``
        (another process committed twice meanwhile) and whatever ``plan`` raises.
        """
        async with self._lock:
            for attempt in range(2):
                await self._refresh()
                try:
                    return await self._change(plan, actor, source, action)
                except DirectoryConflictError:
                    if attempt:
                        raise
            raise AssertionError("unreachable")  # pragma: no cover

    async def _change(
        self, plan: Plan, actor: str, source: Source, action: str | None
    ) -> ChangeOutcome:
        before = self._current
        changes = plan(before)
        errors = RuleErrors()
        try:
            after = check_change(self._guard, before, changes, action, errors)
        except LockoutRefusedError as refused:
            await self._report_refusal(refused, actor, source)
            raise
        writes = diff(before, after)
        if writes:
            what = action or describe(changes, before)
            await self._audit.append(_change_event(writes, what, actor, source, self._clock()))
            self._revision = await self._runner.run(self._store.commit, writes, self._revision)
            self._current = after
        return ChangeOutcome(after, writes, errors)

    async def _report_refusal(
        self, refused: LockoutRefusedError, actor: str, source: Source
    ) -> None:
        now = self._clock()
        details = _refusal_details(refused, source)
        try:
            await self._audit.append(
                AuditEvent(
                    type=REFUSED_EVENT,
                    outcome="refused",
                    at=now,
                    actor=actor,
                    subject=refused.group,
                    details=details,
                )
            )
        except AuditUnavailableError:
            _log.error("a lockout refusal could not be audited; it is refused all the same")
        await self._alerts.send(lockout_alert(refused, source, now, details))


def _snapshot(stored: StoredDirectory) -> Directory:
    return build(stored.users, stored.groups, RuleSet.compile(stored.rules))


def _names(items: Sequence[str]) -> list[JSONValue]:
    return list(items[:_NAMES_IN_RECORDS])


def _change_event(
    writes: DirectoryWrites, action: str, actor: str, source: Source, now: float
) -> AuditEvent:
    details: dict[str, JSONValue] = {
        "action": action,
        "users_written": len(writes.put_users),
        "users_deleted": len(writes.delete_users),
        "groups_written": len(writes.put_groups),
        "groups_deleted": len(writes.delete_groups),
        "user_names": _names([u.user_name for u in writes.put_users]),
        "group_names": _names([g.name for g in writes.put_groups]),
    }
    if writes.rules is not None:
        details["rules"] = _names([rule.id for rule in writes.rules])
    event_type = "admin.rules.apply" if source is Source.RULES else f"admin.directory.{source}"
    return AuditEvent(type=event_type, outcome="ok", at=now, actor=actor, details=details)


def _refusal_details(refused: LockoutRefusedError, source: Source) -> dict[str, JSONValue]:
    return {
        "source": source.value,
        "action": refused.action,
        "groups": [
            {
                "group": s.group,
                "minimum": s.minimum,
                "remaining": _names(s.remaining),
                "losing": _names(s.losing),
            }
            for s in refused.shortfalls
        ],
    }


def lockout_alert(
    refused: LockoutRefusedError, source: Source, at: float, details: dict[str, JSONValue]
) -> Alert:
    """The alert for a refusal: from an upstream IdP, the attempt itself is the incident."""
    shortfall = refused.shortfalls[0]
    origin = {
        Source.SCIM: "An upstream IdP (SCIM)",
        Source.IMPORT: "An import",
        Source.CLI: "A CLI edit",
        Source.RULES: "A group-rule change",
    }[source]
    group = shortfall.group[:_MAX_NAME_IN_SUMMARY]
    summary = (
        f"{origin} tried to leave protected group '{group}' with {len(shortfall.remaining)} "
        f"of {shortfall.minimum} required active members: refused. An IdP or sync doing this "
        "is itself the incident; if admins are locked out, use break-glass."
    )
    return Alert(
        kind=REFUSED_EVENT,
        severity=Severity.CRITICAL if source in (Source.SCIM, Source.IMPORT) else Severity.WARNING,
        summary=summary,
        at=at,
        details=details,
        runbook=RUNBOOK,
    )
