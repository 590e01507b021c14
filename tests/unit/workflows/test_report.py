"""The post-use report: requests from the session's decision records, nothing else."""

from __future__ import annotations

from glassgate.audit.chain import GENESIS, link
from glassgate.audit.records import AuditEvent
from glassgate.workflows.approvals import ApprovalRule, Approver
from glassgate.workflows.report import build_report
from glassgate.workflows.requests import Decision, RequestKind, decide, file_request
from glassgate.workflows.sessions import start_session


def _request():  # type: ignore[no-untyped-def]
    request, _ = file_request(
        "R1",
        RequestKind.ACTIVATION,
        "ops",
        "breakglass:ops",
        reason="SSO broken",
        incident_ref="INC-1",
        scope=("okta-admin",),
        session_ttl=600.0,
        rule=ApprovalRule.quorum("c", 1),
        now=1.0,
        ttl=100.0,
    )
    request, _ = decide(
        request, Approver("custodian:a", frozenset({"c"}), key_id="k1"), Decision.APPROVE, 2.0
    )
    return request


def _decision(seq: int, jti: str, outcome: str, **details: object):  # type: ignore[no-untyped-def]
    return AuditEvent(
        type="decision",
        outcome=outcome,
        at=10.0 + seq,
        jti=jti,
        route="okta-admin",
        details={"method": "GET", "path": f"/api/v1/{seq}", **details},
    )


def test_report_lists_the_sessions_requests_only() -> None:
    issued, _ = start_session(
        "R1", "ops", drill=False, scope=("okta-admin",), client_ip="10.0.0.5", ttl=600, now=3.0
    )
    session = issued.session
    records = link(
        GENESIS,
        [
            _decision(1, session.id, "allow"),
            _decision(2, "someone-else", "allow"),
            _decision(3, session.id, "deny", status=451),
            AuditEvent(type="breakglass.session.ended", outcome="ok", at=20.0),
        ],
    )
    report = build_report(_request(), session, None, records, verified=True, message="ok")
    assert [(r.path, r.status) for r in report.requests] == [
        ("/api/v1/1", 200),
        ("/api/v1/3", 451),
    ]
    assert report.approvers == (("custodian:a", "k1"),)
    document = report.as_json()
    assert document["incident"] == {"id": None, "state": None, "notes": None}
    assert document["audit_verified"] is True


def test_report_without_a_session() -> None:
    report = build_report(_request(), None, None, [], verified=False, message="broken")
    assert report.requests == ()
    assert report.session_id is None
    assert report.as_json()["audit_message"] == "broken"
