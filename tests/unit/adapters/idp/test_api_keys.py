"""API keys on the request path: the cache, the authenticator and the credential router."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from glassgate.adapters.idp.api_keys import (
    ApiKeyAuthenticator,
    ApiKeyCache,
    build_api_key_authenticator,
)
from glassgate.adapters.idp.credentials import CredentialRouter
from glassgate.adapters.storage.api_keys.memory import MemoryApiKeyStore
from glassgate.config.load import load_config_text
from glassgate.core.principal import CredentialKind, Principal
from glassgate.errors import (
    ApiKeyMalformedError,
    ApiKeyRevokedError,
    ApiKeysDisabledError,
    ApiKeySecretMismatchError,
    ApiKeyTierUnknownError,
    ApiKeyUnavailableError,
    ApiKeyUnknownError,
    CredentialUnavailableError,
    StorageUnavailableError,
    TokenError,
)
from glassgate.tokens.api_keys import ApiKeyRecord, issue_api_key
from tests.support.polling import eventually_async

T0 = 1_790_000_000.0
_T = TypeVar("_T")


def run(coro: Awaitable[_T]) -> _T:
    async def main() -> _T:
        return await coro

    return asyncio.run(main())


class CountingStore(MemoryApiKeyStore):
    """A memory store that counts lookups, can fail, and can hold lookups until released."""

    def __init__(self) -> None:
        super().__init__()
        self.gets = 0
        self.fail = False
        self.gate: threading.Event | None = None

    def get(self, key_id: str) -> ApiKeyRecord | None:
        self.gets += 1
        if self.gate is not None:
            self.gate.wait(5)
        if self.fail:
            raise StorageUnavailableError("sqlite: cannot read an API key: disk I/O error")
        return super().get(key_id)


def new_key(store: MemoryApiKeyStore, **changes: object) -> tuple[str, ApiKeyRecord]:
    fields: dict[str, object] = {
        "name": "ci-bot",
        "subject": "svc:ci",
        "now": T0,
        "groups": ("robots",),
        "routes": ("machine",),
        "quota_tier": "small",
        "expires_at": T0 + 86_400,
    }
    fields.update(changes)
    issued = issue_api_key(**fields)  # type: ignore[arg-type]
    store.add(issued.record)
    return issued.key.reveal(), issued.record


def random_key() -> str:
    key_id = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(12))
    return f"gg_{key_id}_{secrets.token_urlsafe(32)}"


def authenticator(
    store: CountingStore, *, ttl: float = 5.0, negative_ttl: float = 2.0, **options: int
) -> ApiKeyAuthenticator:
    cache = ApiKeyCache(
        ttl,
        negative_ttl,
        options.pop("max_entries", 100),
        options.pop("max_negative", 10),
    )
    return ApiKeyAuthenticator(lambda: store, tiers=frozenset({"small"}), cache=cache, **options)


def started(
    store: CountingStore, body: Callable[[ApiKeyAuthenticator], Awaitable[_T]], **kw: float
) -> _T:
    async def go() -> _T:
        auth = authenticator(store, **kw)  # type: ignore[arg-type]
        await auth.start()
        try:
            return await body(auth)
        finally:
            await auth.aclose()

    return asyncio.run(go())


# --- the cache ------------------------------------------------------------------------


def record_for(store: MemoryApiKeyStore) -> ApiKeyRecord:
    return new_key(store)[1]


def test_cache_entries_live_for_their_ttl() -> None:
    cache = ApiKeyCache(ttl=5, negative_ttl=1)
    record = record_for(MemoryApiKeyStore())
    cache.put(record.key_id, record, T0)
    cache.put("aaaaaaaaaaaa", None, T0)
    assert cache.get(record.key_id, T0 + 4.99) is not None
    assert cache.get("aaaaaaaaaaaa", T0 + 0.99) is not None
    assert cache.get("aaaaaaaaaaaa", T0 + 1) is None
    assert cache.get(record.key_id, T0 + 5) is None
    assert len(cache) == 0


def test_cache_drops_entries_when_the_clock_goes_back() -> None:
    cache = ApiKeyCache()
    record = record_for(MemoryApiKeyStore())
    cache.put(record.key_id, record, T0)
    assert cache.get(record.key_id, T0 - 3600) is None


def test_a_zero_ttl_caches_nothing() -> None:
    cache = ApiKeyCache(ttl=0, negative_ttl=0)
    record = record_for(MemoryApiKeyStore())
    cache.put(record.key_id, record, T0)
    cache.put("aaaaaaaaaaaa", None, T0)
    assert len(cache) == 0


def test_a_flood_of_misses_is_bounded_and_never_evicts_found_keys() -> None:
    cache = ApiKeyCache(max_entries=5, max_negative=50)
    store = MemoryApiKeyStore()
    found = [record_for(store) for _ in range(5)]
    for record in found:
        cache.put(record.key_id, record, T0)
    for index in range(10_000):
        cache.put(f"miss{index:08d}", None, T0)
    assert cache.negative_entries == 50
    assert len(cache) == 55
    assert all(cache.get(record.key_id, T0 + 1) is not None for record in found)


def test_found_keys_are_bounded_least_recently_used_first() -> None:
    cache = ApiKeyCache(max_entries=2)
    store = MemoryApiKeyStore()
    first, second, third = record_for(store), record_for(store), record_for(store)
    cache.put(first.key_id, first, T0)
    cache.put(second.key_id, second, T0)
    cache.get(first.key_id, T0)
    cache.put(third.key_id, third, T0)
    assert cache.get(second.key_id, T0) is None
    assert cache.get(first.key_id, T0) is not None


def test_a_deleted_key_replaces_its_found_entry() -> None:
    cache = ApiKeyCache()
    record = record_for(MemoryApiKeyStore())
    cache.put(record.key_id, record, T0)
    cache.put(record.key_id, None, T0 + 6)
    entry = cache.get(record.key_id, T0 + 6)
    assert entry is not None
    assert entry.record is None


@pytest.mark.parametrize("args", [(1, 1, 0, 1), (1, 1, 1, 0), (-1, 1, 1, 1)])
def test_cache_misuse_is_a_value_error(args: tuple[float, float, int, int]) -> None:
    with pytest.raises(ValueError, match="API key cache"):
        ApiKeyCache(*args)


# --- the authenticator ----------------------------------------------------------------


def test_a_valid_key_authenticates_and_is_then_served_from_the_cache() -> None:
    store = CountingStore()
    key, record = new_key(store)

    async def body(auth: ApiKeyAuthenticator) -> list[Principal]:
        return [await auth.authenticate(key, T0 + offset) for offset in (1, 2, 5.9, 6.1)]

    principals = started(store, body)
    assert {p.subject for p in principals} == {"svc:ci"}
    assert principals[0].kind is CredentialKind.API_KEY
    assert principals[0].token_id == record.key_id
    assert store.gets == 2  # the first call, then once the 5 s TTL had passed


def test_a_revocation_bites_within_the_ttl() -> None:
    store = CountingStore()
    key, record = new_key(store)

    async def body(auth: ApiKeyAuthenticator) -> None:
        await auth.authenticate(key, T0)
        store.revoke(record.key_id, T0 + 0.5)
        await auth.authenticate(key, T0 + 1)  # still cached: accepted within the TTL
        with pytest.raises(ApiKeyRevokedError):
            await auth.authenticate(key, T0 + 5)

    started(store, body)


def test_a_wrong_secret_is_refused_even_with_the_record_cached() -> None:
    store = CountingStore()
    key, _ = new_key(store)
    forged = key[:16] + random_key()[16:]

    async def body(auth: ApiKeyAuthenticator) -> None:
        await auth.authenticate(key, T0)
        for _ in range(3):
            with pytest.raises(ApiKeySecretMismatchError):
                await auth.authenticate(forged, T0 + 1)

    started(store, body)
    assert store.gets == 1


def test_unknown_keys_are_cached_briefly() -> None:
    store = CountingStore()
    unknown = random_key()

    async def body(auth: ApiKeyAuthenticator) -> None:
        for now in (T0, T0 + 1, T0 + 2.5):
            with pytest.raises(ApiKeyUnknownError):
                await auth.authenticate(unknown, now)

    started(store, body)
    assert store.gets == 2  # negative TTL 2 s


def test_a_flood_of_random_keys_keeps_memory_bounded() -> None:
    store = CountingStore()
    key, _ = new_key(store)

    async def body(auth: ApiKeyAuthenticator) -> tuple[int, int]:
        await auth.authenticate(key, T0)
        for index in range(500):
            with pytest.raises(ApiKeyUnknownError):
                await auth.authenticate(random_key(), T0 + index / 1000)
        await auth.authenticate(key, T0 + 1)  # the real key is still cached
        return auth.cache.negative_entries, len(auth.cache)

    negative, total = started(store, body)
    assert negative == 10
    assert total == 11
    assert store.gets == 501


def test_malformed_keys_never_reach_the_store() -> None:
    store = CountingStore()

    async def body(auth: ApiKeyAuthenticator) -> None:
        for raw in ("gg_", "gg_" + "x" * 5000, "gg_abcdefgh2345_short"):
            with pytest.raises(ApiKeyMalformedError):
                await auth.authenticate(raw, T0)

    started(store, body)
    assert store.gets == 0


def test_concurrent_misses_for_one_key_share_one_lookup() -> None:
    store = CountingStore()
    key, _ = new_key(store)
    store.gate = threading.Event()

    async def body(auth: ApiKeyAuthenticator) -> list[Principal]:
        calls = [asyncio.ensure_future(auth.authenticate(key, T0)) for _ in range(50)]
        await eventually_async(lambda: store.gets == 1, what="the lookup to reach the store")
        store.gate.set()  # type: ignore[union-attr]
        return await asyncio.gather(*calls)

    assert len(started(store, body)) == 50
    assert store.gets == 1


def test_a_cancelled_caller_does_not_cancel_the_shared_lookup() -> None:
    store = CountingStore()
    key, _ = new_key(store)
    store.gate = threading.Event()

    async def body(auth: ApiKeyAuthenticator) -> Principal:
        first = asyncio.ensure_future(auth.authenticate(key, T0))
        second = asyncio.ensure_future(auth.authenticate(key, T0))
        await eventually_async(lambda: store.gets == 1, what="the lookup to reach the store")
        first.cancel()
        store.gate.set()  # type: ignore[union-attr]
        return await second

    assert started(store, body).subject == "svc:ci"


def test_lookups_in_flight_are_bounded() -> None:
    store = CountingStore()
    store.gate = threading.Event()

    async def body(auth: ApiKeyAuthenticator) -> None:
        waiting = [asyncio.ensure_future(auth.authenticate(random_key(), T0)) for _ in range(2)]
        await eventually_async(lambda: store.gets == 1, what="the first lookup to be running")
        with pytest.raises(ApiKeyUnavailableError, match="too many"):
            await auth.authenticate(random_key(), T0)
        store.gate.set()  # type: ignore[union-attr]
        for task in waiting:
            with pytest.raises(ApiKeyUnknownError):
                await task

    started(store, body, max_pending=2)


def test_a_failing_store_refuses_keys_and_is_not_cached(caplog: pytest.LogCaptureFixture) -> None:
    store = CountingStore()
    key, _ = new_key(store)
    store.fail = True

    async def body(auth: ApiKeyAuthenticator) -> Principal:
        for offset in range(3):
            with pytest.raises(ApiKeyUnavailableError) as caught:
                await auth.authenticate(key, T0 + offset)
            assert isinstance(caught.value, CredentialUnavailableError)  # 503, never 401
            assert not isinstance(caught.value, TokenError)
            assert caught.value.detail == "api-key-store-unavailable"
        store.fail = False
        return await auth.authenticate(key, T0 + 3)

    with caplog.at_level(logging.ERROR, logger="glassgate.api_keys"):
        assert started(store, body).subject == "svc:ci"
    assert store.gets == 4
    assert len(caplog.records) == 1  # one line per 30 s, not one per request
    assert key[16:] not in caplog.text


def test_a_key_whose_tier_is_gone_is_refused() -> None:
    store = CountingStore()
    key, _ = new_key(store, quota_tier="retired")

    async def body(auth: ApiKeyAuthenticator) -> None:
        with pytest.raises(ApiKeyTierUnknownError, match="retired"):
            await auth.authenticate(key, T0)

    started(store, body)


def test_lookups_before_start_fail_closed() -> None:
    store = CountingStore()
    key, _ = new_key(store)
    with pytest.raises(ApiKeyUnavailableError):
        run(authenticator(store).authenticate(key, T0))


def test_misuse() -> None:
    with pytest.raises(ValueError, match="max_pending"):
        ApiKeyAuthenticator(MemoryApiKeyStore, tiers=frozenset(), max_pending=0)


# --- the router -----------------------------------------------------------------------


class Recording:
    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[str] = []

    async def authenticate(self, raw: str, now: float) -> Principal:
        self.seen.append(raw)
        return Principal(subject=self.name, issuer="test")


@pytest.mark.parametrize(
    ("raw", "route"),
    [
        ("gg_abcdefgh2345_" + "A" * 43, "keys"),
        ("GG_whatever", "keys"),
        ("gg_", "keys"),
        ("eyJhbGciOiJSUzI1NiJ9.e30.sig", "idp"),
        ("opaque-token-value", "idp"),
    ],
)
def test_router_sends_gg_credentials_to_api_keys_only(raw: str, route: str) -> None:
    idp, keys = Recording("idp"), Recording("keys")
    principal = run(CredentialRouter(idp, keys).authenticate(raw, T0))
    assert principal.subject == route
    assert (idp.seen, keys.seen) == (([], [raw]) if route == "keys" else ([raw], []))


def test_with_api_keys_disabled_a_key_is_refused_and_never_reaches_the_idp() -> None:
    idp = Recording("idp")
    router = CredentialRouter(idp, None)
    with pytest.raises(ApiKeysDisabledError) as caught:
        run(router.authenticate(random_key(), T0))
    assert caught.value.detail == "api-key-disabled"
    assert idp.seen == []
    assert run(router.authenticate("eyJ.e30.sig", T0)).subject == "idp"


# --- composition ----------------------------------------------------------------------

CONFIG = """
issuers:
  - id: idp
    issuer: https://idp.example
    audiences: [api]
    jwks_uri: https://idp.example/jwks
