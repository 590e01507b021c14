"""The quota counters (``QuotaStore``): memory (one process) and Redis (shared).

Both run ``core.quota.gcra``'s arithmetic (Redis as a Lua copy of it, atomically).
``open_quota_store`` is the one way from ``quotas.store`` to a store.
"""

from __future__ import annotations

from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.config.quotas import QuotaStoreConfig
from glassgate.ports import QuotaStore

__all__ = ["open_quota_store"]


def open_quota_store(config: QuotaStoreConfig) -> QuotaStore:
    """The configured store: Redis when ``redis`` is set, else one process's memory.

    redis-py is imported only here, when a Redis store is configured (it is an
    optional extra; ``check-config`` reports it missing). Nothing connects yet:
    the first request does, and a Redis that is down then answers with each
    tier's ``when_store_down``.
    """
    if config.redis is None:
        return MemoryQuotaStore()
    from glassgate.adapters.storage.quotas.redis import RedisQuotaStore  # noqa: PLC0415

    redis = config.redis
    return RedisQuotaStore.from_url(
        redis.url.get_secret_value(), timeout=redis.timeout, prefix=redis.prefix
    )
