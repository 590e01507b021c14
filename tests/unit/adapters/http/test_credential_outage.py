"""A credential that cannot be checked now is 503 with Retry-After, never 401 or 500 (issue 11 I, 7).

The real gateway on a real uvicorn; its IdP authenticator answers
``IdPUnavailableError`` for the token ``idp-down`` (an introspection endpoint
answering 5xx, or no free slot to ask it in).
"""

from __future__ import annotations

import json

from tests.support.echo_upstream import EchoUpstream
from tests.support.hostile_upstream import Reply
from tests.support.proxy_harness import ask_gateway, gateway_config, raw_request

REST = """
forward_auth: { enabled: true, allowed_peers: [127.0.0.1/32] }
trusted_proxies: [127.0.0.1/32]
routes:
  - id: team
    match: { path: /team/* }
    upstream: app
    allow: { groups: [Red] }
  - id: open
    match: { path: /* }
    upstream: app
    anonymous: true
"""


def _ask(upstream: EchoUpstream, raw: bytes) -> Reply:
    upstream.clear()
    [reply] = ask_gateway(gateway_config(upstream.url, REST), raw)
    return reply


def _get(path: str, *headers: str) -> bytes:
    return raw_request("GET", path, *headers)


def test_a_protected_route_waits_for_the_idp_with_503(upstream: EchoUpstream) -> None:
    reply = _ask(upstream, _get("/team/x", "authorization: Bearer idp-down"))
    assert reply.status == 503
    assert reply.header(b"retry-after") == b"5"
    assert reply.header(b"www-authenticate") is None
    assert json.loads(reply.body)["reason"] == "credential-check-unavailable"
    assert upstream.requests == []


def test_an_anonymous_route_serves_without_an_identity(upstream: EchoUpstream) -> None:
    reply = _ask(upstream, _get("/elsewhere", "authorization: Bearer idp-down"))
    assert reply.status == 200
    [seen] = upstream.requests
    assert seen.header("x-glassgate-subject") is None
    assert seen.header("authorization") == "Bearer idp-down"  # an IdP token: the app's business


def test_the_forward_auth_door_answers_503_too(upstream: EchoUpstream) -> None:
    reply = _ask(
        upstream,
        _get(
            "/_glassgate/auth",
            "x-original-uri: /team/x",
            "x-original-method: GET",
            "x-forwarded-for: 192.0.2.1",
            "authorization: Bearer idp-down",
        ),
    )
    assert reply.status == 503
    assert reply.header(b"retry-after") == b"5"
