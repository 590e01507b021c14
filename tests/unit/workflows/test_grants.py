"""Just-in-time grants as a state machine: every transition and every refusal."""

from __future__ import annotations

import pytest

from glassgate.errors import (
    ActionForbiddenError,
    ApprovalRefusedError,
    InvalidTransitionError,
    RequestExpiredError,
    WorkflowInputError,
)
from glassgate.workflows import grants
from glassgate.workflows.approvals import ApprovalRule, ApprovalState, Approver, Requirement
from glassgate.workflows.grants import Grant, GrantState, GrantType, as_document, person_id

ISS = "https://idp.example"
OTHER_ISS = "https://other.example"
RULE = ApprovalRule(((Requirement("Admins", 2),), (Requirement("Admins"), Requirement("Security"))))
ADMINS = GrantType("admins-jit", "Admins", 3600.0, frozenset({"Engineers"}), RULE)


def admin(name: str, *groups: str) -> Approver:
    return Approver(person_id(ISS, name), frozenset(groups or ("Admins",)))


def filed(duration: float = 600.0, now: float = 1000.0) -> Grant:
    grant, events = grants.file_grant(
        "gr_1",
        ADMINS,
        (ISS, "alice", frozenset({"Engineers"})),
        reason="deploy fix INC-1",
        duration=duration,
        now=now,
        ttl=300.0,
    )
    assert [e.name for e in events] == ["grant.requested"]
    assert events[0].details["grant_id"] == "gr_1"
    assert events[0].details["duration"] == duration
    return grant


def test_a_request_is_pending_until_two_admins_approve() -> None:
    grant = filed()
    assert grant.state(1000.0) is GrantState.PENDING
    assert grant.requester == person_id(ISS, "alice")
    assert grant.stored_state == "pending"
    grant, events = grants.approve(grant, admin("bob"), 1001.0)
    assert grant.state(1001.0) is GrantState.PENDING
    assert grant.ends_at is None
    assert [e.name for e in events] == ["grant.approved"]
    grant, events = grants.approve(grant, admin("carol"), 1002.0)
    assert [e.name for e in events] == ["grant.approved", "grant.quorum-met"]
    assert events[-1].details["ends_at"] == 1602.0
    assert grant.ends_at == 1602.0
    assert grant.state(1601.9) is GrantState.ACTIVE
    assert grant.state(1602.0) is GrantState.ENDED
    assert grant.stored_state == "approved"


def test_one_admin_and_one_security_member_meet_the_other_alternative() -> None:
    grant, _ = grants.approve(filed(), admin("bob"), 1001.0)
    grant, _ = grants.approve(grant, admin("sec", "Security"), 1002.0)
    assert grant.state(1003.0) is GrantState.ACTIVE


def test_someone_in_both_groups_counts_once() -> None:
    grant, _ = grants.approve(filed(), admin("bob", "Admins", "Security"), 1001.0)
    with pytest.raises(ApprovalRefusedError) as refused:
        grants.approve(grant, admin("bob", "Admins", "Security"), 1002.0)
    assert refused.value.reason == "already-approved"
    assert grant.state(1002.0) is GrantState.PENDING


def test_the_requester_never_approves_even_from_an_admin_group() -> None:
    with pytest.raises(ApprovalRefusedError) as refused:
        grants.approve(filed(), admin("alice", "Admins"), 1001.0)
    assert refused.value.reason == "self-approval"


def test_the_same_subject_from_another_issuer_is_another_person() -> None:
    other = Approver(person_id(OTHER_ISS, "alice"), frozenset({"Admins"}))
    grant, _ = grants.approve(filed(), other, 1001.0)
    assert grant.approval.approvers() == (person_id(OTHER_ISS, "alice"),)


