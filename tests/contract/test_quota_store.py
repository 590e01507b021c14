"""The ``QuotaStore`` port, run against every store: memory and Redis.

Both must give exactly the answers of ``core.quota.gcra`` for the same
sequence of hits (the Redis store runs a Lua copy of that arithmetic), keep
one bucket per tier and key, leave state untouched on a refusal, and never
let concurrent hits overspend a burst.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable

import pytest

from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.core.quota import QuotaResult, QuotaTier, gcra
from glassgate.ports import QuotaStore
from tests.support.redis_server import RedisServer

NOW = 1_700_000_000.0
BACKENDS = [
    pytest.param("memory", id="backend=memory"),
    pytest.param("redis", id="backend=redis", marks=pytest.mark.integration),
]

Scenario = Callable[[QuotaStore], Awaitable[None]]
Run = Callable[[Scenario], None]


@pytest.fixture(params=BACKENDS)
def run(request: pytest.FixtureRequest) -> Run:
    """Runs a scenario against a fresh, empty store on its own event loop."""
    server: RedisServer | None = None
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")

    def runner(scenario: Scenario) -> None:
        async def go() -> None:
            if server is None:
                await scenario(MemoryQuotaStore())
                return
            from glassgate.adapters.storage.quotas.redis import RedisQuotaStore

            store = RedisQuotaStore.from_url(server.url, prefix=f"test:{uuid.uuid4().hex}:")
            try:
                await scenario(store)
            finally:
                await store.aclose()

        asyncio.run(go())

    return runner


async def _burst(store: QuotaStore, tier: QuotaTier, key: str, now: float) -> list[QuotaResult]:
    results = []
    for _ in range(tier.burst + 3):
        results.append(await store.hit(tier, key, now))
        if not results[-1].allowed:
            break
    return results


def test_burst_then_refused_with_exact_numbers(run: Run) -> None:
    async def scenario(store: QuotaStore) -> None:
        tier = QuotaTier("t", rate=2, per=1, burst=4)  # interval 0.5 s
        results = await _burst(store, tier, "alice", NOW)
        assert [r.allowed for r in results] == [True, True, True, True, False]
        assert [r.remaining for r in results] == [3, 2, 1, 0, 0]
        assert results[-1].retry_after == 0.5
        assert results[-1].reset_after == 2.0

    run(scenario)


def test_a_refusal_leaves_the_bucket_unchanged(run: Run) -> None:
    async def scenario(store: QuotaStore) -> None:
        tier = QuotaTier("t", rate=1, per=4, burst=1)
        first = await store.hit(tier, "k", NOW)
        refused = [await store.hit(tier, "k", NOW + 1.0) for _ in range(3)]
        assert first.allowed
        assert not any(r.allowed for r in refused)
        assert {r.tat for r in refused} == {first.tat}
        assert (await store.hit(tier, "k", NOW + 4.0)).allowed

    run(scenario)


def test_buckets_are_separate_per_key_and_per_tier(run: Run) -> None:
    async def scenario(store: QuotaStore) -> None:
        small = QuotaTier("small", rate=1, per=60, burst=2)
        other = QuotaTier("other", rate=1, per=60, burst=2)
        assert [r.allowed for r in await _burst(store, small, "alice", NOW)] == [True, True, False]
        assert [r.allowed for r in await _burst(store, small, "bob", NOW)] == [True, True, False]
        assert (await store.hit(other, "alice", NOW)).allowed

    run(scenario)


@pytest.mark.parametrize(
    ("rate", "per", "burst"),
    [(3, 1, 3), (10, 1, 10), (7, 3, 7), (100, 60, 20)],
    ids=["case=3-per-s", "case=10-per-s", "case=7-per-3s", "case=100-per-min"],
)
def test_burst_is_whole_for_rates_that_are_not_binary_fractions(
    run: Run, rate: int, per: int, burst: int
) -> None:
    async def scenario(store: QuotaStore) -> None:
        tier = QuotaTier("t", rate=rate, per=per, burst=burst)
        results = await _burst(store, tier, "k", NOW)
        assert [r.allowed for r in results] == [True] * burst + [False]
        # within float resolution at Unix time (one ulp is ~2.4e-7 s, and a burst adds up)
        assert results[-1].retry_after == pytest.approx(tier.interval, abs=1e-5)

    run(scenario)


def test_answers_match_the_core_arithmetic_exactly(run: Run) -> None:
    """A long random walk of hits on a few keys: every field equals ``core.quota.gcra``'s."""

    async def scenario(store: QuotaStore) -> None:
        rng = random.Random(20240601)
        tiers = [QuotaTier("a", rate=5, per=1, burst=3), QuotaTier("b", rate=7, per=3, burst=5)]
        model: dict[tuple[str, str], float] = {}
        now = NOW
        for _ in range(300):
            now += rng.choice([0.0, 0.0, 0.01, 0.05, 0.1, 0.137, 0.5, 2.0])
            tier, key = rng.choice(tiers), rng.choice(["x", "y"])
            expected = gcra(tier, model.get((tier.name, key)), now)
            if expected.allowed:
                model[(tier.name, key)] = expected.tat
            assert await store.hit(tier, key, now) == expected

    run(scenario)


def test_concurrent_hits_never_overspend_a_burst(run: Run) -> None:
    async def scenario(store: QuotaStore) -> None:
        tier = QuotaTier("t", rate=1, per=60, burst=5)
        results = await asyncio.gather(*(store.hit(tier, "shared", NOW) for _ in range(20)))
        assert sum(r.allowed for r in results) == 5

    run(scenario)
