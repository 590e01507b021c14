"""The access line written piece by piece is the line ``json`` wrote from a dict, and the
direct path into the log handler writes what ``logger.info`` wrote (issue 10 direction 4)."""

from __future__ import annotations

import io
import json
import logging
import random
from collections.abc import Iterator
from dataclasses import replace
from ipaddress import ip_address
from typing import Any

import pytest

from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.http.inbound import RequestFacts
from glassgate.adapters.observability import access_log, log_format
from glassgate.adapters.observability.access_log import Exchange, access_line
from glassgate.adapters.observability.log_format import (
    ACCESS_LOGGER,
    configure_logging,
    emit_access_line,
    iso_time,
)
from glassgate.core.decision import Decision, Outcome
from glassgate.core.principal import Principal, token_fingerprint
from glassgate.core.reasons import Reason
from glassgate.core.request import AccessRequest

T0 = 1_800_000_000.123456


def _reference(
    exchange: Exchange, method: str, raw_path: bytes, peer: str | None, seconds: float
) -> str:
    """The line as it was built before: a dict, then ``json`` (the contract)."""

    def bounded(value: str | None) -> str | None:
        return value if value is None or len(value) <= 256 else value[:256] + "…"

    line: dict[str, Any] = {
        "time": iso_time(T0),
        "request_id": "0123456789abcdef",
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
    result = exchange.result
    if result is None:
        line["raw_path"] = bounded(raw_path.decode("latin-1"))
    else:
        request, decision, principal = result.facts.request, result.decision, result.principal
        line["method"] = request.method
        line["path"] = bounded(request.path)
        line["route"] = decision.route_id
        line["outcome"] = decision.outcome
        line["reasons"] = decision.reasons
        line["client_ip"] = str(request.client_ip)
        line["subject"] = bounded(principal.subject) if principal is not None else None
        if principal is not None and principal.token_hash:
            line["token_hash"] = principal.token_hash[:16]
        elif result.facts.token is not None:
            line["token_hash"] = token_fingerprint(result.facts.token)[:16]
        line["jti"] = bounded(principal.token_id) if principal is not None else None
        if result.token_detail is not None:
            line["token_detail"] = result.token_detail
        if decision.would_be is not None:
            line["would_be"] = decision.would_be.outcome
    return json.JSONEncoder(separators=(",", ":")).encode(line)


REQUEST = AccessRequest("GET", "/reports/q3", ip_address("2001:db8::7"), "api.example")
FACTS = RequestFacts(REQUEST, "/reports/q3", b"", "tok", False, False, None)
ALICE = Principal("alice@example.com", "https://idp", token_id="AT.1", token_hash="ab" * 32)
ALLOW = Decision(Outcome.ALLOW, "reports", (Reason.ROUTE_OK, Reason.GROUPS_OK))
CASES = {
    "allowed": GateResult(ALLOW, FACTS, ALICE, None, T0),
    "refused-token": GateResult(
        Decision(Outcome.UNAUTHENTICATED, None, (Reason.TOKEN_INVALID,)),
        FACTS,
        None,
        None,
        T0,
        token_detail="token-expired",
    ),
    "report-only": GateResult(
        replace(ALLOW, would_be=Decision(Outcome.DENY, "reports", (Reason.GROUPS_DENIED,))),
        FACTS,
        ALICE,
        None,
        T0,
    ),
    "hostile-text": GateResult(
        ALLOW,
        replace(FACTS, request=replace(REQUEST, path='/ü/"x"\n\x00/' + "p" * 300)),
        replace(ALICE, subject='bob"\\\u2028' + "s" * 300, token_id=None),
        None,
        T0,
    ),
    "undecided": None,
}


@pytest.fixture(autouse=True)
def _fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access_log, "now", lambda: T0)
    monkeypatch.setattr(access_log, "_request_id", lambda: "0123456789abcdef")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seconds", [0.0, 0.0012345, 2.5])
def test_the_line_is_the_json_of_its_fields(case: str, seconds: float) -> None:
    exchange = Exchange(0.0, CASES[case], 403)
    args = (exchange, "GET", b'/raw/\xff"path', "192.0.2.1", seconds)
    assert access_line(*args) == _reference(*args)
    json.loads(access_line(*args))


@pytest.fixture
def configured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    configure_logging("WARNING")
    handler = log_format._HANDLER[0]
    assert handler is not None
    handler.setStream(stream)
    yield stream
    for added in list(root.handlers):
        root.removeHandler(added)
    for old in saved[0]:
        root.addHandler(old)
    root.setLevel(saved[1])
    log_format._HANDLER[0] = None


def test_access_lines_go_straight_into_the_batch(configured: io.StringIO) -> None:
    handler = log_format._HANDLER[0]
    assert handler is not None
    emit_access_line('{"a":1}')
    logging.getLogger(ACCESS_LOGGER).info('{"b":2}', extra={"json_line": True})
    handler.flush()
    assert configured.getvalue() == '{"a":1}\n{"b":2}\n'


def test_a_capturing_handler_still_sees_every_line(
    configured: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    emit_access_line('{"c":3}')
    assert [r.getMessage() for r in caplog.records if r.name == ACCESS_LOGGER] == ['{"c":3}']


def test_no_line_when_the_access_logger_is_off(configured: io.StringIO) -> None:
    access = logging.getLogger(ACCESS_LOGGER)
    access.setLevel(logging.WARNING)
    try:
        emit_access_line('{"d":4}')
        handler = log_format._HANDLER[0]
        assert handler is not None
        handler.flush()
    finally:
        access.setLevel(logging.INFO)
    assert configured.getvalue() == ""


def test_iso_time_is_datetimes_text() -> None:
    from datetime import UTC, datetime

    rng = random.Random(7)
    for _ in range(2000):
        moment = rng.uniform(0, 4_102_444_800)
        expected = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
        assert iso_time(moment) == expected.removesuffix("+00:00") + "Z"
