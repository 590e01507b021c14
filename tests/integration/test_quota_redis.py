"""What only the Redis quota store does: key expiry, hashed keys, failing closed."""

from __future__ import annotations

import asyncio

import pytest

from glassgate.core import quota as core_quota
from glassgate.core.quota import QuotaTier
from glassgate.errors import StorageUnavailableError
from tests.support.gateway import free_port
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.integration

NOW = 1_700_000_000.0


def test_the_lua_copy_uses_the_core_epsilon(redis_server: RedisServer) -> None:
    from glassgate.adapters.storage.quotas import redis as quota_redis

    assert quota_redis._EPSILON == core_quota._EPSILON


def test_a_key_expires_when_its_tat_passes_and_names_no_subject(redis_server: RedisServer) -> None:
    import redis

    from glassgate.adapters.storage.quotas.redis import RedisQuotaStore

    tier = QuotaTier("small", rate=1, per=30, burst=2)

    async def go() -> None:
        store = RedisQuotaStore.from_url(redis_server.url, prefix="ttl-test:")
        try:
            result = await store.hit(tier, "https://idp\x00alice@example.com", NOW)
            assert result.allowed
        finally:
            await store.aclose()

    asyncio.run(go())
    client = redis.Redis.from_url(redis_server.url)
    try:
        keys = client.keys("ttl-test:*")
        assert len(keys) == 1
        assert b"alice" not in keys[0]
        assert 29_000 < client.pttl(keys[0]) <= 30_000  # reset_after: the TAT is 30 s ahead
    finally:
        client.close()


def test_an_unreachable_redis_fails_closed(redis_server: RedisServer) -> None:  # needs redis-py
    from glassgate.adapters.storage.quotas.redis import RedisQuotaStore

    url = f"redis://127.0.0.1:{free_port()}/0"  # bound and released: nothing listens there

    async def go() -> None:
        store = RedisQuotaStore.from_url(url, timeout=0.2)
        try:
            with pytest.raises(StorageUnavailableError):
                await store.hit(QuotaTier("t", rate=1, per=1, burst=1), "k", NOW)
        finally:
            await store.aclose()

    asyncio.run(go())