@pytest.mark.parametrize(
    ("groups", "reason", "duration", "error"),
    [
        pytest.param(frozenset({"Sales"}), "why", 60.0, ActionForbiddenError, id="not-a-requester"),
        pytest.param(frozenset({"Engineers"}), " ", 60.0, WorkflowInputError, id="empty-reason"),
        pytest.param(
            frozenset({"Engineers"}), "a\nb", 60.0, WorkflowInputError, id="multi-line-reason"
        ),
        pytest.param(
            frozenset({"Engineers"}), "x" * 501, 60.0, WorkflowInputError, id="long-reason"
        ),
        pytest.param(frozenset({"Engineers"}), "why", 3601.0, WorkflowInputError, id="too-long"),
        pytest.param(frozenset({"Engineers"}), "why", 0.0, WorkflowInputError, id="zero"),
    ],
)
def test_bad_requests_are_refused(
    groups: frozenset[str], reason: str, duration: float, error: type[Exception]
) -> None:
    with pytest.raises(error):
        grants.file_grant(
            "gr_x", ADMINS, (ISS, "alice", groups), reason=reason, duration=duration,
            now=1.0, ttl=60.0,
        )  # fmt: skip


def test_a_type_grants_its_own_group_only() -> None:
    with pytest.raises(ActionForbiddenError):
        grants.file_grant(
            "gr_x", ADMINS, (ISS, "alice", frozenset({"Engineers"})), reason="why",
            duration=60.0, now=1.0, ttl=60.0, group="Root",
        )  # fmt: skip
    grant, _ = grants.file_grant(
        "gr_x", ADMINS, (ISS, "alice", frozenset({"Engineers"})), reason="why",
        duration=60.0, now=1.0, ttl=60.0, group="Admins",
    )  # fmt: skip
    assert grant.group == "Admins"


def test_a_request_expires_unapproved() -> None:
    grant = filed()
    assert grant.state(1300.0) is GrantState.EXPIRED
    with pytest.raises(RequestExpiredError):
        grants.approve(grant, admin("bob"), 1300.0)
    expired, events = grants.expire(grant, 1300.0)
    assert expired.approval.state is ApprovalState.EXPIRED
    assert expired.state(1300.0) is GrantState.EXPIRED
    assert [e.name for e in events] == ["grant.expired"]


def test_a_denial_ends_the_request() -> None:
    grant, events = grants.deny(filed(), admin("bob"), 1001.0)
    assert grant.state(1001.0) is GrantState.DENIED
    assert [e.name for e in events] == ["grant.denied"]
    with pytest.raises(InvalidTransitionError):
        grants.approve(grant, admin("carol"), 1002.0)


def _active() -> Grant:
    grant, _ = grants.approve(filed(), admin("bob"), 1001.0)
    grant, _ = grants.approve(grant, admin("carol"), 1002.0)
    return grant


@pytest.mark.parametrize(
    ("actor", "may"),
    [
        pytest.param(person_id(ISS, "alice"), False, id="requester"),
        pytest.param(person_id(ISS, "bob"), True, id="approver-or-admin"),
    ],
)
def test_an_active_grant_is_revoked_by_requester_approver_or_admin(actor: str, may: bool) -> None:
    grant, events = grants.revoke(_active(), actor, may, 1100.0)
    assert grant.state(1100.0) is GrantState.REVOKED
    assert grant.stored_state == "revoked"
    assert grant.revoked_by == actor
    assert [e.name for e in events] == ["grant.revoked"]
    with pytest.raises(InvalidTransitionError):
        grants.revoke(grant, actor, may, 1101.0)


def test_nobody_else_revokes() -> None:
    with pytest.raises(ActionForbiddenError):
        grants.revoke(_active(), person_id(ISS, "mallory"), False, 1100.0)


def test_a_pending_request_is_withdrawn_by_its_requester_only() -> None:
    with pytest.raises(ApprovalRefusedError):
        grants.revoke(filed(), person_id(ISS, "bob"), True, 1001.0)
    grant, events = grants.revoke(filed(), person_id(ISS, "alice"), False, 1001.0)
    assert grant.state(1001.0) is GrantState.CANCELLED
    assert [e.name for e in events] == ["grant.cancelled"]


def test_an_ended_grant_cannot_be_revoked() -> None:
    with pytest.raises(InvalidTransitionError):
        grants.revoke(_active(), person_id(ISS, "alice"), False, 5000.0)


def test_the_document_shows_the_state_as_of_now() -> None:
    document = as_document(_active(), 1100.0)
    assert document["state"] == "active"
    assert document["approvers"] == [person_id(ISS, "bob"), person_id(ISS, "carol")]
    assert document["ends_at"] == 1602.0
