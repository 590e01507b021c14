"""In-memory quota counters (one process): the GCRA state is one float per key.

The arithmetic is ``core.quota.gcra``; this adapter only stores TATs. Entries
whose TAT lies in the past carry no information and are pruned, which bounds
memory by the number of keys active within one burst window.

``max_keys`` caps that number against a flood of distinct keys (a
``client_ip`` tier over IPv6 makes new keys cheap). While the table is full of
live buckets a new key is refused (fail closed: an untracked key would never
be limited), and the O(n) prune that might free room runs at most once per
``_FULL_PRUNE_GAP`` seconds, so a full table cannot turn every request into a scan.
"""

from __future__ import annotations

from glassgate.core.quota import QuotaResult, QuotaTier, gcra

__all__ = ["MemoryQuotaStore"]

_PRUNE_EVERY = 4096
_FULL_PRUNE_GAP = 1.0


class MemoryQuotaStore:
    def __init__(self, max_keys: int = 1_000_000) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self._tats: dict[str, float] = {}
        self._max_keys = max_keys
        self._since_prune = 0
        self._full_pruned_at: float | None = None

    def __len__(self) -> int:
        return len(self._tats)

    async def hit(self, tier: QuotaTier, key: str, now: float) -> QuotaResult:
        """Async only to fit the ``QuotaStore`` port; it never awaits."""
        bucket = f"{tier.name}\x00{key}"
        tat = self._tats.get(bucket)
        if tat is None and len(self._tats) >= self._max_keys and not self._make_room(now):
            return QuotaResult(False, now, tier.interval, 0, tier.interval)
        result = gcra(tier, tat, now)
        if result.allowed:
            self._tats[bucket] = result.tat
            self._since_prune += 1
            if self._since_prune >= _PRUNE_EVERY:
                self._prune(now)
        return result

    async def aclose(self) -> None:
        """Nothing to release: the counters go with the process."""

    def _make_room(self, now: float) -> bool:
        last = self._full_pruned_at
        if last is None or now - last >= _FULL_PRUNE_GAP or now < last:
            self._full_pruned_at = now
            self._prune(now)
        return len(self._tats) < self._max_keys

    def _prune(self, now: float) -> None:
        self._since_prune = 0
        self._tats = {k: tat for k, tat in self._tats.items() if tat > now}