quotas: {{small: {{rate: 1, burst: 2, key: api_key}}}}
storage: {{sqlite: {{path: "{db}"}}}}
api_keys: {{enabled: {enabled}, cache_ttl: 3s, negative_cache_size: 7}}
"""


def test_built_from_config_only_when_enabled(tmp_path: Path) -> None:
    db = tmp_path / "keys.db"
    disabled = load_config_text(CONFIG.format(db=db, enabled="false"), "t.yaml", {}).config
    assert build_api_key_authenticator(disabled, frozenset()) is None
    assert not db.exists()  # nothing opened for a feature that is off
    config = load_config_text(CONFIG.format(db=db, enabled="true"), "t.yaml", {}).config
    auth = build_api_key_authenticator(config, frozenset({"small"}))
    assert auth is not None
    assert (auth.cache.ttl, auth.cache.max_negative) == (3.0, 7)

    async def go() -> None:
        await auth.start()  # opens (and migrates) the configured database
        with pytest.raises(ApiKeyUnknownError):
            await auth.authenticate(random_key(), T0)
        await auth.aclose()

    asyncio.run(go())
    assert db.exists()


def test_revoked_record_replacement_is_seen_after_ttl() -> None:
    """A record replaced in the store (revocation) replaces the cached one after the TTL."""
    store = CountingStore()
    key, record = new_key(store)

    async def body(auth: ApiKeyAuthenticator) -> None:
        await auth.authenticate(key, T0)
        store._records[record.key_id] = dataclasses.replace(record, revoked_at=T0)
        with pytest.raises(ApiKeyRevokedError):
            await auth.authenticate(key, T0 + 5.0)

    started(store, body)
