"""JwksKeySource: load, refresh, last-good keys, single-flight rate-limited refresh."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from glassgate.adapters.idp.jwks import JwksKeySource, JwksSettings
from glassgate.config.schema import IssuerConfig, JwksConfig
from glassgate.errors import KeysStaleError
from tests.support import tokens as t
from tests.support.clock import FrozenClock
from tests.support.fake_idp import FakeIdP
from tests.support.polling import eventually_async

T = TypeVar("T")
JWKS_PATH = "/oauth2/default/v1/keys"
DISCOVERY_PATH = "/oauth2/default/.well-known/openid-configuration"


def settings(**overrides: Any) -> JwksSettings:
    values: dict[str, Any] = {"issuer_id": t.ISSUER_ID, "issuer": t.ISSUER}
    values.update(overrides)
    return JwksSettings(**values)


def run_with(
    idp: FakeIdP,
    body: Callable[[JwksKeySource, FrozenClock], Awaitable[T]],
    **overrides: Any,
) -> T:
    async def go() -> T:
        clock = FrozenClock(t.NOW)
        async with idp.client() as http:
            source = JwksKeySource([settings(**overrides)], http, clock)
            try:
                return await body(source, clock)
            finally:
                await source.aclose()

    return asyncio.run(go())


def test_settings_from_config() -> None:
    config = IssuerConfig(
        id="okta",
        issuer="https://o.example",
        audiences=("a",),
        jwks_uri="https://o.example/keys",
        jwks=JwksConfig(refresh_interval=60, max_staleness=600, unknown_kid_min_interval=5),
    )
    s = JwksSettings.from_config(config)
    assert (s.issuer_id, s.jwks_uri, s.refresh_interval, s.max_staleness) == (
        "okta",
        "https://o.example/keys",
        60.0,
        600.0,
    )
    assert s.unknown_kid_min_interval == 5.0


def test_start_discovers_and_loads() -> None:
    idp = FakeIdP()

    async def body(source: JwksKeySource, clock: FrozenClock) -> None:
        assert not source.ready
        await source.start()
        assert source.ready
        ring = source.keyrings[t.ISSUER_ID]
        assert {key.kid for key in ring.keys} == {"rsa-1", "ec-1"}
        assert ring.last_success == clock.value
        assert (source.fetches, source.failures) == (1, 0)
        assert source.fetches_by_issuer == {t.ISSUER_ID: 1}
        assert source.failures_by_issuer == {}

    run_with(idp, body)
    assert idp.hits[DISCOVERY_PATH] == 1
    assert idp.hits[JWKS_PATH] == 1


def test_configured_jwks_uri_skips_discovery() -> None:
    idp = FakeIdP()

    async def body(source: JwksKeySource, clock: FrozenClock) -> None:
        await source.start()
        assert source.ready

    run_with(idp, body, jwks_uri=idp.jwks_uri)
    assert idp.hits[DISCOVERY_PATH] == 0


def test_idp_down_at_start_is_not_fatal_and_not_ready() -> None:
    idp = FakeIdP()
    idp.down = True

    async def body(source: JwksKeySource, clock: FrozenClock) -> None:
        await source.start()
        assert not source.ready
        assert source.failures == 1
        assert "ConnectError" in source.last_errors[t.ISSUER_ID]
        with pytest.raises(KeysStaleError):
            source.keyrings[t.ISSUER_ID].lookup("rsa-1", "RS256", clock.value)

    run_with(idp, body)


def test_failed_refresh_keeps_last_good_keys_until_stale() -> None:
    idp = FakeIdP()

    async def body(source: JwksKeySource, clock: FrozenClock) -> None:
        await source.start()
        idp.down = True
        clock.value += 50
        assert not await source.refresh(t.ISSUER_ID)
        assert source.failures == 1
        assert source.failures_by_issuer == {t.ISSUER_ID: 1}
        ring = source.keyrings[t.ISSUER_ID]
        assert ring.lookup("rsa-1", "RS256", clock.value).kid == "rsa-1"
        with pytest.raises(KeysStaleError):
            ring.lookup("rsa-1", "RS256", clock.value + 51)
        idp.down = False
        assert await source.refresh(t.ISSUER_ID)
        assert t.ISSUER_ID not in source.last_errors

    run_with(idp, body, max_staleness=100.0)
    assert idp.hits[DISCOVERY_PATH] == 2  # rediscovered after the failure


def test_background_refresh_picks_up_new_keys() -> None:
    idp = FakeIdP()

    async def body(source: JwksKeySource, clock: FrozenClock) -> None:
        await source.start()
        idp.keys = ["rsa-2"]
        await eventually_async(
            lambda: {k.kid for k in source.keyrings[t.ISSUER_ID].keys} == {"rsa-2"},
            what="the background refresh",
        )

    run_with(idp, body, refresh_interval=0.02)


def test_background_refresh_retries_after_failure() -> None:
    idp = FakeIdP()
    idp.down = True

    async def body(source: JwksKeySource, clock: FrozenClock) -> None:
        await source.start()
        idp.down = False
        await eventually_async(lambda: source.ready, what="the refresh to recover")

    run_with(idp, body, refresh_interval=0.05, unknown_kid_min_interval=0.0)


def test_unknown_kid_refresh_is_single_flight_and_rate_limited() -> None:
    idp = FakeIdP()

    async def body(source: JwksKeySource, clock: FrozenClock) -> None:
        await source.start()
        idp.delay = 0.05
        idp.keys = ["rsa-1", "ec-1", "rsa-2"]
        results = await asyncio.gather(
            *(source.refresh_for_unknown_kid(t.ISSUER_ID, clock.value) for _ in range(200))
        )
        assert all(results)
        assert source.keyrings[t.ISSUER_ID].lookup("rsa-2", "RS256", clock.value)
        assert idp.hits[JWKS_PATH] == 2  # start + one refresh for all 200 callers
        assert source.unknown_kid_refreshes == 1
        clock.value += 5
        assert not await source.refresh_for_unknown_kid(t.ISSUER_ID, clock.value)
        assert source.unknown_kid_refreshes_suppressed == 1
        assert idp.hits[JWKS_PATH] == 2
        clock.value += 5
        assert await source.refresh_for_unknown_kid(t.ISSUER_ID, clock.value)
        assert idp.hits[JWKS_PATH] == 3

    run_with(idp, body, unknown_kid_min_interval=10.0)


def test_unknown_issuer_refresh_is_a_no_op() -> None:
    idp = FakeIdP()

    async def body(source: JwksKeySource, clock: FrozenClock) -> bool:
        return await source.refresh_for_unknown_kid("nobody", clock.value)

    assert run_with(idp, body) is False
    assert sum(idp.hits.values()) == 0


def test_a_caller_cancelled_mid_fetch_does_not_cancel_it_for_others() -> None:
    idp = FakeIdP()

    async def body(source: JwksKeySource, clock: FrozenClock) -> None:
        idp.delay = 0.05
        first = asyncio.ensure_future(source.refresh(t.ISSUER_ID))
        second = asyncio.ensure_future(source.refresh(t.ISSUER_ID))
        await asyncio.sleep(0.01)
        first.cancel()
        assert await second
        assert source.ready

    run_with(idp, body)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(500), "HTTP 500"),
        (httpx.Response(200, json={"keys": []}), "no usable"),
        (httpx.Response(200, json={"keys": [{"kty": "oct", "k": "AAAA"}]}), "no usable"),
        (httpx.Response(200, json={"nokeys": 1}), "JWKS"),
        (httpx.Response(200, json=[1]), "not a JSON object"),
        (httpx.Response(200, content=b"{" + b" " * 5000 + b"}"), "larger"),
    ],
)
def test_bad_jwks_answers_count_as_failures(answer: httpx.Response, reason: str) -> None:
    idp = FakeIdP()
    idp.overrides[JWKS_PATH] = lambda r: answer

    async def body(source: JwksKeySource, clock: FrozenClock) -> None:
        await source.start()
        assert not source.ready
        assert reason in source.last_errors[t.ISSUER_ID]

    run_with(idp, body, max_document_bytes=1024)


def test_unusable_keys_are_skipped_not_fatal() -> None:
    idp = FakeIdP(keys=("rsa-enc", "rsa-small", "ec-384", "ec-1"))

    async def body(source: JwksKeySource, clock: FrozenClock) -> None:
        await source.start()
        assert [k.kid for k in source.keyrings[t.ISSUER_ID].keys] == ["ec-1"]

    run_with(idp, body)


def test_an_unexpected_bug_in_a_fetch_counts_as_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    idp = FakeIdP()

    def broken(document: object) -> object:
        raise RuntimeError("bug")

    monkeypatch.setattr("glassgate.adapters.idp.jwks.parse_jwks", broken)

    async def body(source: JwksKeySource, clock: FrozenClock) -> None:
        await source.start()
        assert source.failures == 1
        assert "RuntimeError" in source.last_errors[t.ISSUER_ID]

    run_with(idp, body)


@pytest.mark.parametrize(
    "overrides",
    [
        {"refresh_interval": 0},
        {"max_staleness": -1},
        {"fetch_timeout": 0},
        {"unknown_kid_min_interval": -1},
        {"max_document_bytes": 0},
    ],
)
def test_settings_refuse_nonsense(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="issuer"):
        settings(**overrides)


def test_start_twice_starts_one_background_refresh() -> None:
    idp = FakeIdP()

    async def body(source: JwksKeySource, clock: FrozenClock) -> None:
        await source.start()
        await source.start()
        assert idp.hits[JWKS_PATH] == 1

    run_with(idp, body)


def test_issuer_ids_must_be_unique() -> None:
    async def go() -> None:
        async with httpx.AsyncClient() as http:
            JwksKeySource([settings(), settings()], http, FrozenClock(t.NOW))

    with pytest.raises(ValueError, match="once"):
        asyncio.run(go())
