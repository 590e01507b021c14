"""Events the gateway reports: one builder per kind, so every record has the same shape.

``decision_event`` turns a gate decision into the ``decision`` audit event:
outcome, route, reasons, who (subject, token fingerprint and ``jti``, never
the token) and what (method, path, host, client address). Values the client
chooses are cleaned (``redact_text``): a hostile path can never make an audit
event fail or carry a credential into the log. A decision made with a
break-glass credential is privileged: the caller must ``await append`` it.

``minimal_decision_event`` is the fallback when the full event cannot be
built (text that no cleaning makes recordable, details over the size cap): a
decision is never left without a record, so it keeps only typed fields.
"""

from __future__ import annotations

import re

from glassgate.audit.records import AuditEvent, EventType
from glassgate.audit.screening import redact_text
from glassgate.core.decision import Decision
from glassgate.core.principal import CredentialKind, Principal
from glassgate.core.request import AccessRequest
from glassgate.types import JSONValue

__all__ = ["decision_event", "minimal_decision_event"]

_MAX_PATH = 2048
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MAX_GROUPS = 50


def _clean(value: str | None, limit: int = 512) -> str | None:
    return None if value is None else redact_text(value, limit)


def _fingerprint(token_hash: str) -> str | None:
    """Only a SHA-256 hex digest is a fingerprint; anything else is left out."""
    return token_hash if _HEX64.fullmatch(token_hash) else None


def _who(principal: Principal) -> dict[str, JSONValue]:
    groups = sorted(principal.groups)
    who: dict[str, JSONValue] = {
        "issuer": redact_text(principal.issuer),
        "principal_kind": principal.kind.value,
        "groups": [redact_text(group, 128) for group in groups[:_MAX_GROUPS]],
        "amr": [redact_text(value, 64) for value in sorted(principal.amr)[:20]],
    }
    if len(groups) > _MAX_GROUPS:
        who["groups_total"] = len(groups)
    if principal.acr is not None:
        who["acr"] = redact_text(principal.acr)
    if principal.client_id is not None:
        who["client_id"] = redact_text(principal.client_id)
    if principal.grants:
        who["grants"] = [redact_text(grant, 64) for grant in principal.grants[:_MAX_GROUPS]]
    return who


def _what(decision: Decision, request: AccessRequest) -> dict[str, JSONValue]:
    what: dict[str, JSONValue] = {
        "method": redact_text(request.method, 32),
        "path": redact_text(request.path, _MAX_PATH),
        "host": redact_text(request.host, 255),
        "client_ip": str(request.client_ip),
    }
    if decision.would_be is not None:
        what["would_be"] = decision.would_be.outcome.value
    if decision.challenge is not None:
        what["acr_values"] = list(decision.challenge.acr_values)
        what["max_age"] = decision.challenge.max_age
    if decision.retry_after is not None:
        what["retry_after"] = decision.retry_after
    if decision.quota_tier is not None:
        what["quota_tier"] = decision.quota_tier
    return what


def is_privileged_principal(principal: Principal | None) -> bool:
    """Decisions made with a break-glass credential are privileged: durable, never sampled."""
    return principal is not None and principal.kind is CredentialKind.BREAKGLASS


def decision_event(
    decision: Decision,
    request: AccessRequest,
    principal: Principal | None,
    *,
    at: float,
    request_id: str | None = None,
    auth_error: str | None = None,
    privileged: bool | None = None,
) -> AuditEvent:
    """The audit event for one gate decision.

    ``auth_error`` is the token failure detail (``TokenError.detail``) when the
    credential was refused; ``privileged`` defaults to "made with a
    break-glass credential".
    """
    details = _what(decision, request)
    if principal is not None:
        details.update(_who(principal))
    if auth_error is not None:
        details["auth_error"] = redact_text(auth_error, 64)
    if privileged is None:
        privileged = is_privileged_principal(principal)
    return AuditEvent(
        type=EventType.DECISION,
        outcome=decision.outcome.value,
        at=at,
        subject=None if principal is None else redact_text(principal.subject),
        route=decision.route_id,
        reasons=tuple(str(reason) for reason in decision.reasons),
        token_hash=None if principal is None else _fingerprint(principal.token_hash),
        jti=_clean(None if principal is None else principal.token_id),
        request_id=_clean(request_id, 128),
        privileged=privileged,
        details=details,
    )


def minimal_decision_event(
    decision: Decision, request: AccessRequest, principal: Principal | None, *, at: float
) -> AuditEvent:
    """The decision with typed fields only: what is recorded when ``decision_event`` fails.

    Outcome, route id and reasons come from the compiled policy, the client
    address is an ``ip_address`` and the fingerprint is checked to be a digest,
    so nothing here can fail screening. ``details.minimal`` marks the record
    for auditors; the subject and the request's text are left out.
    """
    details: dict[str, JSONValue] = {"minimal": True, "client_ip": str(request.client_ip)}
    return AuditEvent(
        type=EventType.DECISION,
        outcome=decision.outcome.value,
        at=at,
        route=decision.route_id,
        reasons=tuple(str(reason) for reason in decision.reasons),
        token_hash=None if principal is None else _fingerprint(principal.token_hash),
        privileged=is_privileged_principal(principal),
        details=details,
    )
