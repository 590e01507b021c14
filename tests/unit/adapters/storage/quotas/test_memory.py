"""adapters.storage.quotas.memory: TAT storage, pruning, and the key cap that fails closed."""

from __future__ import annotations

import asyncio

import pytest

from glassgate.adapters.storage.quotas import memory as quota_memory
from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.core.quota import QuotaResult, QuotaTier

NOW = 1_700_000_000.0
TIER = QuotaTier("t", rate=1, per=10, burst=2)  # interval 10 s


def _hit(store: MemoryQuotaStore, key: str, now: float, tier: QuotaTier = TIER) -> QuotaResult:
    return asyncio.run(store.hit(tier, key, now))


def test_burst_then_refused_then_recovered() -> None:
    store = MemoryQuotaStore()
    assert [_hit(store, "a", NOW).allowed for _ in range(3)] == [True, True, False]
    assert _hit(store, "a", NOW + 10.0).allowed


def test_the_same_key_in_two_tiers_is_two_buckets() -> None:
    store = MemoryQuotaStore()
    other = QuotaTier("other", rate=1, per=10, burst=1)
    assert _hit(store, "a", NOW, other).allowed
    assert _hit(store, "a", NOW).allowed
    assert len(store) == 2


def test_expired_buckets_are_pruned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quota_memory, "_PRUNE_EVERY", 3)
    store = MemoryQuotaStore()
    _hit(store, "old-1", NOW)
    _hit(store, "old-2", NOW)
    assert len(store) == 2
    _hit(store, "new", NOW + 100.0)  # the third insertion prunes what lies in the past
    assert len(store) == 1


def test_a_full_table_refuses_new_keys_but_serves_known_ones() -> None:
    store = MemoryQuotaStore(max_keys=2)
    assert _hit(store, "a", NOW).allowed
    assert _hit(store, "b", NOW).allowed
    refused = _hit(store, "c", NOW)
    assert not refused.allowed  # fail closed: an untracked key would never be limited
    assert refused.retry_after == TIER.interval
    assert _hit(store, "a", NOW).allowed  # known keys keep their buckets
    assert _hit(store, "c", NOW + 20.0).allowed  # once buckets expire there is room again


def test_a_full_table_is_not_rescanned_on_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryQuotaStore(max_keys=1)
    _hit(store, "a", NOW)
    scans = 0
    original = store._prune

    def counting(now: float) -> None:
        nonlocal scans
        scans += 1
        original(now)

    monkeypatch.setattr(store, "_prune", counting)
    for i in range(50):
        _hit(store, f"flood-{i}", NOW + 0.001 * i)
    assert scans == 1


def test_max_keys_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_keys"):
        MemoryQuotaStore(max_keys=0)
