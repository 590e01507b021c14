"""KeyRing: one issuer's verification keys and how much to trust them (pure, immutable).

A ring holds the keys of the last good JWKS, when that JWKS was fetched, and when
an unknown ``kid`` last caused a refresh. It never does I/O and never reads the
clock: the key source (``adapters/idp/jwks.py``) fetches, builds a new ring and
swaps it in, so a reader always sees one consistent set.

Rules (RFC 7517 §4, RFC 8725 §3.1, RFC 7515 §4.1.4):

- a key is picked by ``kid`` only; a token without ``kid`` is accepted only when
  exactly one key fits its ``alg``;
- the key must fit the algorithm: RS256/PS256 need RSA of at least 2048 bits,
  ES256 an EC P-256 key, EdDSA an OKP Ed25519 key; a key's own ``alg``, ``use``
  and ``key_ops`` must agree;
- once the last good fetch is older than ``max_staleness``, every lookup fails
  closed with ``KeysStaleError``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from glassgate.errors import KeyMismatchError, KeysStaleError, UnknownKeyError
from glassgate.tokens import _jose
from glassgate.tokens.headers import show
from glassgate.tokens.issuers import SAFE_ALGORITHMS

__all__ = ["MIN_RSA_BITS", "KeyRing", "SigningKey", "parse_jwks"]

MIN_RSA_BITS: Final = 2048
_KEY_SHAPES: Final = {
    "RS256": ("RSA", None),
    "PS256": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "EdDSA": ("OKP", "Ed25519"),
}


def _mismatch(facts: _jose.KeyFacts, alg: str) -> str | None:
    """Why a key with ``facts`` cannot verify ``alg``, or ``None`` if it can."""
    kty, crv = _KEY_SHAPES[alg]
    if facts.kty != kty:
        return f"{alg} needs a {kty} key, not {facts.kty}"
    if crv is not None and facts.crv != crv:
        return f"{alg} needs curve {crv}, not {facts.crv}"
    if kty == "RSA" and (facts.bits or 0) < MIN_RSA_BITS:
        return f"{alg} needs an RSA key of at least {MIN_RSA_BITS} bits, not {facts.bits}"
    if facts.alg is not None and facts.alg != alg:
        return f"the key is for {show(facts.alg)}, not {alg}"
    if facts.use is not None and facts.use != "sig":
        return f"the key's use is {show(facts.use)}, not 'sig'"
    if facts.key_ops is not None and "verify" not in facts.key_ops:
        return "the key's key_ops do not include 'verify'"
    return None


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One public key from the JWKS, with the algorithms it may verify."""

    kid: str | None
    facts: _jose.KeyFacts
    algorithms: frozenset[str]
    handle: _jose.JoseKey = field(compare=False, repr=False)

    @classmethod
    def from_jwk(cls, data: Mapping[str, Any]) -> SigningKey:
        """Import one JWK; raises ``KeyMismatchError`` if it is unusable."""
        kid = data.get("kid")
        if kid is not None and type(kid) is not str:
            raise KeyMismatchError("the JWK's 'kid' is not a string")
        handle, facts = _jose.import_jwk(data)
        usable = frozenset(alg for alg in SAFE_ALGORITHMS if _mismatch(facts, alg) is None)
        return cls(kid, facts, usable, handle)

    def why_not(self, alg: str) -> str:
        return _mismatch(self.facts, alg) or f"the key cannot verify {alg}"


