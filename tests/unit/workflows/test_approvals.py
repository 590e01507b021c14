"""The approval engine: every transition, every refusal, and the rule matcher."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from glassgate.errors import (
    ApprovalRefusedError,
    InvalidTransitionError,
    RequestExpiredError,
    WorkflowError,
    WorkflowInputError,
)
from glassgate.workflows.approvals import (
    Approval,
    ApprovalRequest,
    ApprovalRule,
    ApprovalState,
    Approver,
    Requirement,
    approve,
    cancel,
    deny,
    expire,
    open_request,
    rule_met,
)

CUSTODIANS = frozenset({"custodians"})
QUORUM = ApprovalRule.quorum("custodians", 2)


def custodian(name: str, **kwargs: object) -> Approver:
    return Approver(f"custodian:{name}", CUSTODIANS, **kwargs)  # type: ignore[arg-type]


def pending(rule: ApprovalRule = QUORUM, ttl: float = 1800.0) -> ApprovalRequest:
    request, events = open_request("R1", "breakglass:ops", rule, 1000.0, ttl)
    assert [e.kind for e in events] == ["requested"]
    return request


def test_two_distinct_custodians_approve() -> None:
    request = pending()
    request, events = approve(request, custodian("alice", key_id="k-a"), 1001.0)
    assert request.state is ApprovalState.PENDING
    assert [(e.kind, e.key_id) for e in events] == [("approved", "k-a")]
    request, events = approve(request, custodian("bob"), 1002.0)
    assert request.state is ApprovalState.APPROVED
    assert request.closed_at == 1002.0
    assert [e.kind for e in events] == ["approved", "quorum-met"]
    assert request.approvers() == ("custodian:alice", "custodian:bob")


def test_one_approval_of_two_is_not_enough() -> None:
    request, _ = approve(pending(), custodian("alice"), 1001.0)
    assert request.state is ApprovalState.PENDING
    assert not rule_met(QUORUM, request.approvals)


def test_the_same_custodian_counts_once() -> None:
    request, _ = approve(pending(), custodian("alice"), 1001.0)
    with pytest.raises(ApprovalRefusedError) as refused:
        approve(request, custodian("alice"), 1002.0)
    assert refused.value.reason == "already-approved"
    assert refused.value.status == 403


def test_the_requester_can_never_approve_or_deny() -> None:
    requester = Approver("breakglass:ops", CUSTODIANS)  # even when in the group
    for action in (approve, deny):
        with pytest.raises(ApprovalRefusedError) as refused:
            action(pending(), requester, 1001.0)
        assert refused.value.reason == "self-approval"


def test_outsiders_cannot_decide() -> None:
    outsider = Approver("user:mallory", frozenset({"Admins"}))
    with pytest.raises(ApprovalRefusedError, match="not an approver") as refused:
        approve(pending(), outsider, 1001.0)
    assert refused.value.reason == "not-an-approver"
    with pytest.raises(ApprovalRefusedError):
        deny(pending(), outsider, 1001.0)


def test_any_custodian_can_deny_even_after_an_approval() -> None:
    request, _ = approve(pending(), custodian("alice"), 1001.0)
    request, events = deny(request, custodian("bob", key_id="k-b"), 1002.0)
    assert request.state is ApprovalState.DENIED
    assert request.denial is not None
    assert request.denial.approver == "custodian:bob"
    assert [(e.kind, e.actor, e.key_id) for e in events] == [("denied", "custodian:bob", "k-b")]


@pytest.mark.parametrize("action", [approve, deny], ids=["case=approve", "case=deny"])
def test_nothing_is_decided_after_expiry(action: object) -> None:
    with pytest.raises(RequestExpiredError) as refused:
        action(pending(ttl=60.0), custodian("alice"), 1060.0)  # type: ignore[operator]
    assert refused.value.status == 410


def test_expire_only_a_pending_request_past_its_time() -> None:
    request = pending(ttl=60.0)
    with pytest.raises(InvalidTransitionError):
        expire(request, 1059.0)
    expired, events = expire(request, 1100.0)
    assert expired.state is ApprovalState.EXPIRED
    assert expired.closed_at == 1060.0
    assert [e.kind for e in events] == ["expired"]
    with pytest.raises(InvalidTransitionError):
        expire(expired, 1200.0)


@pytest.mark.parametrize("final", ["approved", "denied", "expired", "cancelled"])
def test_a_closed_request_accepts_no_decision(final: str) -> None:
    request = pending()
    if final == "approved":
        request, _ = approve(request, custodian("a"), 1001.0)
        request, _ = approve(request, custodian("b"), 1002.0)
    elif final == "denied":
        request, _ = deny(request, custodian("a"), 1001.0)
    elif final == "expired":
        request, _ = expire(request, 5000.0)
    else:
        request, _ = cancel(request, "breakglass:ops", 1001.0)
    for action in (approve, deny):
        with pytest.raises(InvalidTransitionError) as refused:
            action(request, custodian("c"), 1003.0)
        assert refused.value.state == final
    with pytest.raises(InvalidTransitionError):
        cancel(request, "breakglass:ops", 1003.0)


def test_only_the_requester_cancels() -> None:
    with pytest.raises(ApprovalRefusedError):
        cancel(pending(), "custodian:alice", 1001.0)
    request, events = cancel(pending(), "breakglass:ops", 1001.0)
    assert request.state is ApprovalState.CANCELLED
    assert [e.kind for e in events] == ["cancelled"]


def test_strength_and_auth_age_requirements() -> None:
    rule = ApprovalRule.quorum("Admins", 1, strength="phishing_resistant")
    rule = ApprovalRule(rule.alternatives, strength="phishing_resistant", max_auth_age=300)
    request = pending(rule)
    weak = Approver("u:1", frozenset({"Admins"}), frozenset({"mfa"}), auth_time=1000.0)
    with pytest.raises(ApprovalRefusedError) as refused:
        approve(request, weak, 1001.0)
    assert refused.value.reason == "strength-insufficient"
    stale = Approver("u:1", frozenset({"Admins"}), frozenset({"phishing_resistant"}), 500.0)
    with pytest.raises(ApprovalRefusedError) as refused:
        approve(request, stale, 1001.0)
    assert refused.value.reason == "auth-age-expired"
    unknown_time = Approver("u:1", frozenset({"Admins"}), frozenset({"phishing_resistant"}))
    with pytest.raises(ApprovalRefusedError):
        approve(request, unknown_time, 1001.0)
    fresh = Approver("u:1", frozenset({"Admins"}), frozenset({"phishing_resistant"}), 900.0)
    approved, _ = approve(request, fresh, 1001.0)
    assert approved.state is ApprovalState.APPROVED


def _approval(name: str, *groups: str) -> Approval:
    return Approval(name, 0.0, frozenset(groups))


A_OR_AB = ApprovalRule(
    (
        (Requirement("A", 2),),
        (Requirement("A", 1), Requirement("B", 1)),
    )
)


@pytest.mark.parametrize(
    ("approvals", "met"),
    [
        pytest.param([("x", "A"), ("y", "A")], True, id="case=two-from-A"),
        pytest.param([("x", "A"), ("y", "B")], True, id="case=one-A-one-B"),
        pytest.param([("x", "A", "B")], False, id="case=one-person-in-both-counts-once"),
        pytest.param([("x", "B"), ("y", "B")], False, id="case=two-from-B-only"),
        pytest.param([("x", "A", "B"), ("y", "A")], True, id="case=both-groups-plus-A"),
        pytest.param([("x", "C"), ("y", "A")], False, id="case=outsider-does-not-count"),
        pytest.param([], False, id="case=nobody"),
    ],
)
def test_rule_alternatives_with_distinct_people(
    approvals: list[tuple[str, ...]], met: bool
) -> None:
    assert rule_met(A_OR_AB, [_approval(*a) for a in approvals]) is met


def test_matching_reassigns_a_person_to_make_room() -> None:
    # x could fill A or B; y only A. A greedy pick of x for A would fail; matching does not.
    rule = ApprovalRule(((Requirement("A", 1), Requirement("B", 1)),))
    assert rule_met(rule, [_approval("x", "A", "B"), _approval("y", "A")])


@pytest.mark.parametrize(
    "build",
    [
        lambda: Requirement("", 1),
        lambda: Requirement("A", 0),
        lambda: ApprovalRule(()),
        lambda: ApprovalRule(((),)),
        lambda: ApprovalRule(((Requirement("A"),),), max_auth_age=0),
    ],
)
def test_malformed_rules_are_value_errors(build: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        build()  # type: ignore[operator]


def test_open_request_checks_its_fields() -> None:
    with pytest.raises(WorkflowInputError):
        open_request("", "x", QUORUM, 0.0, 10.0)
    with pytest.raises(WorkflowInputError):
        open_request("R", "x", QUORUM, 0.0, 0.0)


names = st.sampled_from(["a", "b", "c", "d"])
groups = st.frozensets(st.sampled_from(["A", "B", "C"]), max_size=3)


@given(st.lists(st.tuples(names, groups), max_size=6))
def test_rule_met_never_counts_a_person_twice(people: list[tuple[str, frozenset[str]]]) -> None:
    """Met for an alternative implies as many distinct people as it has slots."""
    approvals = [Approval(n, 0.0, g) for n, g in dict(people).items()]
    if rule_met(A_OR_AB, approvals):
        assert len({a.approver for a in approvals if a.groups & {"A", "B"}}) >= 2


class ApprovalMachine(RuleBasedStateMachine):
    """Random sequences of decisions: the invariants of dual control always hold."""

    def __init__(self) -> None:
        super().__init__()
        self.request = pending(ttl=100.0)
        self.now = 1000.0

    @rule(name=st.sampled_from(["a", "b", "c", "ops"]), step=st.floats(0, 30))
    def approve_one(self, name: str, step: float) -> None:
        self.now += step
        who = Approver("breakglass:ops", CUSTODIANS) if name == "ops" else custodian(name)
        with contextlib.suppress(WorkflowError):
            self.request, _ = approve(self.request, who, self.now)

    @rule(name=st.sampled_from(["a", "b", "c"]), step=st.floats(0, 30))
    @precondition(lambda self: self.request.state is ApprovalState.PENDING)
    def deny_one(self, name: str, step: float) -> None:
        self.now += step
        with contextlib.suppress(WorkflowError):
            self.request, _ = deny(self.request, custodian(name), self.now)

    @rule(step=st.floats(0, 60))
    def sweep(self, step: float) -> None:
        self.now += step
        if self.request.is_expired(self.now):
            self.request, _ = expire(self.request, self.now)

    @invariant()
    def dual_control(self) -> None:
        request = self.request
        people = request.approvers()
        assert len(people) == len(set(people))
        assert request.requester not in people
        if request.state is ApprovalState.APPROVED:
            assert len(people) >= 2
            assert request.approvals[-1].at < request.expires_at
        if request.state is ApprovalState.PENDING:
            assert len(people) < 2


TestApprovalMachine = ApprovalMachine.TestCase
TestApprovalMachine.settings = settings(max_examples=60, stateful_step_count=20, deadline=None)
