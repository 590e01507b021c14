"""In-memory quota counters (one process): the GCRA state is one float per key.

The arithmetic is ``core.quota.gcra``; this adapter only stores TATs. Entries
whose TAT lies in the past carry no information and are pruned, which bounds
memory by the number of keys active within one burst window.
"""

from __future__ import annotations

from glassgate.core.quota import QuotaResult, QuotaTier, gcra

__all__ = ["MemoryQuotaStore"]

_PRUNE_EVERY = 4096


class MemoryQuotaStore:
    def __init__(self, max_keys: int = 1_000_000) -> None:
        self._tats: dict[str, float] = {}
        self._max_keys = max_keys
        self._since_prune = 0

    def hit(self, tier: QuotaTier, key: str, now: float) -> QuotaResult:
        bucket = f"{tier.name}\x00{key}"
        result = gcra(tier, self._tats.get(bucket), now)
        if result.allowed:
            self._tats[bucket] = result.tat
            self._since_prune += 1
            if self._since_prune >= _PRUNE_EVERY or len(self._tats) > self._max_keys:
                self._prune(now)
        return result

    def _prune(self, now: float) -> None:
        self._since_prune = 0
        self._tats = {k: tat for k, tat in self._tats.items() if tat > now}
