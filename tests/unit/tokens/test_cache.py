"""VerifiedTokenCache: bounded, LRU, never past expiry."""

from __future__ import annotations

import pytest

from glassgate.core.principal import Principal
from glassgate.tokens.cache import CachedToken, VerifiedTokenCache


def entry(expires_at: float = 100.0, subject: str = "s") -> CachedToken:
    return CachedToken(Principal(subject=subject, issuer="i"), expires_at, "issuer")


def test_hit_before_expiry_and_miss_at_expiry() -> None:
    cache = VerifiedTokenCache(10)
    cache.put("k", entry(100.0))
    assert cache.get("k", 99.999) is not None
    assert cache.get("k", 100.0) is None
    assert len(cache) == 0  # the expired entry is gone
    assert (cache.hits, cache.misses) == (1, 1)


def test_least_recently_used_goes_first() -> None:
    cache = VerifiedTokenCache(2)
    cache.put("a", entry(subject="a"))
    cache.put("b", entry(subject="b"))
    assert cache.get("a", 0) is not None  # a is now the most recent
    cache.put("c", entry(subject="c"))
    assert cache.get("b", 0) is None
    assert cache.get("a", 0) is not None
    assert cache.get("c", 0) is not None
    assert len(cache) == 2


def test_put_replaces_and_discard_clear() -> None:
    cache = VerifiedTokenCache(2)
    cache.put("a", entry(subject="old"))
    cache.put("a", entry(subject="new"))
    found = cache.get("a", 0)
    assert found is not None
    assert found.principal.subject == "new"
    cache.discard("a")
    cache.discard(b"missing")
    assert cache.get("a", 0) is None
    cache.put("b", entry())
    cache.clear()
    assert len(cache) == 0


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        VerifiedTokenCache(0)