@dataclass(frozen=True, slots=True)
class KeyRing:
    """An issuer's keys as of ``last_success``; build a new ring to change it."""

    issuer_id: str
    keys: tuple[SigningKey, ...] = ()
    last_success: float | None = None
    last_unknown_kid_refresh: float | None = None
    max_staleness: float = 86400.0
    unknown_kid_min_interval: float = 10.0
    _by_kid: Mapping[str, tuple[SigningKey, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        by_kid: dict[str, tuple[SigningKey, ...]] = {}
        for key in self.keys:
            if key.kid is not None:
                by_kid[key.kid] = (*by_kid.get(key.kid, ()), key)
        object.__setattr__(self, "_by_kid", by_kid)

    def check_fresh(self, now: float) -> None:
        """Fail closed when the keys are older than ``max_staleness`` (or absent)."""
        if self.last_success is None:
            raise KeysStaleError(f"no keys have been loaded yet for issuer {self.issuer_id!r}")
        age = now - self.last_success
        if age > self.max_staleness:
            raise KeysStaleError(
                f"the keys of issuer {self.issuer_id!r} are {age:.0f}s old "
                f"(limit {self.max_staleness:.0f}s); failing closed"
            )

    def lookup(self, kid: str | None, alg: str, now: float) -> SigningKey:
        """The key to verify a token with ``kid`` and ``alg``, or raise."""
        self.check_fresh(now)
        if kid is None:
            fitting = [key for key in self.keys if alg in key.algorithms]
            if len(fitting) == 1:
                return fitting[0]
            raise UnknownKeyError(
                f"the token has no 'kid' and {len(fitting)} keys of issuer "
                f"{self.issuer_id!r} fit {alg}; exactly one must"
            )
        candidates = self._by_kid.get(kid)
        if not candidates:
            raise UnknownKeyError(f"issuer {self.issuer_id!r} has no key with kid {show(kid)}")
        for key in candidates:
            if alg in key.algorithms:
                return key
        raise KeyMismatchError(f"key {show(kid)}: {candidates[0].why_not(alg)}")

    def should_refresh_for_unknown_kid(self, now: float) -> bool:
        """At most one unknown-``kid`` refresh per ``unknown_kid_min_interval``, so a
        flood of made-up ``kid`` values cannot turn into a flood of fetches."""
        last = self.last_unknown_kid_refresh
        return last is None or now < last or now - last >= self.unknown_kid_min_interval

    def with_unknown_kid_refresh(self, now: float) -> KeyRing:
        """This ring, noting that an unknown ``kid`` caused a refresh at ``now``."""
        return dataclasses.replace(self, last_unknown_kid_refresh=now)

    def replace(self, keys: tuple[SigningKey, ...], now: float) -> KeyRing:
        """A new ring with ``keys`` from a fetch that succeeded at ``now``."""
        return dataclasses.replace(self, keys=keys, last_success=now)


def parse_jwks(
    document: object, max_keys: int = 100
) -> tuple[tuple[SigningKey, ...], tuple[str, ...]]:
    """The usable keys of a JWK Set (RFC 7517 §5) and why the others were skipped.

    One bad key does not sink the set (RFC 7517 §5: ignore keys you do not
    understand): encryption keys, ``oct`` keys, small RSA keys, other curves and
    malformed entries are skipped with a reason. Only a document that is not a
    JWK Set raises (``ValueError``).
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list | tuple):
        raise ValueError("the JWKS is not a JSON object with a 'keys' array")
    entries = document["keys"]
    keys: list[SigningKey] = []
    skipped: list[str] = []
    if len(entries) > max_keys:
        skipped.append(f"{len(entries) - max_keys} keys past the first {max_keys}")
    for index, entry in enumerate(entries[:max_keys]):
        reason = _skip_reason(entry)
        if reason is None:
            try:
                key = SigningKey.from_jwk(entry)
            except KeyMismatchError as exc:
                reason = str(exc)
            else:
                if key.algorithms:
                    keys.append(key)
                    continue
                reason = "fits none of " + ", ".join(sorted(SAFE_ALGORITHMS))
        skipped.append(f"keys[{index}]: {reason}")
    return tuple(keys), tuple(skipped)


def _skip_reason(entry: object) -> str | None:
    if not isinstance(entry, Mapping):
        return "not a JSON object"
    use = entry.get("use")
    if use is not None and use != "sig":
        return f"use is {show(use)}, not 'sig'"
    return None
