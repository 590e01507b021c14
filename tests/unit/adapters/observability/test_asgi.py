"""adapters.observability.asgi: /metrics allow-list, timing, and one access line per request."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from glassgate.adapters.observability import Observability
from glassgate.adapters.observability.log_format import ACCESS_LOGGER
from glassgate.config.schema import ObservabilityConfig
from glassgate.core.decision import Outcome
from glassgate.core.reasons import Reason
from tests.unit.adapters.observability._fakes import TOKEN, FakeHolder, result

Message = dict[str, Any]


def _scope(
    path: str = "/staff/x",
    method: str = "GET",
    client: str = "127.0.0.1",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "headers": headers or [],
        "client": (client, 5555),
    }


def _call(app: Any, scope: dict[str, Any]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def _observed(
    holder: FakeHolder, decide: Any = None, status: int = 200
) -> tuple[Observability, Any]:
    observability = Observability(holder)

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if decide is not None:
            observability.record(decide)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return observability, observability.wrap(inner)


@pytest.mark.parametrize(
    ("client", "allowed"),
    [
        pytest.param("127.0.0.1", True, id="case=loopback"),
        pytest.param("127.9.9.9", True, id="case=loopback-range"),
        pytest.param("::1", True, id="case=ipv6-loopback"),
        pytest.param("::ffff:127.0.0.1", True, id="case=ipv4-mapped-loopback"),
        pytest.param("192.0.2.10", False, id="case=outside"),
        pytest.param("::ffff:192.0.2.10", False, id="case=ipv4-mapped-outside"),
        pytest.param("not-an-ip", False, id="case=unparseable-peer"),
    ],
)
def test_metrics_only_for_the_allow_list(client: str, allowed: bool) -> None:
    _, app = _observed(FakeHolder())
    sent = _call(app, _scope("/metrics", client=client))
    assert sent[0]["status"] == (200 if allowed else 404)
    assert (b"glassgate_decisions" in sent[1]["body"]) is allowed


@pytest.mark.parametrize(
    "header", [b"x-forwarded-for", b"forwarded", b"x-real-ip", b"x-forwarded-host"]
)
def test_a_relayed_scrape_is_refused(header: bytes) -> None:
    _, app = _observed(FakeHolder())
    sent = _call(app, _scope("/metrics", headers=[(header, b"203.0.113.1")]))
    assert sent[0]["status"] == 404


def test_head_has_no_body_and_post_is_404() -> None:
    _, app = _observed(FakeHolder())
    head = _call(app, _scope("/metrics", method="HEAD"))
    assert (head[0]["status"], head[1]["body"]) == (200, b"")
    assert _call(app, _scope("/metrics", method="POST"))[0]["status"] == 404


def test_metrics_path_and_switch_follow_the_config() -> None:
    holder = FakeHolder(ObservabilityConfig(metrics_path="/_glassgate/metrics"))
    _, app = _observed(holder)
    assert _call(app, _scope("/_glassgate/metrics"))[1]["body"].startswith(b"#")
    assert _call(app, _scope("/metrics"))[1]["body"] == b"ok"  # now an ordinary request
    holder.config = ObservabilityConfig(metrics=False)  # a reload turns it off
    assert _call(app, _scope("/_glassgate/metrics"))[1]["body"] == b"ok"


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]


def test_one_access_line_with_the_decision(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    _, app = _observed(FakeHolder(), result())
    _call(app, _scope(headers=[(b"authorization", f"Bearer {TOKEN}".encode())]))
    (line,) = _lines(caplog)
    assert line["route"] == "staff"
    assert line["outcome"] == "allow"
    assert line["status"] == 200
    assert line["reasons"] == ["route-ok", "groups-ok"]
    assert line["subject"] == "alice"
    assert line["client_ip"] == "192.0.2.7"  # the decided client, not the TCP peer
    assert line["token_hash"] == "ab" * 8
    assert line["jti"] == "jti-1"
    assert TOKEN not in caplog.text
    assert "q=1" not in caplog.text  # never the query string


def test_internal_endpoints_are_neither_logged_nor_timed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    _, app = _observed(FakeHolder())
    _call(app, _scope("/healthz"))
    _call(app, _scope("/.well-known/jwks.json"))
    assert _lines(caplog) == []
    assert b'route="none"' not in _call(app, _scope("/metrics"))[1]["body"]


def test_a_request_rejected_before_deciding(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    _, app = _observed(FakeHolder(), None, status=431)
    _call(app, _scope("/x" + "a" * 1000, client="198.51.100.4"))
    (line,) = _lines(caplog)
    assert (line["status"], line["route"], line["outcome"]) == (431, None, None)
    assert line["client_ip"] == "198.51.100.4"
    assert len(line["raw_path"]) <= 257
    metrics = _call(app, _scope("/metrics"))[1]["body"]
    assert b'glassgate_requests_rejected_total{status="431"} 1.0' in metrics


def test_access_log_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    _, app = _observed(FakeHolder(ObservabilityConfig(access_log=False)), result())
    _call(app, _scope())
    assert _lines(caplog) == []


def test_sampling_thins_out_allowed_lines_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    holder = FakeHolder(ObservabilityConfig(decision_log_sample=0.0))
    _, allowed = _observed(holder, result())
    _, denied = _observed(holder, result(Outcome.DENY, (Reason.GROUPS_DENIED,)), status=403)
    _call(allowed, _scope())
    _call(denied, _scope())
    assert [line["outcome"] for line in _lines(caplog)] == ["deny"]


def test_an_exception_inside_is_timed_logged_as_500_and_re_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    observability = Observability(FakeHolder())

    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        _call(observability.wrap(broken), _scope())
    (line,) = _lines(caplog)
    assert line["status"] == 500


def test_lifespan_passes_through() -> None:
    seen: list[str] = []

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    app = Observability(FakeHolder(started=False)).wrap(inner)
    asyncio.run(app({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == ["lifespan"]
