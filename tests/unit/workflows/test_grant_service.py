"""GrantService over a real (memory) workflow store: audit first, then save, then alert."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import pytest

from glassgate.adapters.storage.workflows.memory import MemoryWorkflowStore
from glassgate.errors import (
    ApprovalRefusedError,
    AuditUnavailableError,
    NotFoundError,
    StepUpRequiredError,
    WorkflowInputError,
)
from glassgate.workflows.approvals import ApprovalRule, Approver, Requirement
from glassgate.workflows.grant_groups import GrantGroups
from glassgate.workflows.grant_service import GrantPolicy, GrantService, Requester
from glassgate.workflows.grants import GrantState, person_id
from glassgate.workflows.records import Records
from tests.unit.directory._fakes import RecordingAlerts, RecordingAudit
from tests.unit.workflows.test_grants import ADMINS, ISS

T = TypeVar("T")


class DirectRunner:
    async def run(self, function: Callable[..., T], *args: object) -> T:
        return function(*args)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


STRONG = replace(
    ADMINS,
    id="strong",
    rule=ApprovalRule(((Requirement("Admins"),),), strength="mfa", max_auth_age=300.0),
    alert_on_request=False,
    alert_on_approval=False,
)
POLICY = GrantPolicy(
    {"admins-jit": ADMINS, "strong": STRONG}, frozenset({"SecAdmins"}), 300.0, {"mfa": ("phr",)}
)
ALICE = Requester(ISS, "alice", frozenset({"Engineers"}))


def admin(name: str, *groups: str, **kwargs: Any) -> Approver:
    return Approver(person_id(ISS, name), frozenset(groups or ("Admins",)), **kwargs)


def build() -> tuple[GrantService, RecordingAudit, RecordingAlerts, GrantGroups, Clock]:
    audit, alerts, index, clock = RecordingAudit(), RecordingAlerts(), GrantGroups(), Clock()
    records = Records(MemoryWorkflowStore(), DirectRunner())  # type: ignore[arg-type]
    return GrantService(POLICY, records, audit, alerts, clock, index), audit, alerts, index, clock


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_request_approve_use_and_revoke() -> None:
    service, audit, alerts, index, clock = build()
    grant = run(service.request("admins-jit", ALICE, "fix INC-7", 600.0))
    assert [a.kind for a, _ in alerts.sent] == ["grant.requested"]
    assert run(service.queue(admin("bob"))) == [grant]
    assert run(service.queue(admin("alice"))) == []  # never one's own
    assert run(service.mine(ALICE)) == [grant]
    run(service.approve(grant.id, admin("bob")))
    clock.now = 1010.0
    approved = run(service.approve(grant.id, admin("carol")))
    assert approved.state(clock.now) is GrantState.ACTIVE
    assert [a.kind for a, _ in alerts.sent][-1] == "grant.quorum-met"
    assert run(service.active()) == [approved]
    assert index.enrich(_principal(), clock.now).groups >= {"Admins"}
    assert run(service.grants(GrantState.ACTIVE)) == [approved]
    revoked = run(service.revoke(grant.id, admin("nobody", "SecAdmins")))
    assert revoked.state(clock.now) is GrantState.REVOKED
    assert "Admins" not in index.enrich(_principal(), clock.now).groups
    assert [e.type for e in audit.events] == [
        "grant.requested",
        "grant.approved",
        "grant.approved",
        "grant.quorum-met",
        "grant.revoked",
    ]
    assert all(e.privileged and e.details["grant_id"] == grant.id for e in audit.events)


def _principal() -> Any:
    from glassgate.core.principal import Principal

    return Principal("alice", ISS, frozenset({"Engineers"}))


def test_refusals_are_audited_and_raised() -> None:
    service, audit, _, _, _ = build()
    with pytest.raises(WorkflowInputError):
        run(service.request("admins-jit", ALICE, "why", 99_999.0))
    with pytest.raises(NotFoundError):
        run(service.request("nope", ALICE, "why", 60.0))
    grant = run(service.request("admins-jit", ALICE, "why", 60.0))
    with pytest.raises(ApprovalRefusedError):
        run(service.approve(grant.id, admin("alice")))
    run(service.approve(grant.id, admin("bob")))
    with pytest.raises(ApprovalRefusedError):
        run(service.approve(grant.id, admin("bob")))
    with pytest.raises(ApprovalRefusedError):  # pending: only its requester withdraws it
        run(service.revoke(grant.id, admin("mallory", "Sales")))
    with pytest.raises(NotFoundError):
        run(service.get(""))
    refused = [(e.type, e.details["error"]) for e in audit.events if e.outcome == "refused"]
    assert refused == [
        ("grant.request", "invalid_input"),
        ("grant.approve", "approval_refused"),
        ("grant.approve", "approval_refused"),
        ("grant.revoke", "approval_refused"),
    ]


def test_a_weak_or_stale_approver_gets_a_step_up() -> None:
    service, _, alerts, _, clock = build()
    grant = run(service.request("strong", ALICE, "why", 60.0))
    assert alerts.sent == []  # this type alerts on nothing
    with pytest.raises(StepUpRequiredError) as weak:
        run(service.approve(grant.id, admin("bob", auth_time=clock.now)))
    assert weak.value.acr_values == ("phr",)
    assert weak.value.max_age == 300
    stale = admin("bob", strengths=frozenset({"mfa"}), auth_time=clock.now - 301)
    with pytest.raises(StepUpRequiredError) as old:
        run(service.approve(grant.id, stale))
    assert old.value.reason == "auth-age-expired"
    fresh = admin("bob", strengths=frozenset({"mfa"}), auth_time=clock.now - 10)
    assert run(service.approve(grant.id, fresh)).state(clock.now) is GrantState.ACTIVE
    assert alerts.sent == []


def test_a_denial_and_an_operator_revocation() -> None:
    service, _, _, _, _ = build()
    grant = run(service.request("admins-jit", ALICE, "why", 60.0))
    denied = run(service.deny(grant.id, admin("bob")))
    assert denied.state(1000.0) is GrantState.DENIED
    other = run(service.request("admins-jit", ALICE, "why", 60.0))
    run(service.approve(other.id, admin("bob")))
    run(service.approve(other.id, admin("carol")))
    ended = run(service.revoke(other.id, Approver("cli:root", frozenset()), operator=True))
    assert ended.revoked_by == "cli:root"
    assert len(run(service.grants())) == 2


def test_nothing_is_saved_when_the_audit_log_is_down() -> None:
    service, audit, alerts, _, _ = build()
    audit.down = True
    with pytest.raises(AuditUnavailableError):
        run(service.request("admins-jit", ALICE, "why", 60.0))
    assert run(service.grants()) == []
    assert alerts.sent == []


def test_a_refusal_is_still_raised_when_its_audit_fails() -> None:
    service, audit, _, _, _ = build()
    grant = run(service.request("admins-jit", ALICE, "why", 60.0))
    audit.down = True
    with pytest.raises(ApprovalRefusedError):
        run(service.approve(grant.id, admin("alice")))
