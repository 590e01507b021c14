"""API keys never leak upstream, identity stays within a key's scope, an outage is 503 (issue 11 F, 7).

The real gateway (``serve_gateway``: the composition root on a real uvicorn)
with a real key store, in front of the recording upstream. The policy ends with
an anonymous catch-all, the place where a refused key used to slip through:

- a ``gg_`` credential is a credential for the gateway alone, so no
  ``Authorization: Bearer gg_...`` ever reaches an upstream, whatever became of
  the key (accepted, revoked, unknown, malformed, its tier gone, keys
  disabled, the store down);
- a key scoped to some routes is asserted to the upstream (``X-Glassgate-*``,
  the signed identity JWT) only on those routes, never on an anonymous route
  outside its scope;
- when the key store cannot answer, a protected route answers 503 with
  ``Retry-After`` (never 401: the key may be fine), while an anonymous route
  still serves, anonymously.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import uvloop
from psycopg import sql

from glassgate.adapters.storage.api_keys import open_api_key_store
from glassgate.adapters.storage.target import StorageTarget
from glassgate.tokens.api_keys import issue_api_key
from tests.support.echo_upstream import EchoUpstream, Seen
from tests.support.hostile_upstream import Reply, fetch
from tests.support.postgres import ThrowawayPostgres
from tests.support.proxy_harness import ask_gateway, gateway_config, raw_request, serve_gateway

NOW = 1_790_000_000.0
REST = """
storage: {storage}
api_keys: {{ enabled: {enabled}, cache_ttl: 0s, negative_cache_ttl: 0s }}
routes:
  - id: deploy
    match: {{ path: /deploy/* }}
    upstream: app
    allow: {{ groups: [robots] }}
  - id: open
    match: {{ path: /* }}
    upstream: app
    anonymous: true
"""
IDENTITY = (
    "x-glassgate-subject",
    "x-glassgate-issuer",
    "x-glassgate-groups",
    "x-glassgate-identity",
)


class Keys:
    """Keys in a real store, made the way ``glassgate apikey create`` makes them."""

    def __init__(self, target: StorageTarget) -> None:
        self.target = target
        self.store = open_api_key_store(target)

    def make(self, **fields: object) -> str:
        values: dict[str, object] = {
            "name": "bot", "subject": "svc:deployer", "now": NOW, "groups": ("robots",),
            "routes": ("deploy",),
        }  # fmt: skip
        values.update(fields)
        issued = issue_api_key(**values)  # type: ignore[arg-type]
        self.store.add(issued.record)
        return issued.key.reveal()

    def revoke(self, key: str) -> None:
        self.store.revoke(key.split("_")[1], NOW + 1, "test")


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[Keys]:
    made = Keys(StorageTarget("sqlite", str(tmp_path / "keys.db")))
    yield made
    made.store.close()


def _config(upstream: EchoUpstream, keys: Keys | None) -> str:
    if keys is None:
        return gateway_config(upstream.url, REST.format(storage="{}", enabled="false"))
    backend, location = keys.target.backend, keys.target.location
    field = "path" if backend == "sqlite" else "dsn"
    storage = f'{{backend: {backend}, {backend}: {{{field}: "{location}"}}}}'
    return gateway_config(upstream.url, REST.format(storage=storage, enabled="true"))


def _get(path: str, authorization: str) -> bytes:
    return raw_request("GET", path, f"authorization: {authorization}")


def _ask(upstream: EchoUpstream, config: str, *requests: bytes) -> list[Reply]:
    upstream.clear()
    return ask_gateway(config, *requests)


def _leaked(seen: Seen) -> list[str]:
    return [value for name, value in seen.headers if "gg_" in value.lower()]


def _identity(seen: Seen) -> dict[str, str]:
    return {name.lower(): value for name, value in seen.headers if name.lower() in IDENTITY}


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Bearer gg_abcdefghijkl_" + "A" * 43, id="case=well-formed"),
        pytest.param("bearer GG_abcdefghijkl_" + "A" * 43, id="case=upper-case-prefix"),
        pytest.param("Bearer  gg_short", id="case=malformed"),
        pytest.param("Bearer gg_with space", id="case=not-a-bearer-token"),
    ],
)
def test_keys_disabled_the_key_is_still_never_forwarded(
    upstream: EchoUpstream, authorization: str
) -> None:
    [reply] = _ask(upstream, _config(upstream, None), _get("/anything", authorization))
    assert reply.status == 200  # the anonymous route
    [seen] = upstream.requests
    assert seen.header("authorization") is None
    assert _leaked(seen) == []


def test_refused_keys_never_reach_the_upstream(upstream: EchoUpstream, keys: Keys) -> None:
    revoked = keys.make()
    keys.revoke(revoked)
    tier_gone = keys.make(quota_tier="retired")
    unknown = "gg_abcdefghijkl_" + "B" * 43
    requests = [_get("/anything", f"Bearer {key}") for key in (revoked, tier_gone, unknown)]
    replies = _ask(upstream, _config(upstream, keys), *requests)
    assert [reply.status for reply in replies] == [200, 200, 200]
    assert len(upstream.requests) == 3
    for seen in upstream.requests:
        assert seen.header("authorization") is None
        assert _leaked(seen) == []
        assert _identity(seen) == {}


def test_a_key_is_asserted_upstream_only_within_its_scope(
    upstream: EchoUpstream, keys: Keys
) -> None:
    key = keys.make()  # scoped to the deploy route
    replies = _ask(
        upstream,
        _config(upstream, keys),
        _get("/deploy/now", f"Bearer {key}"),
        _get("/anything", f"Bearer {key}"),
    )
    assert [reply.status for reply in replies] == [200, 200]
    in_scope, outside = upstream.requests
    assert _identity(in_scope)["x-glassgate-subject"] == "svc:deployer"
    assert "x-glassgate-identity" in _identity(in_scope)
    assert _identity(outside) == {}  # the anonymous route is outside the key's scope
    for seen in (in_scope, outside):
        assert seen.header("authorization") is None


def test_an_idp_token_is_still_passed_and_asserted_on_an_anonymous_route(
    upstream: EchoUpstream, keys: Keys
) -> None:
    [reply] = _ask(upstream, _config(upstream, keys), _get("/anything", "Bearer tok-Staff"))
    assert reply.status == 200
    [seen] = upstream.requests
    assert seen.header("authorization") == "Bearer tok-Staff"
    assert _identity(seen)["x-glassgate-subject"] == "user-Staff"


# --- the key store cannot answer (issue 11 item 7) --------------------------------------------


def _connections(server: ThrowawayPostgres, dsn: str, allowed: bool) -> None:
    """Take the database away from every client (or give it back), as an outage would."""
    name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(str(name)), sql.SQL("true" if allowed else "false")
            )
        )
        if not allowed:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )


def test_a_key_store_outage_is_503_never_401(
    upstream: EchoUpstream, postgres_server: ThrowawayPostgres, glassgate_postgres_dsn: str
) -> None:
    keys = Keys(StorageTarget("postgres", glassgate_postgres_dsn))
    key = keys.make()
    keys.store.close()
    config = _config(upstream, keys)

    async def go() -> list[Reply]:
        async with serve_gateway(config) as gw:
            before = await fetch(gw.port, _get("/deploy/x", f"Bearer {key}"))
            _connections(postgres_server, glassgate_postgres_dsn, allowed=False)
            try:
                during = [
                    await fetch(gw.port, _get("/deploy/x", f"Bearer {key}")),
                    await fetch(gw.port, _get("/anything", f"Bearer {key}")),
                ]
            finally:
                _connections(postgres_server, glassgate_postgres_dsn, allowed=True)
            after = await fetch(gw.port, _get("/deploy/x", f"Bearer {key}"))
            return [before, *during, after]

    upstream.clear()
    before, protected, anonymous, after = uvloop.run(go())
    assert before.status == 200
    assert protected.status == 503
    assert protected.header(b"retry-after") is not None
    assert protected.header(b"www-authenticate") is None  # nothing says the key is bad
    assert anonymous.status == 200  # served anonymously, the key dropped
    assert after.status == 200
    assert [s.target for s in upstream.requests] == ["/deploy/x", "/anything", "/deploy/x"]
    anonymous_seen = upstream.requests[1]
    assert anonymous_seen.header("authorization") is None
    assert _identity(anonymous_seen) == {}
