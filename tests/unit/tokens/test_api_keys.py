"""API key format, hashing and verification (pure): hostile input is refused, never a crash."""

from __future__ import annotations

import dataclasses
import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassgate.core.principal import CredentialKind, token_fingerprint
from glassgate.errors import (
    ApiKeyError,
    ApiKeyExpiredError,
    ApiKeyMalformedError,
    ApiKeyRevokedError,
    ApiKeySecretMismatchError,
    ApiKeyUnknownError,
    TokenError,
)
from glassgate.tokens.api_keys import (
    API_KEY_ISSUER,
    API_KEY_LENGTH,
    ApiKeyRecord,
    generate_key_id,
    hash_secret,
    is_api_key,
    issue_api_key,
    parse_api_key,
    verify_api_key,
)

T0 = 1_790_000_000.0
KEY_FORMAT = re.compile(r"gg_[a-z2-7]{12}_[A-Za-z0-9_-]{43}")


def issue(**changes: object) -> tuple[str, ApiKeyRecord]:
    fields: dict[str, object] = {
        "name": "ci-bot",
        "subject": "svc:ci",
        "now": T0,
        "groups": ("robots",),
        "routes": ("machine",),
        "quota_tier": "small",
        "expires_at": T0 + 3600,
    }
    fields.update(changes)
    issued = issue_api_key(**fields)  # type: ignore[arg-type]
    return issued.key.reveal(), issued.record


def test_issued_keys_have_the_documented_format() -> None:
    keys = {issue()[0] for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        assert KEY_FORMAT.fullmatch(key)
        assert len(key) == API_KEY_LENGTH == 59
    assert all(re.fullmatch(r"[a-z2-7]{12}", generate_key_id()) for _ in range(50))


def test_the_record_holds_a_digest_never_the_secret() -> None:
    key, record = issue()
    secret = key[16:]
    assert record.key_id == key[3:15]
    assert record.secret_hash == hash_secret(record.key_id, secret)
    assert secret not in repr(record)
    assert record.secret_hash not in repr(record)
    assert secret not in repr(issue_api_key(name="a", subject="s", now=T0))


def test_the_digest_is_bound_to_the_key_id() -> None:
    assert hash_secret("aaaaaaaaaaaa", "s") != hash_secret("bbbbbbbbbbbb", "s")
    assert hash_secret("aaaaaaaaaaaa", "s") != hashlib.sha256(b"s").hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", hash_secret("aaaaaaaaaaaa", "s"))


def test_parse_round_trip_masks_the_secret() -> None:
    key, record = issue()
    parsed = parse_api_key(key)
    assert parsed.key_id == record.key_id
    assert parsed.secret.reveal() == key[16:]
    assert key[16:] not in repr(parsed)


GOOD = "gg_abcdefgh2345_" + "A" * 43
HOSTILE = {
    "empty-after-prefix": "gg_",
    "prefix-only-upper": "GG_abcdefgh2345_" + "A" * 43,
    "upper-case-id": "gg_ABCDEFGH2345_" + "A" * 43,
    "id-with-digit-1": "gg_abcdefgh2341_" + "A" * 43,
    "short-id": "gg_abcdefgh234_" + "A" * 44,
    "long-id": "gg_abcdefgh23456_" + "A" * 42,
    "dot-separator": "gg_abcdefgh2345." + "A" * 43,
    "short-secret": GOOD[:-1],
    "long-secret": GOOD + "A",
    "trailing-newline": GOOD[:-1] + "\n",
    "trailing-space": GOOD[:-1] + " ",
    "nul-byte": GOOD[:-1] + "\x00",
    "plus-slash-base64": "gg_abcdefgh2345_" + "A+/" + "A" * 40,
    "padding": "gg_abcdefgh2345_" + "A" * 42 + "=",
    "fullwidth-letters": "gg_abcdefgh2345_" + "Ａ" * 43,
    "arabic-digits": "gg_abcdefgh2345_" + "٣" * 43,
    "cyrillic-a-in-id": "gg_аbcdefgh2345_" + "A" * 43,
    "jwt-after-prefix": "gg_" + "eyJhbGciOiJub25lIn0.e30." + "A" * 32,
    "huge": "gg_" + "a" * 100_000,
    "sql": "gg_abcdefgh2345_' OR '1'='1" + "A" * 32,
}


@pytest.mark.parametrize("raw", HOSTILE.values(), ids=[f"case={n}" for n in HOSTILE])
def test_hostile_keys_are_malformed(raw: str) -> None:
    with pytest.raises(ApiKeyMalformedError) as caught:
        parse_api_key(raw)
    assert isinstance(caught.value, TokenError)
    assert caught.value.code == "invalid_token"
    assert caught.value.detail == "api-key-malformed"
    assert raw[16:40] not in str(caught.value) or len(raw) < 40


@given(st.text(max_size=120))
def test_anything_after_the_prefix_parses_or_is_malformed(tail: str) -> None:
    try:
        parsed = parse_api_key("gg_" + tail)
    except ApiKeyMalformedError:
        return
    assert KEY_FORMAT.fullmatch("gg_" + tail)
    assert parsed.key_id == tail[:12]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("gg_x", True),
        ("GG_x", True),
        ("Gg_", True),
        ("gg", False),
        ("eyJhbGciOi.x.y", False),
        ("", False),
        ("ggg_", False),
    ],
)
def test_is_api_key_routes_by_prefix_in_any_case(raw: str, expected: bool) -> None:
    assert is_api_key(raw) is expected


