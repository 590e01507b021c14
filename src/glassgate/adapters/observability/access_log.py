"""One JSON line per request: who asked for what, what was decided, how long it took.

Fields: time, request_id, method, path (canonical, never the query string),
route, outcome, status, reasons, subject, client_ip, token_hash (the first 16
hex digits of the credential's SHA-256) and jti, latency_ms; for a failed
credential also ``token_detail`` (a fixed ``TokenError`` kind), for a
report-only pass ``would_be``. Nothing here reads a header: no token,
Authorization header, cookie or secret can reach the log through this module.
A request answered before any decision (malformed, smuggling, oversized) has
no canonical path; its raw path is logged, bounded, as ``raw_path``.

The decision reaches the line through ``Exchange``, a per-request slot that the
ASGI wrapper puts in a context variable and the decision sink fills in.
"""

from __future__ import annotations

import json
import random
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from glassgate.adapters.clock import now
from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.observability.log_format import iso_time
from glassgate.core.principal import token_fingerprint

__all__ = ["CURRENT", "Exchange", "access_line"]

_MAX_TEXT = 256
# Built once: ``json.dumps`` with options builds a new encoder per call. Outcomes and
# reasons are StrEnums, which the C encoder writes as the strings they are.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


@dataclass(slots=True)
class Exchange:
    """What the observer learns about one request while it is served."""

    started: float
    result: GateResult | None = None
    status: int = 0


CURRENT: ContextVar[Exchange | None] = ContextVar("glassgate_exchange", default=None)


def _request_id() -> str:
    """A correlation id, not a secret: the PRNG avoids a getrandom() system call per request."""
    return f"{random.getrandbits(64):016x}"


def _bounded(value: str | None) -> str | None:
    return value if value is None or len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "…"


def _hash_prefix(result: GateResult) -> str | None:
    if result.principal is not None and result.principal.token_hash:
        return result.principal.token_hash[:16]
    token = result.facts.token
    if token is not None:  # a refused credential: its hash still correlates attempts
        return token_fingerprint(token)[:16]
    return None


def _decided(line: dict[str, Any], result: GateResult) -> None:
    request, decision, principal = result.facts.request, result.decision, result.principal
    line["method"] = request.method
    line["path"] = _bounded(request.path)
    line["route"] = decision.route_id
    line["outcome"] = decision.outcome
    line["reasons"] = decision.reasons
    line["client_ip"] = str(request.client_ip)
    line["subject"] = _bounded(principal.subject) if principal is not None else None
    line["token_hash"] = _hash_prefix(result)
    line["jti"] = _bounded(principal.token_id) if principal is not None else None
    if result.token_detail is not None:
        line["token_detail"] = result.token_detail
    if decision.would_be is not None:
        line["would_be"] = decision.would_be.outcome


def access_line(
    exchange: Exchange, method: str, raw_path: bytes, peer: str | None, seconds: float
) -> str:
    """The JSON line for one finished request (``method``/``raw_path``/``peer`` from ASGI)."""
    line: dict[str, Any] = {
        "time": iso_time(now()),
        "request_id": _request_id(),
        "method": method[:32],
        "path": None,
        "route": None,
        "outcome": None,
        "status": exchange.status,
        "reasons": [],
        "subject": None,
        "client_ip": peer,
        "token_hash": None,
        "jti": None,
        "latency_ms": round(seconds * 1000.0, 3),
    }
    if exchange.result is not None:
        _decided(line, exchange.result)
    else:
        line["raw_path"] = _bounded(raw_path.decode("latin-1"))
    return _ENCODE(line)
