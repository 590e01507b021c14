"""Requests shaped to miss a protected route and land on a later, weaker one (issue 11 B, C, D).

A real uvicorn runs the real ``GatewayApp`` in front of a recording upstream.
The policy protects ``/admin/*``, the host ``admin.example.com`` and
``GET /docs/*``, then ends with an anonymous catch-all: any request that slips
past the protected route reaches the upstream with a 200, so "never seen by the
upstream" is the property checked, whatever the status.

- B: a path parameter (``;``) in any segment, raw or percent-encoded, which
  Tomcat, Jetty and Spring drop before routing (``/admin;x/users`` is
  ``/admin/users`` to them).
- C: the trailing-dot form of a host name (``admin.example.com.``), which is
  the same host to DNS, Caddy and Traefik.
- D: ``HEAD`` on a ``GET`` route: frameworks answer it with the GET handler.
"""

from __future__ import annotations

import pytest

from tests.support.echo_upstream import EchoUpstream
from tests.support.hostile_upstream import Reply
from tests.support.proxy_harness import ask_gateway, gateway_config, raw_request

ROUTES = """
routes:
  - id: admin
    match: { path: /admin/* }
    upstream: app
    allow: { groups: [Admins] }
  - id: tenant
    match: { path: /*, hosts: [admin.example.com, "*.corp.example"] }
    upstream: app
    allow: { groups: [Admins] }
  - id: docs
    match: { path: /docs/*, methods: [GET] }
    upstream: app
    allow: { groups: [Readers] }
  - id: open
    match: { path: /* }
    upstream: app
    anonymous: true
"""


def _ask(upstream: EchoUpstream, raw: bytes) -> Reply:
    upstream.clear()
    [reply] = ask_gateway(gateway_config(upstream.url, ROUTES), raw)
    return reply


def _request(target: str, host: str = "gw.test", method: str = "GET") -> bytes:
    return raw_request(method, target, "authorization: Bearer tok-Guests", host=host)


def test_the_catch_all_really_forwards(upstream: EchoUpstream) -> None:
    # The control: without a trick, an unprotected path reaches the upstream.
    reply = _ask(upstream, _request("/elsewhere"))
    assert reply.status == 200
    assert [seen.target for seen in upstream.requests] == ["/elsewhere"]


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("/admin;x/users", id="case=raw-in-first-segment"),
        pytest.param("/admin;/users", id="case=raw-empty-parameter"),
        pytest.param("/admin;jsessionid=1/users", id="case=raw-session-parameter"),
        pytest.param("/admin%3Bx/users", id="case=encoded-upper"),
        pytest.param("/admin%3bx/users", id="case=encoded-lower"),
        pytest.param("/admin;x", id="case=raw-in-last-segment"),
        pytest.param("/admin%3B", id="case=encoded-in-last-segment"),
        pytest.param("/admin/users;x", id="case=raw-after-protected-prefix"),
        pytest.param("/x/..;/admin/users", id="case=dotdot-parameter"),
        pytest.param("/admin;x/users?q=1", id="case=with-query"),
    ],
)
def test_path_parameters_never_slip_past_a_route(upstream: EchoUpstream, target: str) -> None:
    reply = _ask(upstream, _request(target))
    assert reply.status == 400
    assert upstream.requests == []


def test_a_semicolon_in_the_query_is_fine(upstream: EchoUpstream) -> None:
    reply = _ask(upstream, _request("/elsewhere?a=1;b=2"))
    assert reply.status == 200
    assert [seen.target for seen in upstream.requests] == ["/elsewhere?a=1;b=2"]


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("admin.example.com.", id="case=trailing-dot"),
        pytest.param("admin.example.com.:8443", id="case=trailing-dot-with-port"),
        pytest.param("ADMIN.Example.COM.", id="case=trailing-dot-upper-case"),
        pytest.param("api.corp.example.", id="case=wildcard-trailing-dot"),
        pytest.param("api.corp.example.:80", id="case=wildcard-trailing-dot-with-port"),
    ],
)
def test_trailing_dot_host_matches_its_route(upstream: EchoUpstream, host: str) -> None:
    reply = _ask(upstream, _request("/anything", host=host))
    assert reply.status == 403  # the tenant route, not the anonymous catch-all
    assert upstream.requests == []


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("admin.example.com..", id="case=two-trailing-dots"),
        pytest.param(".admin.example.com", id="case=leading-dot"),
        pytest.param("admin..example.com", id="case=empty-label"),
        pytest.param("admin%2eexample.com", id="case=percent-encoded"),
        pytest.param("admin.example.com:x", id="case=non-numeric-port"),
        pytest.param("admin.example.com:443:443", id="case=two-ports"),
        pytest.param("admin example.com", id="case=space"),
    ],
)
def test_malformed_host_is_400(upstream: EchoUpstream, host: str) -> None:
    reply = _ask(upstream, _request("/anything", host=host))
    assert reply.status == 400
    assert upstream.requests == []


def test_head_is_covered_by_a_get_route(upstream: EchoUpstream) -> None:
    reply = _ask(upstream, _request("/docs/secret", method="HEAD"))
    assert reply.status == 403  # the docs route, not the anonymous catch-all
    assert upstream.requests == []


def test_head_is_forwarded_when_the_get_route_allows_it(upstream: EchoUpstream) -> None:
    raw = _request("/docs/page", method="HEAD").replace(b"tok-Guests", b"tok-Readers")
    reply = _ask(upstream, raw)
    assert reply.status == 200
    assert [(seen.method, seen.target) for seen in upstream.requests] == [("HEAD", "/docs/page")]


def test_options_is_its_own_method(upstream: EchoUpstream) -> None:
    # Documented: OPTIONS is not folded into GET; a GET-only route leaves it to later routes,
    # which still need a credential unless they are anonymous (this one is).
    reply = _ask(upstream, _request("/docs/page", method="OPTIONS"))
    assert reply.status == 200
    assert [seen.method for seen in upstream.requests] == ["OPTIONS"]
