"""RFC 7662 introspection: active only, same claim checks, bounded cache."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import SecretStr

from glassgate.adapters.idp.introspection import IntrospectionClient
from glassgate.core.principal import CredentialKind
from glassgate.errors import (
    IdPUnavailableError,
    TokenError,
    TokenExpiredError,
    TokenMalformedError,
    UntrustedIssuerError,
)
from tests.support import tokens as t
from tests.support.fake_idp import FakeIdP

T = TypeVar("T")
NOW = float(t.NOW)
SECRET = "s3cr3t:with/odd chars"
OPAQUE = "rauGT0WhhbwMLNkCGxgsKJJLTGB4XBIMATjfWyqulL2"
INTROSPECT_PATH = "/oauth2/default/v1/introspect"


def active(**overrides: Any) -> dict[str, Any]:
    return {"active": True, **t.base_claims(), **overrides}


def run_with(idp: FakeIdP, body: Callable[[IntrospectionClient], Awaitable[T]], **kwargs: Any) -> T:
    async def go() -> T:
        async with idp.client() as http:
            options: dict[str, Any] = {"endpoint": idp.introspection_endpoint, **kwargs}
            client = IntrospectionClient(
                t.policy(), http, client_id="gw client", client_secret=SecretStr(SECRET), **options
            )
            return await body(client)

    return asyncio.run(go())


def test_an_active_token_becomes_an_opaque_principal() -> None:
    idp = FakeIdP()
    idp.introspection[OPAQUE] = active()

    async def body(client: IntrospectionClient) -> None:
        principal = await client.introspect(OPAQUE, NOW)
        assert principal.kind is CredentialKind.OPAQUE
        assert principal.subject == "alice"
        assert principal.groups == {"Analysts"}

    run_with(idp, body)
    request = idp.requests[0]
    assert request.method == "POST"
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form == {"token": OPAQUE, "token_type_hint": "access_token"}
    scheme, _, encoded = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == "gw+client:s3cr3t%3Awith%2Fodd+chars"


def test_results_are_cached_and_never_past_exp() -> None:
    idp = FakeIdP()
    idp.introspection[OPAQUE] = active(exp=t.NOW + 20)

    async def body(client: IntrospectionClient) -> None:
        await client.introspect(OPAQUE, NOW)
        await client.introspect(OPAQUE, NOW + 19)
        assert client.requests == 1
        with pytest.raises(TokenExpiredError):
            await client.introspect(OPAQUE, NOW + 60)
        assert client.requests == 2

    run_with(idp, body, cache_ttl=300.0)


def test_cache_ttl_bounds_the_entry() -> None:
    idp = FakeIdP()
    idp.introspection[OPAQUE] = active()

    async def body(client: IntrospectionClient) -> None:
        await client.introspect(OPAQUE, NOW)
        await client.introspect(OPAQUE, NOW + 11)
        assert client.requests == 2

    run_with(idp, body, cache_ttl=10.0)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"active": False}, TokenError),
        ({**active(), "active": "true"}, TokenError),
        ({**active(), "active": 1}, TokenError),
        ({k: v for k, v in active().items() if k != "active"}, TokenError),
        (active(iss="https://evil.example"), UntrustedIssuerError),
        (active(exp=t.NOW - 100), TokenExpiredError),
    ],
)
def test_inactive_or_invalid_answers_are_token_errors(
    answer: dict[str, Any], error: type[Exception]
) -> None:
    idp = FakeIdP()
    idp.introspection[OPAQUE] = answer

    async def body(client: IntrospectionClient) -> None:
        with pytest.raises(error):
            await client.introspect(OPAQUE, NOW)
        with pytest.raises(error):  # remembered briefly: the same answer, no second call
            await client.introspect(OPAQUE, NOW + 4)
        assert client.requests == 1
        with pytest.raises(error):  # then asked again
            await client.introspect(OPAQUE, NOW + 6)
        assert client.requests == 2

    run_with(idp, body, negative_cache_ttl=5.0)


def test_a_token_that_turns_active_is_accepted_after_the_negative_ttl() -> None:
    idp = FakeIdP()

    async def body(client: IntrospectionClient) -> None:
        with pytest.raises(TokenError):
            await client.introspect(OPAQUE, NOW)
        idp.introspection[OPAQUE] = active()
        with pytest.raises(TokenError):
            await client.introspect(OPAQUE, NOW + 1)
        assert (await client.introspect(OPAQUE, NOW + 2.5)).subject == "alice"

    run_with(idp, body, negative_cache_ttl=2.0)


def test_identical_lookups_in_flight_share_one_call() -> None:
    idp = FakeIdP()
    idp.delay = 0.05
    idp.introspection[OPAQUE] = active()

    async def body(client: IntrospectionClient) -> None:
        principals = await asyncio.gather(*(client.introspect(OPAQUE, NOW) for _ in range(50)))
        assert {p.subject for p in principals} == {"alice"}
        assert client.requests == 1

    run_with(idp, body)
    assert len(idp.requests) == 1


def test_identical_inactive_lookups_in_flight_share_one_call() -> None:
    idp = FakeIdP()
    idp.delay = 0.05

    async def body(client: IntrospectionClient) -> None:
        results = await asyncio.gather(
            *(client.introspect(OPAQUE, NOW) for _ in range(20)), return_exceptions=True
        )
        assert all(isinstance(result, TokenError) for result in results)

    run_with(idp, body)
    assert len(idp.requests) == 1


def test_a_cancelled_caller_does_not_cancel_the_shared_lookup() -> None:
    idp = FakeIdP()
    idp.delay = 0.05
    idp.introspection[OPAQUE] = active()

    async def body(client: IntrospectionClient) -> None:
        first = asyncio.ensure_future(client.introspect(OPAQUE, NOW))
        second = asyncio.ensure_future(client.introspect(OPAQUE, NOW))
        await asyncio.sleep(0.01)
        first.cancel()
        assert (await second).subject == "alice"
        assert first.cancelled()

    run_with(idp, body)
    assert len(idp.requests) == 1


def test_calls_to_the_idp_are_bounded() -> None:
    idp = FakeIdP()
    in_flight, peak = 0, 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return httpx.Response(200, json=active())

    idp.overrides[INTROSPECT_PATH] = slow

    async def body(client: IntrospectionClient) -> None:
        tokens = [f"{OPAQUE}{i}" for i in range(12)]
        principals = await asyncio.gather(*(client.introspect(tok, NOW) for tok in tokens))
        assert len(principals) == 12

    run_with(idp, body, max_concurrency=3)
    assert peak == 3


def test_waiting_too_long_for_a_slot_is_idp_unavailable() -> None:
    idp = FakeIdP()
    idp.delay = 0.5
    idp.introspection[OPAQUE] = active()

    async def body(client: IntrospectionClient) -> None:
        hog = asyncio.ensure_future(client.introspect(OPAQUE, NOW))
        await asyncio.sleep(0.01)
        with pytest.raises(IdPUnavailableError, match="in flight"):
            await client.introspect("another" + OPAQUE, NOW)
        await hog

    run_with(idp, body, max_concurrency=1, timeout=0.1)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_idp_errors_are_unavailable_and_never_remembered(status: int) -> None:
    idp = FakeIdP()
    idp.overrides[INTROSPECT_PATH] = lambda r: httpx.Response(status)

    async def body(client: IntrospectionClient) -> None:
        for _ in range(2):
            with pytest.raises(IdPUnavailableError):
                await client.introspect(OPAQUE, NOW)
        assert client.requests == 2

    run_with(idp, body)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(401, json={"error": "invalid_client"}),
        httpx.Response(200, content=b"[]"),
        httpx.Response(200, content=b'{"active":true,"active":true}'),
    ],
)
def test_server_trouble_is_idp_unavailable(answer: httpx.Response) -> None:
    idp = FakeIdP()
    idp.overrides[INTROSPECT_PATH] = lambda r: answer

    async def body(client: IntrospectionClient) -> None:
        with pytest.raises(IdPUnavailableError) as caught:
            await client.introspect(OPAQUE, NOW)
        assert SECRET not in str(caught.value)
        assert client.failures == 1

    run_with(idp, body)


# The size cap is checked once, where the credential comes in (tests/vectors/http/inbound.yaml).
@pytest.mark.parametrize("raw", ["", "a b", "tok\n", "é", "a=b"])
def test_malformed_tokens_are_never_sent(raw: str) -> None:
    idp = FakeIdP()

    async def body(client: IntrospectionClient) -> None:
        with pytest.raises(TokenMalformedError):
            await client.introspect(raw, NOW)

    run_with(idp, body)
    assert idp.requests == []


def test_endpoint_from_discovery() -> None:
    idp = FakeIdP()
    idp.introspection[OPAQUE] = active()

    async def body(client: IntrospectionClient) -> None:
        await client.introspect(OPAQUE, NOW)
        idp.introspection["other"] = active()
        await client.introspect("other", NOW)

    run_with(idp, body, endpoint=None)
    assert idp.hits["/oauth2/default/.well-known/openid-configuration"] == 1


def test_no_endpoint_advertised() -> None:
    idp = FakeIdP()
    idp.metadata_extra = {"introspection_endpoint": None}

    async def body(client: IntrospectionClient) -> None:
        with pytest.raises(IdPUnavailableError, match="no endpoint"):
            await client.introspect(OPAQUE, NOW)

    run_with(idp, body, endpoint=None)


def test_repr_hides_the_secret() -> None:
    async def body(client: IntrospectionClient) -> str:
        return repr(client)

    text = run_with(FakeIdP(), body)
    assert SECRET not in text
    assert "gw client" in text
