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

from glassgate.adapters.clock import now
from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.observability.log_format import iso_time
from glassgate.core.principal import token_fingerprint
from glassgate.core.request import address_text

__all__ = ["CURRENT", "Exchange", "access_line"]

_MAX_TEXT = 256
# JSON strings as ``json`` writes them by default (non-ASCII escaped: no log injection):
# the C encoder for one string, without building a dict or an encoder per line.
_STR = json.encoder.encode_basestring_ascii


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


def _text(value: str | None) -> str:
    """A bounded JSON string, or null."""
    if value is None:
        return "null"
    return _STR(value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "…")


def _hash_prefix(result: GateResult) -> str | None:
    if result.principal is not None and result.principal.token_hash:
        return result.principal.token_hash[:16]
    token = result.facts.token
    if token is not None:  # a refused credential: its hash still correlates attempts
        return token_fingerprint(token)[:16]
    return None


def _decided(result: GateResult) -> tuple[str, str, str]:
    """The decided fields: (method .. outcome, reasons .. jti, what follows latency_ms)."""
    request, decision, principal = result.facts.request, result.decision, result.principal
    reasons = ",".join(f'"{reason}"' for reason in decision.reasons)  # kebab-case constants
    route = "null" if decision.route_id is None else _STR(decision.route_id)
    if principal is None:
        who = '"subject":null'
        jti = "null"
    else:
        who = f'"subject":{_text(principal.subject)}'
        jti = _text(principal.token_id)
    middle = (
        f'"method":{_STR(request.method)},"path":{_text(request.path)},"route":{route},'
        f'"outcome":"{decision.outcome}"'
    )
    tail = (
        f'"reasons":[{reasons}],{who},"client_ip":"{address_text(request.client_ip)}",'
        f'"token_hash":{_text(_hash_prefix(result))},"jti":{jti}'
    )
    after = ""
    if result.token_detail is not None:
        after += f',"token_detail":{_STR(result.token_detail)}'
    if decision.would_be is not None:
        after += f',"would_be":"{decision.would_be.outcome}"'
    return middle, tail, after


def access_line(
    exchange: Exchange, method: str, raw_path: bytes, peer: str | None, seconds: float
) -> str:
    """The JSON line for one finished request (``method``/``raw_path``/``peer`` from ASGI).

    Written piece by piece in a fixed field order (the same line ``json``
    would write for the dict of these fields): no dict and no encoder per
    request, and the client's address text is memoised.
    """
    head = f'{{"time":"{iso_time(now())}","request_id":"{_request_id()}",'
    latency = f'"latency_ms":{round(seconds * 1000.0, 3)!r}'
    status = f'"status":{int(exchange.status)}'
    result = exchange.result
    if result is None:
        return (
            f'{head}"method":{_STR(method[:32])},"path":null,"route":null,"outcome":null,'
            f'{status},"reasons":[],"subject":null,"client_ip":{_text(peer)},'
            f'"token_hash":null,"jti":null,{latency},'
            f'"raw_path":{_text(raw_path.decode("latin-1"))}}}'
        )
    middle, tail, after = _decided(result)
    return f"{head}{middle},{status},{tail},{latency}{after}}}"
