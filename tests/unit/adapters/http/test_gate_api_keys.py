"""API keys through the gate: route scope, issuer limits, and which quota tier and bucket apply.

The rules under test (``core.quota.tier_for`` and ``bucket_key``, as the gate applies them):

- a key's own tier replaces the route's tier, also on routes without one;
- anonymous routes are never metered;
- an ``api_key`` tier counts per key id; a ``principal`` tier per issuer and
  subject (so two keys of one subject share it); a JWT on an ``api_key`` tier
  is counted per principal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from glassgate.adapters.http.gate import Gate, GateResult
from glassgate.adapters.http.identity_out import forwardable
from glassgate.adapters.http.inbound import Inbound, read_request
from glassgate.adapters.idp.api_keys import ApiKeyAuthenticator
from glassgate.adapters.idp.credentials import CredentialRouter
from glassgate.adapters.storage.api_keys.memory import MemoryApiKeyStore
from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.config.load import load_config_text
from glassgate.core.decision import Outcome
from glassgate.core.principal import Principal
from glassgate.core.reasons import Reason
from glassgate.tokens.api_keys import issue_api_key

NOW = 1_790_000_000.0

CONFIG = """
issuers:
  - id: idp
    issuer: https://idp.example
    audiences: [api]
    jwks_uri: https://idp.example/jwks
upstreams: [{id: app, targets: ["http://127.0.0.1:9"]}]
quotas:
  route-tier: {rate: 1, per: 60s, burst: 5}
  key-tier: {rate: 1, per: 60s, burst: 2, key: api_key}
