"""Fakes for the directory service: a store, a runner, an audit log and alert sinks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from glassgate.alerts import Alert
from glassgate.audit.records import AuditEvent, AuditRecord
from glassgate.directory.models import Group, User
from glassgate.directory.records import DirectoryWrites, StoredDirectory
from glassgate.directory.rules import GroupRule
from glassgate.directory.state import Directory
from glassgate.errors import AuditUnavailableError, DirectoryConflictError

T = TypeVar("T")


@dataclass
class FakeStore:
    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    rules: tuple[GroupRule, ...] = ()
    revision_now: int = 0
    commits: int = 0

    @classmethod
    def of(cls, directory: Directory) -> FakeStore:
        """A store holding ``directory``, as if committed once."""
        users, groups = dict(directory.users), dict(directory.groups)
        return cls(users=users, groups=groups, rules=directory.rules.rules, revision_now=1)

    def load(self) -> StoredDirectory:
        return StoredDirectory(
            tuple(self.users.values()), tuple(self.groups.values()), self.rules, self.revision_now
        )

    def revision(self) -> int:
        return self.revision_now

    def commit(self, writes: DirectoryWrites, expected_revision: int) -> int:
        if expected_revision != self.revision_now:
            raise DirectoryConflictError("the directory changed meanwhile")
        for user in writes.put_users:
            self.users[user.id] = user
        for uid in writes.delete_users:
            del self.users[uid]
        for group in writes.put_groups:
            self.groups[group.id] = group
        for gid in writes.delete_groups:
            del self.groups[gid]
        if writes.rules is not None:
            self.rules = writes.rules
        self.revision_now += 1
        self.commits += 1
        return self.revision_now


class DirectRunner:
    async def run(self, function: Callable[..., T], *args: object) -> T:
        return function(*args)


@dataclass
class RecordingAudit:
    store: FakeStore | None = None
    events: list[AuditEvent] = field(default_factory=list)
    revisions_seen: list[int] = field(default_factory=list)
    down: bool = False

    async def append(self, event: AuditEvent) -> AuditRecord:
        if self.down:
            raise AuditUnavailableError("the audit log cannot be written")
        self.events.append(event)
        if self.store is not None:
            self.revisions_seen.append(self.store.revision_now)
        return Any  # type: ignore[return-value]  # callers do not read it


@dataclass
class RecordingAlerts:
    sent: list[tuple[Alert, bool]] = field(default_factory=list)

    async def send(self, alert: Alert, *, required: bool = False) -> None:
        self.sent.append((alert, required))
