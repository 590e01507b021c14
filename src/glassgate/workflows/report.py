"""The post-use report of one activation: who, when, what was done, and the evidence range.

Built from the request, its session and incident, and the audit records of
the session's range (``Session.first_seq`` .. ``last_seq``): the requester,
the approvers with their key ids, start and end, every request made with
the session (method, path, status from its decision records), the audit
record range, and whether ``audit verify`` passes over the log holding it.
Pure: the caller reads the records and runs the verification.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from glassgate.audit.records import AuditRecord
from glassgate.workflows.incidents import Incident
from glassgate.workflows.requests import BreakglassRequest
from glassgate.workflows.sessions import Session

__all__ = ["ReportRequest", "SessionReport", "build_report"]

_STATUS = {"allow": 200, "deny": 403, "unauthenticated": 401, "step-up": 401, "rate-limited": 429}


@dataclass(frozen=True, slots=True)
class ReportRequest:
    seq: int
    ts: str
    method: str
    path: str
    route: str | None
    outcome: str
    status: int


@dataclass(frozen=True, slots=True)
class SessionReport:
    request_id: str
    kind: str
    account: str
    requester: str
    reason: str
    incident_ref: str | None
    approvers: tuple[tuple[str, str | None], ...]  # (custodian, key id)
    session_id: str | None
    started_at: float | None
    ended_at: float | None
    ended_by: str | None
    requests: tuple[ReportRequest, ...]
    first_seq: int | None
    last_seq: int | None
    audit_verified: bool
    audit_message: str
    incident_id: str | None
    incident_state: str | None
    incident_notes: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "kind": self.kind,
            "account": self.account,
            "requester": self.requester,
            "reason": self.reason,
            "incident_ref": self.incident_ref,
            "approvers": [{"custodian": c, "key_id": k} for c, k in self.approvers],
            "session_id": self.session_id,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "ended_by": self.ended_by,
            "requests": [
                {
                    "seq": r.seq,
                    "ts": r.ts,
                    "method": r.method,
                    "path": r.path,
                    "route": r.route,
                    "outcome": r.outcome,
                    "status": r.status,
                }
                for r in self.requests
            ],
            "audit_range": {"first_seq": self.first_seq, "last_seq": self.last_seq},
            "audit_verified": self.audit_verified,
            "audit_message": self.audit_message,
            "incident": {
                "id": self.incident_id,
                "state": self.incident_state,
                "notes": self.incident_notes,
            },
        }


def _requests(session: Session | None, records: Iterable[AuditRecord]) -> tuple[ReportRequest, ...]:
    if session is None:
        return ()
    found = []
    for record in records:
        if record.type != "decision" or record.jti != session.id:
            continue
        details = record.details
        status = details.get("status")
        found.append(
            ReportRequest(
                record.seq,
                record.ts,
                str(details.get("method", "")),
                str(details.get("path", "")),
                record.route,
                record.outcome,
                int(status) if isinstance(status, int) else _STATUS.get(record.outcome, 0),
            )
        )
    return tuple(found)


def build_report(
    request: BreakglassRequest,
    session: Session | None,
    incident: Incident | None,
    records: Iterable[AuditRecord],
    *,
    verified: bool,
    message: str,
) -> SessionReport:
    return SessionReport(
        request_id=request.id,
        kind=request.kind.value,
        account=request.account,
        requester=request.requester,
        reason=request.reason,
        incident_ref=request.incident_ref,
        approvers=tuple((a.approver, a.key_id) for a in request.approval.approvals),
        session_id=None if session is None else session.id,
        started_at=None if session is None else session.started_at,
        ended_at=None if session is None else session.ended_at,
        ended_by=None if session is None else session.ended_by,
        requests=_requests(session, records),
        first_seq=None if session is None else session.first_seq,
        last_seq=None if session is None else session.last_seq,
        audit_verified=verified,
        audit_message=message,
        incident_id=None if incident is None else incident.id,
        incident_state=None if incident is None else incident.state.value,
        incident_notes=None if incident is None else incident.notes,
    )
