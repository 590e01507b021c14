"""TokenVerifier end to end, pure: raw token + key rings + now → Principal."""

from __future__ import annotations

import dataclasses

import pytest

from glassgate.core.principal import token_fingerprint
from glassgate.errors import (
    KeysStaleError,
    TokenExpiredError,
    TokenMalformedError,
    UnknownKeyError,
    UntrustedIssuerError,
)
from glassgate.tokens import (
    IssuerPolicy,
    KeyRing,
    TokenVerifier,
    VerifiedTokenCache,
)
from tests.support import tokens as t

NOW = t.NOW
ALL_ALGS = frozenset({"RS256", "PS256", "ES256", "EdDSA"})


def verifier(cache: VerifiedTokenCache | None = None, **policy: object) -> TokenVerifier:
    return TokenVerifier([t.policy(**policy)], cache)


@pytest.mark.parametrize(
    ("kid", "alg"), [("rsa-1", "RS256"), ("rsa-2", "PS256"), ("ec-1", "ES256"), ("ed-1", "EdDSA")]
)
def test_every_safe_algorithm_verifies(kid: str, alg: str) -> None:
    raw = t.token(kid=kid, alg=alg)
    principal = verifier(algorithms=ALL_ALGS).verify(raw, t.rings(), NOW)
    assert principal.subject == "alice"
    assert principal.token_hash == token_fingerprint(raw)


def test_bytes_are_accepted_too() -> None:
    assert verifier().verify(t.token().encode(), t.rings(), NOW).subject == "alice"


@pytest.mark.parametrize("raw", ["é.b.c", b"\xff.b.c", bytearray(b"a.b.c")])
def test_non_ascii_or_odd_types_are_malformed(raw: object) -> None:
    with pytest.raises(TokenMalformedError):
        verifier().verify(raw, t.rings(), NOW)  # type: ignore[arg-type]


def test_the_issuer_is_picked_by_exact_iss() -> None:
    other = IssuerPolicy(
        "other", "https://other.example", frozenset({t.AUDIENCE}), frozenset({"ES256"})
    )
    both = TokenVerifier([t.policy(), other])
    rings = {**t.rings(), "other": dataclasses.replace(t.ring(("ec-1",)), issuer_id="other")}
    raw = t.token(kid="ec-1", alg="ES256", iss="https://other.example")
    assert both.verify(raw, rings, NOW).issuer == "https://other.example"
    assert both.issuer_id_of(raw) == "other"
    assert both.issuer_id_of(t.token()) == t.ISSUER_ID
    assert both.issuer_id_of(t.token(iss="https://nobody.example")) is None
    assert both.issuer_id_of("garbage") is None


def test_two_issuers_cannot_share_an_id_or_iss() -> None:
    with pytest.raises(ValueError, match="only once"):
        TokenVerifier([t.policy(), t.policy()])
    with pytest.raises(ValueError, match="only once"):
        TokenVerifier([t.policy(), t.policy(issuer="https://b.example")])


def test_unknown_issuer() -> None:
    with pytest.raises(UntrustedIssuerError):
        verifier().verify(t.token(iss="https://nobody.example"), t.rings(), NOW)


def test_missing_ring_fails_closed() -> None:
    with pytest.raises(KeysStaleError):
        verifier().verify(t.token(), {}, NOW)


def test_stale_ring_fails_closed() -> None:
    rings = {t.ISSUER_ID: t.ring(max_staleness=10.0, last_success=NOW - 11)}
    with pytest.raises(KeysStaleError):
        verifier().verify(t.token(), rings, NOW)


def test_cache_hit_skips_verification_but_not_the_ring() -> None:
    cache = VerifiedTokenCache(10)
    v = verifier(cache)
    raw = t.token()
    first = v.verify(raw, t.rings(), NOW)
    assert v.verify(raw, t.rings(), NOW) is first
    assert cache.hits == 1
    stale = {t.ISSUER_ID: t.ring(max_staleness=10.0, last_success=NOW - 11)}
    with pytest.raises(KeysStaleError):
        v.verify(raw, stale, NOW)
    assert len(cache) == 0


def test_cache_entry_dies_with_its_key() -> None:
    cache = VerifiedTokenCache(10)
    v = verifier(cache)
    raw = t.token()
    v.verify(raw, t.rings(), NOW)
    without = {t.ISSUER_ID: t.ring(("rsa-2", "ec-1"))}
    with pytest.raises(UnknownKeyError):
        v.verify(raw, without, NOW)
    assert len(cache) == 0


def test_cache_entry_dies_when_its_issuer_has_no_keys_any_more() -> None:
    cache = VerifiedTokenCache(10)
    v = verifier(cache)
    raw = t.token()
    v.verify(raw, t.rings(), NOW)
    with pytest.raises(KeysStaleError):
        v.verify(raw, {}, NOW)  # the issuer's ring is gone: no cached answer either
    assert len(cache) == 0


def test_cache_entry_dies_when_a_no_kid_key_is_replaced() -> None:
    cache = VerifiedTokenCache(10)
    v = verifier(cache)
    header = {"alg": "ES256", "typ": "at+jwt"}
    raw = t.forge(header, t.base_claims(), "ec-1")
    v.verify(raw, t.rings(), NOW)
    other = KeyRing(t.ISSUER_ID, t.ring(("attacker-ec",)).keys, last_success=NOW)
    with pytest.raises(Exception, match="signature"):
        v.verify(raw, {t.ISSUER_ID: other}, NOW)


def test_cache_never_outlives_exp() -> None:
    cache = VerifiedTokenCache(10)
    v = verifier(cache)
    raw = t.token(exp=NOW + 5)
    v.verify(raw, t.rings(), NOW)
    assert v.verify(raw, t.rings(), NOW + 4) is not None
    assert cache.hits == 1
    v.verify(raw, t.rings(), NOW + 6)  # within the 30 s leeway: verified again, not cached
    assert cache.hits == 1
    with pytest.raises(TokenExpiredError):
        v.verify(raw, t.rings(), NOW + 40)
