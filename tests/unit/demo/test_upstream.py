"""demo.upstream: the sample API shows what arrived, without repeating credentials."""

from __future__ import annotations

import json
import logging

import pytest

from glassgate.demo._http import Request
from glassgate.demo.upstream import SampleUpstream


def test_echoes_identity_headers_apart_from_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    request = Request(
        "POST",
        "/api/public/hello?x=1",
        (
            ("X-Glassgate-Subject", "alice"),
            ("x-glassgate-groups", "Analysts"),
            ("Authorization", "Bearer secret.token.value"),
            ("Cookie", "session=abc"),
            ("X-Forwarded-For", "127.0.0.1"),
        ),
        b"12345",
    )
    with caplog.at_level(logging.INFO, logger="glassgate.demo.upstream"):
        response = SampleUpstream().handle(request)
    assert response.status == 200
    document = json.loads(response.body)
    assert document["method"] == "POST"
    assert document["target"] == "/api/public/hello?x=1"
    assert document["identity_headers"] == {
        "x-glassgate-subject": "alice",
        "x-glassgate-groups": "Analysts",
    }
    assert document["other_headers"]["x-forwarded-for"] == "127.0.0.1"
    assert document["other_headers"]["authorization"] == "(present, not echoed)"
    assert document["other_headers"]["cookie"] == "(present, not echoed)"
    assert document["body_bytes"] == 5
    assert b"secret.token.value" not in response.body
    assert b"session=abc" not in response.body
    assert [r.getMessage() for r in caplog.records] == [
        "[demo upstream] POST /api/public/hello reached the upstream as alice"
    ]


def test_a_request_without_identity_shows_an_empty_identity() -> None:
    document = json.loads(SampleUpstream().handle(Request("GET", "/", (), b"")).body)
    assert document["identity_headers"] == {}
