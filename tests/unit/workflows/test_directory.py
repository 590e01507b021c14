"""directory.service: guarded, audited-first, committed, refusals audited and alerted."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

import pytest

from glassgate.alerts import Severity
from glassgate.directory.changes import Change, DeleteUser, PutUser, ReplaceRules
from glassgate.directory.models import Group, UserStatus
from glassgate.directory.state import Directory
from glassgate.errors import AuditUnavailableError, LockoutRefusedError
from glassgate.workflows.directory import DirectoryService, Source
from tests.unit.directory._build import GUARD, IT_ADMINS, rules, user
from tests.unit.directory._fakes import DirectRunner, FakeStore, RecordingAlerts, RecordingAudit


def synchronously(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """No async test plugin here: each test runs its own event loop."""

    @functools.wraps(test)
    def run() -> None:
        asyncio.run(test())

    return run


def _store(admins: int = 2) -> FakeStore:
    people = [user(f"admin{i}", department="IT", title="Admin") for i in range(admins)]
    people.append(user("sales0", department="Sales"))
    return FakeStore(
        users={u.id: u for u in people},
        groups={"g-admins": Group("g-admins", "Admins")},
        rules=rules(("it-admins", IT_ADMINS, "Admins")).rules,
        revision_now=7,
    )


async def _service(
    store: FakeStore, audit: RecordingAudit | None = None, alerts: RecordingAlerts | None = None
) -> DirectoryService:
    service = DirectoryService(
        store,
        DirectRunner(),
        GUARD,
        audit or RecordingAudit(store),
        alerts or RecordingAlerts(),
        lambda: 1000.0,
    )
    await service.refresh()
    return service


def _suspend(uid: str):  # type: ignore[no-untyped-def]
    def plan(d: Directory) -> list[Change]:
        found = d.user(uid)
        assert found is not None
        return [PutUser(replace(found, status=UserStatus.SUSPENDED))]

    return plan


@synchronously
async def test_a_change_is_audited_before_it_is_committed() -> None:
    store = _store(3)
    audit = RecordingAudit(store)
    service = await _service(store, audit)
    outcome = await service.change(_suspend("admin0"), actor="okta-scim", source=Source.SCIM)
    assert store.users["admin0"].status is UserStatus.SUSPENDED
    assert store.revision_now == 8
    (event,) = audit.events
    assert audit.revisions_seen == [7]  # written while the store was still at the old revision
    assert (event.type, event.actor, event.outcome) == ("admin.directory.scim", "okta-scim", "ok")
    assert event.details["user_names"] == ["admin0@example.com"]
    assert outcome.directory.active_members("Admins") == (
        "admin1@example.com",
        "admin2@example.com",
    )
    assert service.current is outcome.directory


@synchronously
async def test_a_lockout_is_refused_audited_and_alerted_and_nothing_changes() -> None:
    store = _store(2)
    audit, alerts = RecordingAudit(store), RecordingAlerts()
    service = await _service(store, audit, alerts)
    with pytest.raises(LockoutRefusedError) as info:
        await service.change(_suspend("admin0"), actor="okta-scim", source=Source.SCIM)
    assert "refused setting user admin0@example.com suspended" in str(info.value)
    assert store.commits == 0
    assert store.users["admin0"].status is UserStatus.ACTIVE
    (event,) = audit.events
    assert (event.type, event.outcome, event.subject) == (
        "directory.lockout.refused",
        "refused",
        "Admins",
    )
    assert event.details["groups"] == [
        {
            "group": "Admins",
            "minimum": 2,
            "remaining": ["admin1@example.com"],
            "losing": ["admin0@example.com"],
        }
    ]
    ((alert, required),) = alerts.sent
    assert alert.severity is Severity.CRITICAL
    assert alert.kind == "directory.lockout.refused"
    assert "upstream IdP (SCIM)" in alert.summary
    assert "itself the incident" in alert.summary
    assert "break-glass" in alert.summary
    assert alert.runbook == "README.md#break-glass-at-2-am"
    assert required is False


@synchronously
async def test_a_refusal_stands_even_when_the_audit_log_is_down() -> None:
    store = _store(2)
    alerts = RecordingAlerts()
    service = await _service(store, RecordingAudit(store, down=True), alerts)
    with pytest.raises(LockoutRefusedError):
        await service.change(_suspend("admin0"), actor="cli", source=Source.CLI)
    assert alerts.sent[0][0].severity is Severity.WARNING


@synchronously
async def test_no_audit_record_no_change() -> None:
    store = _store(3)
    service = await _service(store, RecordingAudit(store, down=True))
    with pytest.raises(AuditUnavailableError):
        await service.change(_suspend("admin0"), actor="cli", source=Source.CLI)
    assert store.commits == 0
    assert service.current.user("admin0").status is UserStatus.ACTIVE  # type: ignore[union-attr]


@synchronously
async def test_rules_apply_is_its_own_privileged_event() -> None:
    store = _store(3)
    audit = RecordingAudit(store)
    service = await _service(store, audit)
    new = rules(("it-admins", IT_ADMINS, "Admins"), ("sales", '"x" in groups', "Admins"))
    await service.change(
        lambda d: [ReplaceRules(new)],
        actor="ana",
        source=Source.RULES,
        action="rules apply new.yaml",
    )
    (event,) = audit.events
    assert event.type == "admin.rules.apply"
    assert event.details["rules"] == ["it-admins", "sales"]
    assert event.details["action"] == "rules apply new.yaml"
    assert store.rules == new.rules


@synchronously
async def test_changes_committed_by_another_process_are_picked_up_first() -> None:
    store = _store(2)
    service = await _service(store)
    store.users["admin2"] = user("admin2", department="IT", title="Admin")  # the CLI, elsewhere
    store.revision_now += 1
    await service.change(
        _suspend("admin0"), actor="okta", source=Source.SCIM
    )  # allowed: 3 admins now
    assert service.current.active_members("Admins") == ("admin1@example.com", "admin2@example.com")


@synchronously
async def test_a_change_that_writes_nothing_commits_nothing() -> None:
    store = _store(2)
    audit = RecordingAudit(store)
    service = await _service(store, audit)
    await service.change(lambda d: [], actor="x", source=Source.CLI)
    assert store.commits == 0
    assert audit.events == []


@synchronously
async def test_a_plan_sees_the_current_snapshot_under_the_lock() -> None:
    store = _store(3)
    service = await _service(store)
    await service.change(lambda d: [DeleteUser("sales0")], actor="x", source=Source.CLI)
    with pytest.raises(Exception, match="no user"):
        await service.change(lambda d: [DeleteUser("sales0")], actor="x", source=Source.CLI)


@synchronously
async def test_a_reloaded_configuration_protects_other_groups() -> None:
    from glassgate.directory.guard import LockoutGuard, ProtectedGroup

    store = _store(2)
    service = await _service(store)
    relaxed = LockoutGuard([ProtectedGroup("Admins", 1)])
    service.use_guard(relaxed)
    assert service.guard is relaxed
    await service.change(_suspend("admin0"), actor="cli", source=Source.CLI)  # 2 -> 1 is fine now
    assert store.users["admin0"].status is UserStatus.SUSPENDED


class _Racing(FakeStore):
    """Another process commits just before our first (or every) commit."""

    def __init__(self, races: int, **fields: object) -> None:
        super().__init__(**fields)  # type: ignore[arg-type]
        self.races = races

    def commit(self, writes, expected_revision):  # type: ignore[no-untyped-def]
        if self.races:
            self.races -= 1
            self.revision_now += 1  # someone else's commit
        return super().commit(writes, expected_revision)


@synchronously
async def test_a_commit_that_loses_a_race_is_planned_again_on_the_new_snapshot() -> None:
    base = _store(3)
    store = _Racing(1, users=base.users, groups=base.groups, rules=base.rules, revision_now=7)
    service = await _service(store)
    await service.change(_suspend("admin0"), actor="cli", source=Source.CLI)
    assert store.users["admin0"].status is UserStatus.SUSPENDED
    assert store.commits == 1


@synchronously
async def test_losing_the_race_twice_is_a_conflict() -> None:
    from glassgate.errors import DirectoryConflictError

    base = _store(3)
    store = _Racing(2, users=base.users, groups=base.groups, rules=base.rules, revision_now=7)
    service = await _service(store)
    with pytest.raises(DirectoryConflictError):
        await service.change(_suspend("admin0"), actor="cli", source=Source.CLI)
    assert store.commits == 0