routes:
  - {id: metered, match: {path: /metered/*}, upstream: app, allow: {groups: [robots]},
     quota: route-tier}
  - {id: per-key, match: {path: /per-key/*}, upstream: app, allow: {groups: [robots]},
     quota: key-tier}
  - {id: free, match: {path: /free/*}, upstream: app, allow: {groups: [robots]}}
  - {id: open, match: {path: /open/*}, upstream: app, anonymous: true}
  - {id: idp-only, match: {path: /idp-only/*}, upstream: app, issuers: [idp],
     allow: {groups: [robots]}}
"""


class FakeIdp:
    async def authenticate(self, raw: str, now: float) -> Principal:
        return Principal(subject=raw, issuer="https://idp.example", groups=frozenset({"robots"}))


class World:
    def __init__(self) -> None:
        compiled = load_config_text(CONFIG, "gate.yaml", {}).compiled
        self.store = MemoryApiKeyStore()
        self.keys = ApiKeyAuthenticator(lambda: self.store, tiers=frozenset(compiled.quota_tiers))
        self.gate = Gate(
            compiled.policy,
            CredentialRouter(FakeIdp(), self.keys),
            MemoryQuotaStore(),
            dict(compiled.quota_tiers),
            lambda: NOW,
        )
        self.inbound = Inbound(trusted_proxies=(), max_header_bytes=32768, max_token_bytes=16384)
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.keys.start())

    def key(self, subject: str = "svc:ci", **changes: object) -> str:
        fields: dict[str, object] = {
            "name": "bot",
            "subject": subject,
            "now": NOW - 10,
            "groups": ("robots",),
            "routes": None,
        }
        fields.update(changes)
        issued = issue_api_key(**fields)  # type: ignore[arg-type]
        self.store.add(issued.record)
        return issued.key.reveal()

    def check(self, path: str, token: str | None) -> GateResult:
        headers = [(b"host", b"api.example")]
        if token is not None:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        facts = read_request(self.inbound, "GET", path.encode(), b"", headers, "192.0.2.7")
        return self.loop.run_until_complete(self.gate.check(facts))

    def outcomes(self, path: str, token: str, times: int) -> list[Outcome]:
        return [self.check(path, token).decision.outcome for _ in range(times)]

    def close(self) -> None:
        self.loop.run_until_complete(self.keys.aclose())
        self.loop.close()


@pytest.fixture
def world() -> Iterator[World]:
    made = World()
    yield made
    made.close()


ALLOW, LIMITED = Outcome.ALLOW, Outcome.RATE_LIMITED


def test_a_key_reaches_an_allowed_route_as_its_machine_identity(world: World) -> None:
    result = world.check("/free/x", world.key(groups=("robots", "deployers")))
    assert result.decision.outcome is ALLOW
    assert result.principal is not None
    assert result.principal.subject == "svc:ci"
    assert result.principal.groups == frozenset({"robots", "deployers"})


def test_a_key_outside_its_scope_is_denied(world: World) -> None:
    key = world.key(routes=("free",))
    assert world.check("/free/x", key).decision.outcome is ALLOW
    denied = world.check("/metered/x", key).decision
    assert denied.outcome is Outcome.DENY
    assert denied.reasons == (Reason.ROUTE_SCOPE_DENIED,)


def test_a_route_limited_to_idp_issuers_refuses_keys(world: World) -> None:
    denied = world.check("/idp-only/x", world.key()).decision
    assert (denied.outcome, denied.reasons) == (Outcome.DENY, (Reason.ISSUER_DENIED,))
    assert world.check("/idp-only/x", "alice").decision.outcome is ALLOW


def test_bad_keys_are_unauthenticated_with_an_exact_detail(world: World) -> None:
    key = world.key(groups=("robots",))
    forged = key[:16] + ("A" if key[16] != "A" else "B") + key[17:]
    for token, detail in (
        ("gg_nope", "api-key-malformed"),
        (forged, "api-key-secret-denied"),
        ("gg_abcdefgh2345_" + "A" * 43, "api-key-unknown"),
    ):
        result = world.check("/free/x", token)
        assert result.decision.outcome is Outcome.UNAUTHENTICATED
        assert result.decision.reasons == (Reason.TOKEN_INVALID,)
        assert result.token_detail == detail


def test_the_keys_tier_replaces_the_routes_tier(world: World) -> None:
    key = world.key(quota_tier="key-tier")
    assert world.outcomes("/metered/x", key, 3) == [ALLOW, ALLOW, LIMITED]
    result = world.check("/metered/x", key)
    assert result.decision.quota_tier == "key-tier"
    assert result.quota is not None
    assert result.quota[0].name == "key-tier"


def test_the_keys_tier_applies_on_routes_without_one(world: World) -> None:
    key = world.key(quota_tier="key-tier")
    assert world.outcomes("/free/x", key, 3) == [ALLOW, ALLOW, LIMITED]


def test_a_key_without_a_tier_takes_the_routes_tier(world: World) -> None:
    key = world.key()
    assert world.outcomes("/metered/x", key, 6) == [ALLOW] * 5 + [LIMITED]
    assert world.outcomes("/free/x", key, 10) == [ALLOW] * 10


def test_anonymous_routes_are_never_metered(world: World) -> None:
    key = world.key(quota_tier="key-tier")
    assert world.outcomes("/open/x", key, 5) == [ALLOW] * 5


def test_an_api_key_tier_counts_each_key_apart(world: World) -> None:
    first = world.key(subject="svc:shared")
    second = world.key(subject="svc:shared")
    assert world.outcomes("/per-key/x", first, 3) == [ALLOW, ALLOW, LIMITED]
    assert world.outcomes("/per-key/x", second, 3) == [ALLOW, ALLOW, LIMITED]


def test_a_principal_tier_counts_one_subjects_keys_together(world: World) -> None:
    first = world.key(subject="svc:shared")
    second = world.key(subject="svc:shared")
    assert world.outcomes("/metered/x", first, 3) == [ALLOW] * 3
    assert world.outcomes("/metered/x", second, 3) == [ALLOW, ALLOW, LIMITED]


def test_a_jwt_on_an_api_key_tier_is_counted_per_principal(world: World) -> None:
    assert world.outcomes("/per-key/x", "alice", 3) == [ALLOW, ALLOW, LIMITED]
    assert world.outcomes("/per-key/x", "bob", 1) == [ALLOW]


def test_an_api_keys_authorization_never_reaches_the_upstream(world: World) -> None:
    key = world.key()
    for value in (
        f"Bearer {key}", f"Bearer {key.upper()}", "Bearer gg_not-even-a-key", f"Bearer  {key}",
        f"Bearer\t{key}", key, f"bearer {key} trailing",
    ):  # fmt: skip
        headers = [(b"authorization", value.encode()), (b"accept", b"*/*")]
        assert forwardable(headers) == [(b"accept", b"*/*")], value  # accepted, refused, malformed
    jwt = [(b"authorization", b"Bearer alice"), (b"accept", b"*/*")]
    assert forwardable(jwt) == jwt  # an IdP token is passed on
    basic = [(b"authorization", b"Basic Z2dfOng=")]
    assert forwardable(basic) == basic  # not a bearer credential: not ours
