"""Break-glass requests: quorum, fulfilment once and in time, every refusal typed."""

from __future__ import annotations

import pytest

from glassgate.errors import (
    ApprovalRefusedError,
    InvalidTransitionError,
    QuorumNotMetError,
    RequestExpiredError,
    WorkflowInputError,
)
from glassgate.workflows.approvals import ApprovalRule, Approver
from glassgate.workflows.requests import (
    BreakglassRequest,
    Decision,
    RequestKind,
    RequestState,
    cancel,
    decide,
    expire,
    file_request,
    fulfil,
)

RULE = ApprovalRule.quorum("custodians", 2)
ALICE = Approver("custodian:alice", frozenset({"custodians"}), key_id="ka")
BOB = Approver("custodian:bob", frozenset({"custodians"}), key_id="kb")


def filed(kind: RequestKind = RequestKind.ACTIVATION, **kw: object) -> BreakglassRequest:
    fields: dict[str, object] = {
        "reason": "Okta SSO misconfigured, no admin can sign in",
        "incident_ref": "INC-7",
        "scope": ("okta-admin",),
        "session_ttl": 1800.0,
        "rule": RULE,
        "now": 1000.0,
        "ttl": 1800.0,
    }
    fields.update(kw)
    request, events = file_request("R1", kind, "ops", "breakglass:ops", **fields)  # type: ignore[arg-type]
    assert events[0].name == f"{kind.value}.requested"
    return request


def approved(request: BreakglassRequest | None = None) -> BreakglassRequest:
    request, _ = decide(request or filed(), ALICE, Decision.APPROVE, 1010.0)
    request, events = decide(request, BOB, Decision.APPROVE, 1020.0)
    assert [e.name for e in events] == ["activation.approved", "activation.quorum-met"]
    return request


def test_request_carries_reason_incident_and_scope_in_its_event() -> None:
    _, events = file_request(
        "R1",
        RequestKind.ACTIVATION,
        "ops",
        "breakglass:ops",
        reason="r",
        incident_ref="INC-7",
        scope=("okta-admin",),
        session_ttl=60.0,
        rule=RULE,
        now=0.0,
        ttl=10.0,
    )
    assert events[0].details["incident_ref"] == "INC-7"
    assert events[0].details["scope"] == ["okta-admin"]


def test_fulfil_after_quorum_once() -> None:
    request = approved()
    assert request.state(1021.0) is RequestState.APPROVED
    done, events = fulfil(request, 1030.0)
    assert done.state(1030.0) is RequestState.FULFILLED
    assert events[0].name == "activation.activated"
    assert events[0].details["approvers"] == [
        {"approver": "custodian:alice", "key_id": "ka"},
        {"approver": "custodian:bob", "key_id": "kb"},
    ]
    with pytest.raises(InvalidTransitionError):
        fulfil(done, 1031.0)


def test_one_approval_of_two_cannot_be_fulfilled() -> None:
    request, _ = decide(filed(), ALICE, Decision.APPROVE, 1010.0)
    with pytest.raises(QuorumNotMetError):
        fulfil(request, 1011.0)


def test_reset_without_quorum_is_refused() -> None:
    reset = filed(RequestKind.RESET, incident_ref=None, scope=(), session_ttl=0.0)
    with pytest.raises(QuorumNotMetError):
        fulfil(reset, 1001.0)
    reset, _ = decide(reset, ALICE, Decision.APPROVE, 1010.0)
    reset, _ = decide(reset, BOB, Decision.APPROVE, 1011.0)
    done, events = fulfil(reset, 1012.0)
    assert events[0].name == "reset.link-issued"
    assert done.fulfilled_at == 1012.0


def test_approved_but_unused_expires() -> None:
    request = approved()
    assert request.activate_by == 1020.0 + 1800.0
    with pytest.raises(RequestExpiredError):
        fulfil(request, 2820.0)
    expired, events = expire(request, 2820.0)
    assert expired.state(2820.0) is RequestState.EXPIRED
    assert events[0].details["approved_but_unused"] is True
    with pytest.raises(InvalidTransitionError):
        expire(expired, 2900.0)


def test_pending_request_expires_unapproved() -> None:
    request = filed()
    assert request.state(2800.0) is RequestState.EXPIRED
    with pytest.raises(RequestExpiredError):
        decide(request, ALICE, Decision.APPROVE, 2800.0)
    with pytest.raises(RequestExpiredError):
        fulfil(request, 2800.0)
    expired, events = expire(request, 2800.0)
    assert [e.name for e in events] == ["activation.expired"]
    assert expired.state(2800.0) is RequestState.EXPIRED
    with pytest.raises(InvalidTransitionError):
        expire(filed(), 1500.0)


def test_denied_and_cancelled_cannot_be_fulfilled() -> None:
    denied, events = decide(filed(), ALICE, Decision.DENY, 1010.0)
    assert events[0].name == "activation.denied"
    with pytest.raises(InvalidTransitionError):
        fulfil(denied, 1011.0)
    cancelled, _ = cancel(filed(), "breakglass:ops", 1010.0)
    assert cancelled.state(1011.0) is RequestState.CANCELLED
    with pytest.raises(InvalidTransitionError):
        fulfil(cancelled, 1011.0)


def test_self_approval_and_double_approval_are_refused() -> None:
    requester = Approver("breakglass:ops", frozenset({"custodians"}))
    with pytest.raises(ApprovalRefusedError):
        decide(filed(), requester, Decision.APPROVE, 1010.0)
    once, _ = decide(filed(), ALICE, Decision.APPROVE, 1010.0)
    with pytest.raises(ApprovalRefusedError):
        decide(once, ALICE, Decision.APPROVE, 1011.0)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"reason": ""}, id="case=no-reason"),
        pytest.param({"reason": "a\nb"}, id="case=multi-line-reason"),
        pytest.param({"reason": "x" * 501}, id="case=long-reason"),
        pytest.param({"incident_ref": None}, id="case=no-incident"),
        pytest.param({"incident_ref": "INC 7; drop"}, id="case=bad-incident"),
        pytest.param({"scope": ()}, id="case=no-scope"),
        pytest.param({"session_ttl": 0.0}, id="case=no-length"),
    ],
)
def test_bad_fields(fields: dict[str, object]) -> None:
    with pytest.raises(WorkflowInputError):
        filed(**fields)


def test_binding_names_everything_a_decision_commits_to() -> None:
    binding = filed().binding(Decision.APPROVE, "custodian:alice")
    assert binding == {
        "request_id": "R1",
        "kind": "activation",
        "account": "ops",
        "scope": ["okta-admin"],
        "expires_at": 2800.0,
        "decision": "approve",
        "approver": "custodian:alice",
    }
