"""KeyRing: pure key state, staleness and the unknown-kid refresh budget."""

from __future__ import annotations

from typing import Any

import pytest

from glassgate.errors import KeyMismatchError, KeysStaleError, UnknownKeyError
from glassgate.tokens.keyring import KeyRing, SigningKey, parse_jwks
from tests.support import tokens as t

NOW = float(t.NOW)


def test_signing_keys_know_which_algorithms_they_fit() -> None:
    fits = {name: SigningKey.from_jwk(t.public_jwk(name)).algorithms for name in t.RING_KEYS}
    assert fits == {
        "rsa-1": {"RS256"},
        "rsa-2": {"RS256", "PS256"},
        "ec-1": {"ES256"},
        "ed-1": {"EdDSA"},
        "rsa-ps": {"PS256"},
        "rsa-small": frozenset(),
        "rsa-enc": frozenset(),
        "ec-384": frozenset(),
    }


def test_key_ops_without_verify_fit_nothing() -> None:
    data = {name: value for name, value in t.public_jwk("rsa-1").items() if name != "use"}
    key = SigningKey.from_jwk({**data, "key_ops": ["encrypt"]})
    assert key.algorithms == frozenset()
    assert "verify" in key.why_not("RS256")


def test_a_non_string_kid_in_the_jwks_is_refused() -> None:
    with pytest.raises(KeyMismatchError):
        SigningKey.from_jwk({**t.public_jwk("rsa-1"), "kid": 7})


def test_lookup_by_kid() -> None:
    assert t.ring().lookup("ec-1", "ES256", NOW).kid == "ec-1"


@pytest.mark.parametrize(
    ("kid", "alg", "error", "reason"),
    [
        ("nope", "RS256", UnknownKeyError, "no key"),
        ("ec-1", "RS256", KeyMismatchError, "needs a RSA key"),
        ("rsa-1", "ES256", KeyMismatchError, "needs a EC key"),
        ("ec-384", "ES256", KeyMismatchError, "P-256"),
        ("rsa-small", "RS256", KeyMismatchError, "2048"),
        ("rsa-ps", "RS256", KeyMismatchError, "PS256"),
        ("rsa-enc", "RS256", KeyMismatchError, "'enc'"),
        ("ed-1", "ES256", KeyMismatchError, "EC"),
        (None, "RS256", UnknownKeyError, "2 keys"),
        (None, "PS256", UnknownKeyError, "2 keys"),
    ],
)
def test_lookup_failures(kid: str | None, alg: str, error: type[Exception], reason: str) -> None:
    with pytest.raises(error, match=reason):
        t.ring().lookup(kid, alg, NOW)


def test_no_kid_needs_exactly_one_fitting_key() -> None:
    assert t.ring().lookup(None, "ES256", NOW).kid == "ec-1"
    assert t.ring().lookup(None, "EdDSA", NOW).kid == "ed-1"
    with pytest.raises(UnknownKeyError, match="0 keys"):
        t.ring(("rsa-1",)).lookup(None, "ES256", NOW)


def test_duplicate_kids_pick_the_key_that_fits() -> None:
    rsa = SigningKey.from_jwk({**t.public_jwk("rsa-1"), "kid": "shared"})
    ec = SigningKey.from_jwk({**t.public_jwk("ec-1"), "kid": "shared"})
    ring = KeyRing("x", (rsa, ec), last_success=NOW)
    assert ring.lookup("shared", "ES256", NOW) is ec
    assert ring.lookup("shared", "RS256", NOW) is rsa


def test_keys_fail_closed_once_stale() -> None:
    ring = t.ring(max_staleness=60.0)
    ring.lookup("rsa-1", "RS256", NOW + 60)
    with pytest.raises(KeysStaleError):
        ring.lookup("rsa-1", "RS256", NOW + 60.5)


def test_a_ring_that_never_loaded_is_stale() -> None:
    with pytest.raises(KeysStaleError, match="no keys"):
        KeyRing("x").lookup("rsa-1", "RS256", NOW)


def test_unknown_kid_refresh_budget() -> None:
    ring = KeyRing("x", unknown_kid_min_interval=10.0)
    assert ring.should_refresh_for_unknown_kid(NOW)
    ring = ring.with_unknown_kid_refresh(NOW)
    assert not ring.should_refresh_for_unknown_kid(NOW + 9.9)
    assert ring.should_refresh_for_unknown_kid(NOW + 10)
    assert ring.should_refresh_for_unknown_kid(NOW - 100)  # the clock went back


def test_replace_builds_a_new_ring_and_keeps_the_budget() -> None:
    old = KeyRing("x").with_unknown_kid_refresh(NOW)
    keys = (SigningKey.from_jwk(t.public_jwk("rsa-1")),)
    new = old.replace(keys, NOW + 1)
    assert old.keys == ()
    assert old.last_success is None
    assert new.keys == keys
    assert new.last_success == NOW + 1
    assert new.last_unknown_kid_refresh == NOW
    assert new.lookup("rsa-1", "RS256", NOW + 1) is keys[0]


def test_parse_jwks_skips_what_it_cannot_use() -> None:
    document = {
        "keys": [
            t.public_jwk("rsa-1"),
            t.public_jwk("rsa-enc"),
            t.public_jwk("rsa-small"),
            t.public_jwk("ec-384"),
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "ML-DSA-44", "kid": "pq"},
            "not an object",
            {**t.public_jwk("ec-1"), "kid": ["x"]},
            t.public_jwk("ec-1"),
        ]
    }
    keys, skipped = parse_jwks(document)
    assert [key.kid for key in keys] == ["rsa-1", "ec-1"]
    assert len(skipped) == 7
    assert any("use is 'enc'" in reason for reason in skipped)


def test_parse_jwks_caps_the_number_of_keys() -> None:
    keys, skipped = parse_jwks({"keys": [t.public_jwk("ec-1")] * 5}, max_keys=3)
    assert len(keys) == 3
    assert skipped == ("2 keys past the first 3",)


@pytest.mark.parametrize("document", [[], {"keys": {}}, {"nokeys": []}, None, "x"])
def test_parse_jwks_refuses_non_jwk_sets(document: Any) -> None:
    with pytest.raises(ValueError, match="JWKS"):
        parse_jwks(document)


@pytest.mark.parametrize(
    ("member", "value"),
    [
        pytest.param("alg", 5, id="case=alg-not-a-string"),
        pytest.param("use", ["sig"], id="case=use-not-a-string"),
        pytest.param("key_ops", "verify", id="case=key-ops-not-a-list"),
    ],
)
def test_a_key_with_a_mistyped_member_is_skipped(member: str, value: object) -> None:
    keys, skipped = parse_jwks({"keys": [{**t.public_jwk("ec-1"), member: value}]})
    assert keys == ()
    assert len(skipped) == 1
    assert skipped[0].startswith("keys[0]: ")


def test_a_key_without_kid_is_found_only_without_a_kid() -> None:
    anonymous = {k: v for k, v in t.public_jwk("ec-1").items() if k != "kid"}
    keys, _ = parse_jwks({"keys": [anonymous]})
    ring = KeyRing("idp", keys, last_success=t.NOW)
    assert ring.lookup(None, "ES256", t.NOW).kid is None
    with pytest.raises(UnknownKeyError):
        ring.lookup("ec-1", "ES256", t.NOW)
