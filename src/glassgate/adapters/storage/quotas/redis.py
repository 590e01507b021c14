"""Redis quota counters: one GCRA state (the TAT) per key, shared by every gateway instance.

The whole read-decide-write runs as one Lua script, so concurrent requests
from several gateways cannot both spend the last unit of a burst. The script
is a line-for-line copy of ``core.quota.gcra`` (same operations in the same
order on IEEE doubles, the same ``EPSILON``), so the memory and Redis stores
answer identically; ``tests/contract/test_quota_store.py`` holds them to that.
Numbers cross the boundary as ``%.17g`` strings: Redis would truncate a Lua
number in a reply to an integer.

``now`` comes from the caller's clock, as for the memory store: instances that
share a Redis need synchronised clocks (NTP), or a fast one spends others'
budget. Keys expire when their TAT passes (it then carries no information).
Any Redis failure is ``StorageUnavailableError``: the request fails closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from glassgate.core.quota import QuotaResult, QuotaTier
from glassgate.errors import StorageUnavailableError

__all__ = ["GCRA_LUA", "RedisQuotaStore", "map_redis_errors"]

# Kept in step with core.quota (_EPSILON there): see the contract test.
_EPSILON = 1e-6

GCRA_LUA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local epsilon = tonumber(ARGV[4])
local function f(x) return string.format('%.17g', x) end
local tolerance = interval * (burst - 1)
local tat = tonumber(redis.call('GET', KEYS[1]))
local current = now
if tat ~= nil and tat >= now then current = tat end
local new_tat = current + interval
local allow_at = new_tat - tolerance - interval
if allow_at - now > epsilon then
  return {0, f(current), f(allow_at - now), 0, f(current - now)}
end
local remaining = (tolerance - (new_tat - now - interval)) / interval + epsilon
if remaining < 0 then remaining = math.ceil(remaining) else remaining = math.floor(remaining) end
if remaining < 0 then remaining = 0 end
redis.call('SET', KEYS[1], f(new_tat), 'PX', math.ceil((new_tat - now) * 1000))
return {1, f(new_tat), '0', remaining, f(new_tat - now)}
"""


@contextmanager
def map_redis_errors() -> Iterator[None]:
    """redis-py's exceptions stop here (ARCHITECTURE 8.3 rule 5)."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise StorageUnavailableError(
            f"the quota store (Redis) failed: {type(exc).__name__}"
        ) from exc


class RedisQuotaStore:
    """``QuotaStore`` over Redis; build it with ``from_url`` or hand it a client."""

    def __init__(self, client: aioredis.Redis, prefix: str = "glassgate:quota:") -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(GCRA_LUA)

    @classmethod
    def from_url(
        cls, url: str, *, timeout: float = 0.5, prefix: str = "glassgate:quota:"
    ) -> RedisQuotaStore:
        """Short timeouts: a quota check must not hold a request for seconds."""
        client = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=False
        )
        return cls(client, prefix)

    def _key(self, tier: QuotaTier, key: str) -> str:
        # Hashed: bounded length, and subjects or addresses are not spelled out in Redis.
        digest = hashlib.sha256(f"{tier.name}\x00{key}".encode()).hexdigest()[:32]
        return f"{self._prefix}{tier.name}:{digest}"

    async def hit(self, tier: QuotaTier, key: str, now: float) -> QuotaResult:
        args = [repr(tier.interval), str(tier.burst), repr(now), repr(_EPSILON)]
        with map_redis_errors():
            reply: Any = await self._script(keys=[self._key(tier, key)], args=args)
        allowed, tat, retry_after, remaining, reset_after = reply
        return QuotaResult(
            bool(allowed), _float(tat), _float(retry_after), int(remaining), _float(reset_after)
        )

    async def aclose(self) -> None:
        with map_redis_errors():
            await self._client.aclose()


def _float(value: bytes | str) -> float:
    return float(value.decode("ascii") if isinstance(value, bytes) else value)
