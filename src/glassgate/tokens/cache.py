"""VerifiedTokenCache: skip re-verifying a token we have already accepted.

Keyed by the token's fingerprint (``core.principal.token_fingerprint``, never the token), bounded
(least recently used entries go first), O(1) per operation. An entry is never
returned at or after its ``expires_at`` (the token's ``exp``, or earlier), so the
cache can shorten a token's life but never extend it. The verifier also
re-checks, on every hit, that the signing key is still in the issuer's current
ring and the ring is not stale, so key removal and IdP outages still bite.

Single event loop, no threads: no locks.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

from glassgate.core.principal import Principal

__all__ = ["CachedToken", "VerifiedTokenCache"]


class CachedToken(NamedTuple):
    """A verified token's principal, with what it was verified against.

    A NamedTuple rather than a frozen dataclass: one is built for every newly
    verified token, and a tuple is much cheaper to build.
    """

    principal: Principal
    expires_at: float
    issuer_id: str
    kid: str | None = None
    alg: str = ""
    key_thumbprint: str = ""


class VerifiedTokenCache:
    """A bounded LRU of ``CachedToken`` by token fingerprint."""

    __slots__ = ("_entries", "hits", "max_entries", "misses")

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, CachedToken] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, fingerprint: str, now: float) -> CachedToken | None:
        """The entry for ``fingerprint`` if present and ``now`` is before its expiry."""
        entry = self._entries.get(fingerprint)
        if entry is None:
            self.misses += 1
            return None
        if now >= entry.expires_at:
            del self._entries[fingerprint]
            self.misses += 1
            return None
        self._entries.move_to_end(fingerprint)
        self.hits += 1
        return entry

    def put(self, fingerprint: str, entry: CachedToken) -> None:
        """Remember ``entry``; the least recently used entry goes when full."""
        entries = self._entries
        entries[fingerprint] = entry
        entries.move_to_end(fingerprint)
        if len(entries) > self.max_entries:
            entries.popitem(last=False)

    def discard(self, fingerprint: str) -> None:
        self._entries.pop(fingerprint, None)

    def clear(self) -> None:
        self._entries.clear()
