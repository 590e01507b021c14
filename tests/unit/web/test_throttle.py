"""web.throttle: sign-in attempts per address and per account, in the gateway's QuotaStore."""

from __future__ import annotations

import asyncio
from ipaddress import ip_address

import pytest
from pydantic import ValidationError

from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.config.schema import SignInLimitsConfig
from glassgate.errors import SignInThrottledError
from glassgate.web.throttle import SignInLimits, SignInThrottle, address_key
from tests.support.clock import FrozenClock


def throttle(clock: FrozenClock, **limits: float) -> SignInThrottle:
    config = SignInLimitsConfig.model_validate({"per_address": 3, "per_account": 2, **limits})
    return SignInThrottle(MemoryQuotaStore(), SignInLimits.from_config(config), clock)


def test_an_address_gets_its_attempts_then_waits_for_the_next() -> None:
    clock = FrozenClock(1_000.0)
    limiter = throttle(clock, window=900)
    client = ip_address("198.51.100.7")

    async def go() -> None:
        for _ in range(3):
            await limiter.address(client)
        with pytest.raises(SignInThrottledError) as refused:
            await limiter.address(client)
        assert refused.value.status == 429
        assert refused.value.retry_after == 300  # one attempt every 900 / 3 seconds
        await limiter.address(ip_address("198.51.100.8"))  # another address is not affected
        clock.advance(300)
        await limiter.address(client)

    asyncio.run(go())


def test_accounts_are_counted_apart_from_addresses_and_known_or_not_alike() -> None:
    clock = FrozenClock(1_000.0)
    limiter = throttle(clock)

    async def go() -> None:
        for name in ("alice", "nobody-at-all"):
            await limiter.account(name)
            await limiter.account(name)
            with pytest.raises(SignInThrottledError) as refused:
                await limiter.account(name)
            assert str(refused.value) == (
                "too many sign-in attempts: wait 450 seconds before trying again"
            )
        await limiter.address(ip_address("198.51.100.7"))

    asyncio.run(go())


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ],
)
def test_ipv6_hosts_are_counted_by_their_slash_64(address: str, key: str) -> None:
    assert address_key(ip_address(address)) == key


@pytest.mark.parametrize(
    "limits",
    [{"per_address": 0}, {"per_account": 0}, {"window": 0}, {"window": "2d"}, {"per_x": 1}],
)
def test_limits_out_of_bounds_are_config_errors(limits: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SignInLimitsConfig.model_validate(limits)
