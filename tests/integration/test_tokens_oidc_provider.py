"""Token verification against a real OIDC provider (npm oidc-provider under node).

Real discovery, real JWKS, real RFC 9068 tokens; key rotation, an IdP outage
and a flood of forged kids, end to end through ``Authenticator``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from joserfc import jwk, jws

from glassgate.adapters.idp import Authenticator, build_authenticator
from glassgate.config.schema import Config, IntrospectionConfig, IssuerConfig, JwksConfig
from glassgate.core.principal import CredentialKind
from glassgate.errors import ClaimError, KeysStaleError, TokenError, UnknownKeyError
from tests.support.idp import INTROSPECTOR, OidcProvider, require_integration

pytestmark = pytest.mark.integration
T = TypeVar("T")
AUDIENCE = "api://gateway"


@pytest.fixture
def own_provider(tmp_path: Path) -> Iterator[OidcProvider]:
    """A provider of the test's own, for tests that stop or rotate it."""
    require_integration()
    with OidcProvider(tmp_path) as provider:
        yield provider


def config(provider: OidcProvider, jwks: JwksConfig | None = None, **extra: Any) -> Config:
    issuer = IssuerConfig(
        id="test-idp",
        issuer=provider.issuer,
        audiences=(AUDIENCE,),
        token_type="at+jwt",
        jwks=jwks or JwksConfig(),
        **extra,
    )
    return Config(issuers=(issuer,))


def run(cfg: Config, body: Callable[[Authenticator], Awaitable[T]]) -> T:
    async def go() -> T:
        async with httpx.AsyncClient() as http:
            auth = build_authenticator(cfg, http)
            await auth.start()
            try:
                return await body(auth)
            finally:
                await auth.aclose()

    return asyncio.run(go())


def test_rs256_and_es256_tokens_verify_end_to_end(oidc_provider: OidcProvider) -> None:
    claims = {
        "sub": "alice",
        "groups": ["Admins", "Ａdmins"],
        "amr": ["pwd", "mfa", "hwk"],
        "acr": "urn:example:loa:2fa",
        "auth_time": int(time.time()) - 30,
        "department": "Security",
    }
    rs256 = oidc_provider.token(claims=claims)
    es256 = oidc_provider.token(claims=claims, client="gateway-es256")
    assert json.loads(jws.extract_compact(es256.encode()).payload)["sub"] == "alice"

    async def body(auth: Authenticator) -> None:
        assert auth.ready
        for raw in (rs256, es256):
            principal = await auth.authenticate(raw, time.time())
            assert principal.subject == "alice"
            assert principal.issuer == oidc_provider.issuer
            assert principal.groups == {"Admins", "Ａdmins"}
            assert principal.amr == {"pwd", "mfa", "hwk"}
            assert principal.acr == "urn:example:loa:2fa"
            assert principal.auth_time == claims["auth_time"]
            assert principal.claims["department"] == "Security"
            assert principal.kind is CredentialKind.JWT

    run(config(oidc_provider), body)


@pytest.mark.parametrize(
    "claims",
    [{"exp": "1795434915"}, {"groups": "Admins"}, {"amr": "mfa"}, {"auth_time": "0"}],
    ids=lambda c: f"case={next(iter(c))}",
)
def test_hostile_claims_from_a_real_idp_are_refused(
    oidc_provider: OidcProvider, claims: dict[str, Any]
) -> None:
    raw = oidc_provider.token(claims=claims)

    async def body(auth: Authenticator) -> None:
        with pytest.raises(ClaimError):
            await auth.authenticate(raw, time.time())

    run(config(oidc_provider), body)


def introspecting(provider: OidcProvider) -> Config:
    """The provider as an issuer whose opaque tokens are introspected by the test client."""
    introspection = IntrospectionConfig(
        client_id=INTROSPECTOR[0],
        client_secret=INTROSPECTOR[1],  # type: ignore[arg-type]
    )
    issuer = IssuerConfig(
        id="test-idp",
        issuer=provider.issuer,
        audiences=(AUDIENCE, "api://gateway-opaque"),
        introspection=introspection,
    )
    return Config(issuers=(issuer,))


def test_opaque_tokens_are_introspected(oidc_provider: OidcProvider) -> None:
    raw = oidc_provider.opaque_token(claims={"sub": "bob", "groups": ["Machines"]})

    async def body(auth: Authenticator) -> None:
        principal = await auth.authenticate(raw, time.time())
        assert principal.kind is CredentialKind.OPAQUE
        assert principal.subject == "bob"
        assert principal.groups == frozenset({"Machines"})
        with pytest.raises(TokenError):
            await auth.authenticate("not-a-token-the-idp-issued", time.time())

    run(introspecting(oidc_provider), body)