def test_a_valid_key_becomes_a_machine_principal() -> None:
    key, record = issue(groups=("robots", "deployers"))
    principal = verify_api_key(parse_api_key(key), record, T0 + 10, key)
    assert principal.kind is CredentialKind.API_KEY
    assert principal.subject == "svc:ci"
    assert principal.issuer == API_KEY_ISSUER
    assert principal.groups == frozenset({"robots", "deployers"})
    assert principal.route_scope == frozenset({"machine"})
    assert principal.quota_tier == "small"
    assert principal.token_id == record.key_id
    assert principal.expires_at == T0 + 3600
    assert principal.token_hash == token_fingerprint(key)
    assert principal.claims["key_name"] == "ci-bot"
    assert key[16:] not in repr(principal)


def test_no_scope_means_route_scope_none() -> None:
    key, record = issue(routes=None, expires_at=None, quota_tier=None)
    principal = verify_api_key(parse_api_key(key), record, T0 + 10**9, key)
    assert principal.route_scope is None
    assert principal.expires_at is None


def test_refusals_each_have_their_own_detail() -> None:
    key, record = issue()
    parsed = parse_api_key(key)
    other_key, _ = issue()
    wrong_secret = parse_api_key(key[:16] + other_key[16:])
    with pytest.raises(ApiKeyUnknownError):
        verify_api_key(parsed, None, T0, key)
    with pytest.raises(ApiKeyUnknownError):  # a record for another id is never used
        verify_api_key(parse_api_key(other_key), record, T0, other_key)
    with pytest.raises(ApiKeySecretMismatchError):
        verify_api_key(wrong_secret, record, T0, key)
    revoked = dataclasses.replace(record, revoked_at=T0 + 1)
    with pytest.raises(ApiKeyRevokedError):
        verify_api_key(parsed, revoked, T0 + 2, key)
    with pytest.raises(ApiKeyExpiredError):
        verify_api_key(parsed, record, T0 + 3600, key)  # at expiry: already expired
    verify_api_key(parsed, record, T0 + 3599.999, key)


def test_the_secret_is_checked_before_the_state_is_revealed() -> None:
    key, record = issue()
    other_key, _ = issue()
    wrong = parse_api_key(key[:16] + other_key[16:])
    dead = dataclasses.replace(record, revoked_at=T0 + 1)
    with pytest.raises(ApiKeySecretMismatchError):
        verify_api_key(wrong, dead, T0 + 10**6, key)


def test_revoked_wins_over_expired() -> None:
    key, record = issue()
    dead = dataclasses.replace(record, revoked_at=T0 + 1)
    with pytest.raises(ApiKeyRevokedError):
        verify_api_key(parse_api_key(key), dead, T0 + 10**6, key)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "name"),
        ({"name": "has space"}, "name"),
        ({"name": "-leading-dash"}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"subject": ""}, "subject"),
        ({"subject": "a\nb"}, "subject"),
        ({"subject": "x" * 257}, "subject"),
        ({"groups": ("ok", "bad\x00group")}, "group"),
        ({"groups": tuple(f"g{i}" for i in range(65))}, "groups"),
        ({"routes": ()}, "route scope"),
        ({"routes": ("a\tb",)}, "route id"),
        ({"expires_at": T0}, "expire after"),
        ({"expires_at": float("nan")}, "finite"),
        ({"quota_tier": ""}, "quota tier"),
    ],
)
def test_bad_fields_are_refused_at_construction(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        issue(**changes)


def test_record_validation_of_stored_fields() -> None:
    _, record = issue()
    with pytest.raises(ValueError, match="key id"):
        dataclasses.replace(record, key_id="NOT-AN-ID")
    with pytest.raises(ValueError, match="SHA-256"):
        dataclasses.replace(record, secret_hash="abc")


def test_status() -> None:
    _, record = issue()
    assert record.status(T0) == "active"
    assert record.status(T0 + 3600) == "expired"
    assert dataclasses.replace(record, revoked_at=T0).status(T0) == "revoked"


def test_every_api_key_error_is_an_invalid_token_outward() -> None:
    for error in (ApiKeyUnknownError, ApiKeyRevokedError, ApiKeyExpiredError):
        assert issubclass(error, ApiKeyError)
        assert error.code == "invalid_token"
        assert error.detail.startswith("api-key-")
