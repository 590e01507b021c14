"""RateLimit-Policy and RateLimit on every metered answer, not only on 429 (issue 11 item 9).

draft-ietf-httpapi-ratelimit-headers: a client learns its quota and what is
left of it from every response it gets, so it can slow down before it is
refused. Unmetered routes carry neither header; an upstream's own RateLimit
headers are not ours to keep on a metered route.
"""

from __future__ import annotations

import re

from tests.support.echo_upstream import EchoUpstream
from tests.support.hostile_upstream import Reply
from tests.support.proxy_harness import ask_gateway, gateway_config, raw_request

REST = """
forward_auth: { enabled: true, allowed_peers: [127.0.0.1/32] }
trusted_proxies: [127.0.0.1/32]
quotas:
  small: { rate: 1, per: 60s, burst: 3 }
routes:
  - id: metered
    match: { path: /metered/* }
    upstream: app
    quota: small
  - id: free
    match: { path: /* }
    upstream: app
"""
REMAINING = re.compile(rb'"small";r=(\d+);t=(\d+)')


def _get(path: str, *headers: str) -> bytes:
    return raw_request("GET", path, "authorization: Bearer tok-Red", *headers)


def _ask(upstream: EchoUpstream, *requests: bytes) -> list[Reply]:
    upstream.clear()
    return ask_gateway(gateway_config(upstream.url, REST), *requests)


def _remaining(reply: Reply) -> int:
    match = REMAINING.fullmatch(reply.header(b"ratelimit") or b"")
    assert match is not None, reply.headers
    return int(match.group(1))


def test_every_metered_answer_says_what_is_left(upstream: EchoUpstream) -> None:
    replies = _ask(upstream, *[_get("/metered/x")] * 4)
    assert [reply.status for reply in replies] == [200, 200, 200, 429]
    for reply in replies:
        assert reply.header(b"ratelimit-policy") == b'"small";q=1;w=60'
    assert [_remaining(reply) for reply in replies] == [2, 1, 0, 0]


def test_unmetered_answers_carry_no_quota_headers(upstream: EchoUpstream) -> None:
    [reply] = _ask(upstream, _get("/free/x"))
    assert reply.status == 200
    assert reply.header(b"ratelimit") is None
    assert reply.header(b"ratelimit-policy") is None


def test_the_forward_auth_door_says_it_too(upstream: EchoUpstream) -> None:
    door = _get(
        "/_glassgate/auth",
        "x-original-uri: /metered/x",
        "x-original-method: GET",
        "x-forwarded-for: 192.0.2.1",
    )
    [reply] = _ask(upstream, door)
    assert reply.status == 200
    assert reply.header(b"ratelimit-policy") == b'"small";q=1;w=60'
    assert _remaining(reply) == 2


def test_an_upstreams_own_ratelimit_headers_give_way_on_a_metered_route() -> None:
    from glassgate.adapters.http.outbound import with_rate_limit
    from glassgate.core.quota import QuotaResult, QuotaTier

    tier = QuotaTier("small", rate=1, per=60.0, burst=3)
    upstream_said = [(b"ratelimit", b'"app";r=99;t=1'), (b"content-type", b"text/plain")]
    result = QuotaResult(allowed=True, tat=0.0, retry_after=0.0, remaining=2, reset_after=60.0)
    merged = with_rate_limit(upstream_said, (tier, result))
    assert [name for name, _ in merged].count(b"ratelimit") == 1
    assert (b"ratelimit", b'"small";r=2;t=60') in merged
    assert with_rate_limit(upstream_said, None) == upstream_said
