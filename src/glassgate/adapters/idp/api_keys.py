"""API keys on the request path: ``gg_`` credentials → ``Principal`` through a short cache.

``credentials.CredentialRouter`` sends ``gg_`` credentials here.
``ApiKeyAuthenticator`` looks records up by key id in ``ApiKeyCache``, and
only on a miss in the store, through a ``StoreRunner`` (the store is
blocking; a slow database never stalls the event loop). Concurrent misses for
one id share a single lookup, and at most ``max_pending`` distinct ids are
looked up at once: beyond that a key is refused (``api-key-store-unavailable``)
rather than queueing without bound, so a flood of made-up keys costs the
database a bounded amount of work. Store failures refuse the key too (fail
closed): a cached record is never used past its TTL, so a revocation always
takes effect within ``cache_ttl``, outage or not.

The secret is checked on every request, cached record or not: the cache holds
digests only, and a wrong secret for a known id is refused every time.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from glassgate.adapters.storage.api_keys import open_api_key_store
from glassgate.adapters.storage.target import StorageTarget
from glassgate.errors import (
    ApiKeyTierUnknownError,
    ApiKeyUnavailableError,
    StorageUnavailableError,
)
from glassgate.store_runner import StoreRunner
from glassgate.tokens.api_keys import ApiKeyRecord, parse_api_key, verify_api_key

if TYPE_CHECKING:
    from glassgate.config.schema import ApiKeysConfig, Config
    from glassgate.core.principal import Principal
    from glassgate.ports import ApiKeyStore

__all__ = [
    "ApiKeyAuthenticator",
    "ApiKeyCache",
    "CachedLookup",
    "build_api_key_authenticator",
]

_log = logging.getLogger("glassgate.api_keys")
_REPORT_EVERY = 30.0  # seconds between two log lines about a failing store


@dataclass(frozen=True, slots=True)
class CachedLookup:
    """What the store said about one key id (``record`` None: no such key), and until when."""

    record: ApiKeyRecord | None
    stored_at: float
    until: float


class ApiKeyCache:
    """Found keys for ``ttl`` seconds and missing ids for ``negative_ttl``, in two LRUs.

    The tables are separate so that misses (which anyone can produce at will)
    only ever evict other misses. An entry is dropped when it is too old, or
    when the clock has gone backwards past the time it was stored. Single
    event loop, no threads: no locks.
    """

    def __init__(
        self,
        ttl: float = 5.0,
        negative_ttl: float = 2.0,
        max_entries: int = 10_000,
        max_negative: int = 1_000,
    ) -> None:
        if min(max_entries, max_negative) < 1:
            raise ValueError("API key cache sizes must be at least 1")
        if min(ttl, negative_ttl) < 0:
            raise ValueError("API key cache TTLs cannot be negative")
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.max_entries = max_entries
        self.max_negative = max_negative
        self._found: OrderedDict[str, CachedLookup] = OrderedDict()
        self._missing: OrderedDict[str, CachedLookup] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._found) + len(self._missing)

    @property
    def negative_entries(self) -> int:
        return len(self._missing)

    def get(self, key_id: str, now: float) -> CachedLookup | None:
        for table in (self._found, self._missing):
            entry = table.get(key_id)
            if entry is None:
                continue
            if entry.stored_at <= now < entry.until:
                table.move_to_end(key_id)
                self.hits += 1
                return entry
            del table[key_id]
        self.misses += 1
        return None

    def put(self, key_id: str, record: ApiKeyRecord | None, now: float) -> None:
        ttl = self.ttl if record is not None else self.negative_ttl
        if ttl <= 0:
            return
        entry = CachedLookup(record, now, now + ttl)
        if record is not None:
            self._missing.pop(key_id, None)
            _remember(self._found, key_id, entry, self.max_entries)
        else:
            self._found.pop(key_id, None)
            _remember(self._missing, key_id, entry, self.max_negative)

    def clear(self) -> None:
        self._found.clear()
        self._missing.clear()


def _remember(
    table: OrderedDict[str, CachedLookup], key_id: str, entry: CachedLookup, limit: int
) -> None:
    table[key_id] = entry
    table.move_to_end(key_id)
    while len(table) > limit:
        table.popitem(last=False)


class ApiKeyAuthenticator:
    """``gg_`` key → ``Principal`` (or an ``ApiKeyError``), for one gateway state.

    ``opener`` opens the store; ``start`` runs it on the worker thread and
    ``aclose`` closes it. ``tiers`` are the configured quota tier names: a key
    whose tier is no longer configured is refused (``api-key-tier-unknown``)
    rather than silently served without its quota.
    """

    def __init__(
        self,
        opener: Callable[[], ApiKeyStore],
        *,
        tiers: frozenset[str],
        cache: ApiKeyCache | None = None,
        max_pending: int = 64,
    ) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self._opener = opener
        self._tiers = tiers
        self.cache = cache if cache is not None else ApiKeyCache()  # an empty one is falsy
        self._max_pending = max_pending
        self._store: ApiKeyStore | None = None
        self._runner = StoreRunner("api-keys")
        self._inflight: dict[str, asyncio.Future[ApiKeyRecord | None]] = {}
        self._reported_at: float | None = None
        self.lookups = 0
        self.failures = 0

    @classmethod
    def from_config(
        cls, config: ApiKeysConfig, opener: Callable[[], ApiKeyStore], tiers: frozenset[str]
    ) -> ApiKeyAuthenticator:
        cache = ApiKeyCache(
            config.cache_ttl,
            config.negative_cache_ttl,
            config.cache_size,
            config.negative_cache_size,
        )
        return cls(opener, tiers=tiers, cache=cache)

    async def start(self) -> None:
        """Open the store (``StorageUnavailableError`` if it cannot be opened)."""
        if self._store is None:
            self._store = await self._runner.run(self._opener)

    async def aclose(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            await self._runner.run(store.close)
        self._runner.close(wait=False)

    async def authenticate(self, raw: str, now: float) -> Principal:
        parsed = parse_api_key(raw)
        record = await self._record(parsed.key_id, now)
        principal = verify_api_key(parsed, record, now, raw)
        if principal.quota_tier is not None and principal.quota_tier not in self._tiers:
            raise ApiKeyTierUnknownError(
                f"API key {parsed.key_id} names quota tier '{principal.quota_tier}', which is "
                "not configured; restore the tier or re-create the key"
            )
        return principal

    async def _record(self, key_id: str, now: float) -> ApiKeyRecord | None:
        cached = self.cache.get(key_id, now)
        if cached is not None:
            return cached.record
        pending = self._inflight.get(key_id)
        if pending is None:
            if len(self._inflight) >= self._max_pending:
                self._report(now, "too many API key lookups at once")
                raise ApiKeyUnavailableError("too many API key lookups at once; retry shortly")
            pending = asyncio.ensure_future(self._load(key_id, now))
            self._inflight[key_id] = pending
            pending.add_done_callback(lambda done: self._finished(key_id, done))
        # Shielded: a client that goes away must not cancel a lookup others wait on.
        return await asyncio.shield(pending)

    def _finished(self, key_id: str, done: asyncio.Future[ApiKeyRecord | None]) -> None:
        self._inflight.pop(key_id, None)
        if not done.cancelled():
            done.exception()  # retrieved here, so an unawaited failure is never "lost"

    async def _load(self, key_id: str, now: float) -> ApiKeyRecord | None:
        store = self._store
        if store is None:
            raise ApiKeyUnavailableError("the API key store is not open")
        self.lookups += 1
        try:
            record = await self._runner.run(store.get, key_id)
        except StorageUnavailableError as exc:
            self.failures += 1
            self._report(now, str(exc))
            raise ApiKeyUnavailableError(f"the API key store cannot answer: {exc}") from exc
        self.cache.put(key_id, record, now)
        return record

    def _report(self, now: float, why: str) -> None:
        """One log line per ``_REPORT_EVERY`` seconds, however many keys are refused."""
        last = self._reported_at
        if last is None or now - last >= _REPORT_EVERY or now < last:
            self._reported_at = now
            _log.error("API keys are being refused: %s", why[:300])


def build_api_key_authenticator(
    config: Config, tiers: frozenset[str]
) -> ApiKeyAuthenticator | None:
    """The API-key authenticator for ``config``, or None when ``api_keys.enabled`` is false.

    Nothing is opened here: ``start`` opens the store (migrating it when
    ``storage.auto_migrate``), off the event loop.
    """
    settings = config.api_keys
    if not settings.enabled:
        return None
    target = StorageTarget.from_config(config.storage)
    migrate = config.storage.auto_migrate

    def opener() -> ApiKeyStore:
        return open_api_key_store(target, migrate=migrate)

    return ApiKeyAuthenticator.from_config(settings, opener, tiers)
