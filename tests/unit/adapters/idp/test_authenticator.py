"""Authenticator: JWS → verifier (one refresh on unknown kid), opaque → introspection."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from glassgate.adapters.idp import Authenticator, build_authenticator
from glassgate.config.schema import Config, IntrospectionConfig, IssuerConfig, JwksConfig
from glassgate.core.principal import CredentialKind
from glassgate.errors import (
    IdPUnavailableError,
    KeysStaleError,
    SignatureInvalidError,
    TokenError,
    TokenMalformedError,
    UnknownKeyError,
)
from tests.support import tokens as t
from tests.support.clock import FrozenClock
from tests.support.fake_idp import FakeIdP

T = TypeVar("T")
NOW = float(t.NOW)
JWKS_PATH = "/oauth2/default/v1/keys"


def config(**issuer: Any) -> Config:
    fields: dict[str, Any] = {
        "id": t.ISSUER_ID,
        "issuer": t.ISSUER,
        "audiences": (t.AUDIENCE,),
        "token_type": "at+jwt",
        "jwks": JwksConfig(unknown_kid_min_interval=10, max_staleness=100),
    }
    fields.update(issuer)
    return Config(issuers=(IssuerConfig(**fields),))


def run_with(
    idp: FakeIdP,
    body: Callable[[Authenticator, FrozenClock], Awaitable[T]],
    cfg: Config | None = None,
) -> T:
    async def go() -> T:
        clock = FrozenClock(NOW)
        async with idp.client() as http:
            auth = build_authenticator(cfg or config(), http, clock=clock)
            await auth.start()
            try:
                return await body(auth, clock)
            finally:
                await auth.aclose()

    return asyncio.run(go())


def test_a_jwt_is_verified_locally() -> None:
    idp = FakeIdP()

    async def body(auth: Authenticator, clock: FrozenClock) -> None:
        assert auth.ready
        principal = await auth.authenticate(t.token(), clock.value)
        assert principal.subject == "alice"
        es = await auth.authenticate(t.token(kid="ec-1", alg="ES256"), clock.value)
        assert es.kind is CredentialKind.JWT

    run_with(idp, body)


def test_a_rotated_key_is_picked_up_by_one_refresh() -> None:
    idp = FakeIdP()

    async def body(auth: Authenticator, clock: FrozenClock) -> None:
        idp.keys = ["rsa-2", "rsa-1"]
        raw = t.token(kid="rsa-2")
        assert (await auth.authenticate(raw, clock.value)).subject == "alice"

    run_with(idp, body)
    assert idp.hits[JWKS_PATH] == 2


def test_a_flood_of_unknown_kids_costs_one_fetch() -> None:
    idp = FakeIdP()

    async def body(auth: Authenticator, clock: FrozenClock) -> list[object]:
        idp.delay = 0.02
        forged = [t.token(kid=secrets.token_hex(8), key="attacker-rsa") for _ in range(300)]
        return await asyncio.gather(
            *(auth.authenticate(raw, clock.value) for raw in forged), return_exceptions=True
        )

    results = run_with(idp, body)
    assert all(isinstance(result, UnknownKeyError) for result in results)
    assert idp.hits[JWKS_PATH] == 2  # start + one


def test_stale_keys_fail_closed_when_the_idp_is_down() -> None:
    idp = FakeIdP()

    async def body(auth: Authenticator, clock: FrozenClock) -> None:
        idp.down = True
        clock.value += 90
        assert (await auth.authenticate(t.token(exp=t.NOW + 600), clock.value)).subject
        clock.value += 20
        with pytest.raises(KeysStaleError):
            await auth.authenticate(t.token(jti="another", exp=t.NOW + 600), clock.value)

    run_with(idp, body)


def test_keys_recover_through_the_refresh_when_the_idp_returns() -> None:
    idp = FakeIdP()
    idp.down = True

    async def body(auth: Authenticator, clock: FrozenClock) -> None:
        assert not auth.ready
        idp.down = False
        assert (await auth.authenticate(t.token(), clock.value)).subject == "alice"
        assert auth.ready

    run_with(idp, body)


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "https://attacker.example/jwks"},
        {"x5u": "https://attacker.example/cert"},
        {"jwk": t.public_jwk("attacker-rsa")},
        {"x5c": ["MIIB"]},
    ],
    ids=lambda h: f"member={next(iter(h))}",
)
def test_key_urls_in_the_header_are_never_fetched(header: dict[str, Any]) -> None:
    idp = FakeIdP()

    async def body(auth: Authenticator, clock: FrozenClock) -> None:
        for kid in ("attacker-rsa", "rsa-1"):
            raw = t.forge({**t.base_header(kid), **header}, t.base_claims(), "attacker-rsa")
            with pytest.raises((UnknownKeyError, SignatureInvalidError)):
                await auth.authenticate(raw, clock.value)

    run_with(idp, body)
    hosts = {request.url.host for request in idp.requests}
    assert hosts == {"idp.example.test"}


def test_opaque_tokens_go_to_introspection() -> None:
    idp = FakeIdP()
    idp.introspection["opaque-token-1"] = {"active": True, **t.base_claims()}
    cfg = config(
        introspection=IntrospectionConfig(client_id="gw", client_secret="s3cret"),  # type: ignore[arg-type]
    )

    async def body(auth: Authenticator, clock: FrozenClock) -> None:
        principal = await auth.authenticate("opaque-token-1", clock.value)
        assert principal.kind is CredentialKind.OPAQUE
        with pytest.raises(TokenError):
            await auth.authenticate("opaque-token-2", clock.value)

    run_with(idp, body, cfg)


def test_opaque_tokens_without_introspection_are_malformed() -> None:
    async def body(auth: Authenticator, clock: FrozenClock) -> None:
        for raw in ("opaque", "a.b", "a.b.c.d.e", ""):
            with pytest.raises(TokenMalformedError):
                await auth.authenticate(raw, clock.value)

    run_with(FakeIdP(), body)


def test_build_authenticator_without_a_clock_uses_wall_time() -> None:
    async def go() -> None:
        idp = FakeIdP()
        async with idp.client() as http:
            auth = build_authenticator(config(), http)
            assert auth.introspection is None
            await auth.aclose()

    asyncio.run(go())


def test_introspection_bounds_come_from_the_config() -> None:
    idp = FakeIdP()
    idp.delay = 0.05
    options = {"negative_cache_ttl": "2s", "max_concurrency": 1, "timeout": "20ms"}
    cfg = config(
        introspection=IntrospectionConfig(client_id="gw", client_secret="s3cret", **options),  # type: ignore[arg-type]
    )

    async def body(auth: Authenticator, clock: FrozenClock) -> None:
        first = asyncio.ensure_future(auth.authenticate("opaque-1", clock.value))
        await asyncio.sleep(0.01)
        with pytest.raises(IdPUnavailableError):  # one slot, taken; 20 ms to get it
            await auth.authenticate("opaque-2", clock.value)
        with pytest.raises(TokenError):
            await first
        with pytest.raises(TokenError):  # remembered: no second call within 2 s
            await auth.authenticate("opaque-1", clock.value + 1.5)

    run_with(idp, body, cfg)
    assert idp.hits["/oauth2/default/v1/introspect"] == 1