def test_introspection_is_single_flight_and_remembers_refusals(
    oidc_provider: OidcProvider,
) -> None:
    raw = oidc_provider.opaque_token(claims={"sub": "carol"})

    async def body(auth: Authenticator) -> None:
        client = auth.introspection
        assert client is not None
        now = time.time()
        principals = await asyncio.gather(*(auth.authenticate(raw, now) for _ in range(30)))
        assert {principal.subject for principal in principals} == {"carol"}
        assert client.requests == 1
        forged = await asyncio.gather(
            *(auth.authenticate("forged-opaque-token", now) for _ in range(30)),
            return_exceptions=True,
        )
        assert all(isinstance(result, TokenError) for result in forged)
        with pytest.raises(TokenError):
            await auth.authenticate("forged-opaque-token", now + 1)
        assert client.requests == 2

    run(introspecting(oidc_provider), body)


def test_key_rotation_is_picked_up_at_once(own_provider: OidcProvider) -> None:
    old_token = own_provider.token(claims={"sub": "before"})

    async def body(auth: Authenticator) -> float:
        assert (await auth.authenticate(old_token, time.time())).subject == "before"
        own_provider.rotate_keys()
        new_token = own_provider.token(claims={"sub": "after"})
        new_kid = jws.extract_compact(new_token.encode()).headers()["kid"]
        assert new_kid == own_provider.signing_kids[0]
        started = time.monotonic()
        assert (await auth.authenticate(new_token, time.time())).subject == "after"
        es = own_provider.token(claims={"sub": "after-es"}, client="gateway-es256")
        assert (await auth.authenticate(es, time.time())).subject == "after-es"
        assert (await auth.authenticate(old_token, time.time())).subject == "before"
        assert auth.keys.unknown_kid_refreshes == 1
        return time.monotonic() - started

    assert run(config(own_provider), body) < 30


def test_idp_outage_keeps_last_good_keys_then_fails_closed(own_provider: OidcProvider) -> None:
    jwks = JwksConfig(max_staleness=2, refresh_interval=1, unknown_kid_min_interval=1)
    cached = own_provider.token(claims={"sub": "cached"})
    fresh = own_provider.token(claims={"sub": "fresh"})

    async def body(auth: Authenticator) -> None:
        assert (await auth.authenticate(cached, time.time())).subject == "cached"
        own_provider.stop()
        assert (await auth.authenticate(fresh, time.time())).subject == "fresh"
        last_good = auth.keys.keyrings["test-idp"].last_success or 0.0
        await asyncio.sleep(max(0.0, last_good + 2.2 - time.time()))
        for raw in (cached, fresh):
            with pytest.raises(KeysStaleError):
                await auth.authenticate(raw, time.time())
        assert auth.keys.failures >= 1
        own_provider.start()
        await asyncio.sleep(1.1)  # past the refresh rate limit
        assert (await auth.authenticate(fresh, time.time())).subject == "fresh"

    run(config(own_provider, jwks), body)


def _forge(issuer: str, key: jwk.RSAKey, kid: str) -> str:
    now = int(time.time())
    claims = {"iss": issuer, "aud": AUDIENCE, "sub": "mallory", "iat": now, "exp": now + 300}
    header = {"alg": "RS256", "kid": kid, "typ": "at+jwt"}
    return jws.serialize_compact(header, json.dumps(claims), key)


def test_a_flood_of_unknown_kids_costs_at_most_one_fetch(own_provider: OidcProvider) -> None:
    attacker = jwk.RSAKey.generate_key(2048)
    forged = [_forge(own_provider.issuer, attacker, secrets.token_urlsafe(12)) for _ in range(500)]
    jwks = JwksConfig(unknown_kid_min_interval=10)

    async def body(auth: Authenticator) -> list[object]:
        assert own_provider.jwks_hits() == 1  # the initial load
        results: list[object] = await asyncio.gather(
            *(auth.authenticate(raw, time.time()) for raw in forged), return_exceptions=True
        )
        assert own_provider.jwks_hits() == 2  # one refresh for all 500
        assert auth.keys.unknown_kid_refreshes == 1
        assert auth.keys.fetches == 2
        return results

    results = run(config(own_provider, jwks), body)
    assert all(isinstance(result, UnknownKeyError) for result in results)
