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

import math
import re

from glassgate.audit.records import AuditEvent, EventType
from glassgate.audit.screening import is_clean, redact_text
from glassgate.core.decision import Decision
from glassgate.core.principal import CredentialKind, Principal
from glassgate.core.request import AccessRequest, address_text
from glassgate.types import JSONValue

__all__ = ["PendingDecision", "build_decision", "decision_event", "minimal_decision_event"]

#: What the request side queues for an ordinary decision, typed fields only: (decision,
#: request, principal, auth_error, at, sample_rate). The audit writer turns it into an
#: event (``build_decision``) off the request; no text is formatted or screened before.
PendingDecision = tuple[Decision, AccessRequest, Principal | None, str | None, float, float]

_MAX_PATH = 2048
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MAX_GROUPS = 50


def _clean(value: str | None, limit: int = 512) -> str | None:
    return None if value is None else redact_text(value, limit)


def _fingerprint(token_hash: str) -> str | None:
    """Only a SHA-256 hex digest is a fingerprint; anything else is left out."""
    return token_hash if _HEX64.fullmatch(token_hash) else None


# The "who" part of a record depends on these fields only; a caller sends many requests
# with one principal, so it is built (sorted, cleaned) once per principal, not per record.
_WhoKey = tuple[
    str, CredentialKind, frozenset[str], frozenset[str], str | None, str | None, tuple[str, ...]
]
_WHO_CACHE: dict[_WhoKey, dict[str, JSONValue]] = {}
_WHO_CACHE_SIZE = 4096


def _who_cached(principal: Principal) -> dict[str, JSONValue]:
    """``_who``, memoised; the dict is shared and never changed (records copy its entries)."""
    key = (
        principal.issuer,
        principal.kind,
        principal.groups,
        principal.amr,
        principal.acr,
        principal.client_id,
        principal.grants,
    )
    who = _WHO_CACHE.get(key)
    if who is None:
        if len(_WHO_CACHE) >= _WHO_CACHE_SIZE:
            _WHO_CACHE.clear()
        who = _WHO_CACHE[key] = _who(principal)
    return who


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
    method, path, host = request.method, request.path, request.host
    if (
        len(method) > 32
        or len(path) > _MAX_PATH
        or len(host) > 255
        or not is_clean(f"{method}\n{path}\n{host}")
    ):  # the rare case: clean each (the common one is a single search)
        method = redact_text(method, 32)
        path = redact_text(path, _MAX_PATH)
        host = redact_text(host, 255)
    what: dict[str, JSONValue] = {
        "method": method,
        "path": path,
        "host": host,
        "client_ip": address_text(request.client_ip),
    }
    if decision.would_be is not None:
        what["would_be"] = decision.would_be.outcome.value
    if decision.challenge is not None:
        what["acr_values"] = list(decision.challenge.acr_values)
        what["max_age"] = decision.challenge.max_age
    if decision.retry_after is not None:
        if not math.isfinite(decision.retry_after):
            raise ValueError("retry_after must be a finite number")
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
    sample_rate: float = 1.0,
) -> AuditEvent:
    """The audit event for one gate decision; ``ValueError`` if it cannot be recorded.

    ``auth_error`` is the token failure detail (``TokenError.detail``) when the
    credential was refused; ``privileged`` defaults to "made with a
    break-glass credential"; ``sample_rate`` is the rate an allowed decision
    was kept at. Every text a client or a token chose is cleaned
    (``redact_text``) and every other field is typed or the policy's own, so
    the event is screened by construction (``AuditEvent.screened``); only the
    size cap can refuse it.
    """
    details = _what(decision, request)
    if principal is not None:
        details.update(_who_cached(principal))
    if auth_error is not None:
        details["auth_error"] = redact_text(auth_error, 64)
    if privileged is None:
        privileged = is_privileged_principal(principal)
    if not math.isfinite(at) or at < 0:
        raise ValueError("audit event time 'at' must be epoch seconds")
    return AuditEvent.screened(
        EventType.DECISION,
        decision.outcome.value,
        at,
        subject=None if principal is None else redact_text(principal.subject),
        route=decision.route_id,
        reasons=tuple(map(str, decision.reasons)),
        token_hash=None if principal is None else _fingerprint(principal.token_hash),
        jti=_clean(None if principal is None else principal.token_id),
        request_id=_clean(request_id, 128),
        privileged=privileged,
        sample_rate=sample_rate,
        details=details,
    )


def minimal_decision_event(
    decision: Decision,
    request: AccessRequest,
    principal: Principal | None,
    *,
    at: float,
    sample_rate: float = 1.0,
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
        sample_rate=sample_rate,
        details=details,
    )


def build_decision(pending: PendingDecision) -> tuple[AuditEvent, bool]:
    """The event for a queued decision, and whether it is the minimal stand-in.

    Never raises for what a client sent: an event that cannot be built becomes
    ``minimal_decision_event`` (the caller counts it).
    """
    decision, request, principal, auth_error, at, rate = pending
    try:
        event = decision_event(
            decision, request, principal, at=at, auth_error=auth_error, sample_rate=rate
        )
    except ValueError:
        return minimal_decision_event(decision, request, principal, at=at, sample_rate=rate), True
    return event, False
