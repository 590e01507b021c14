"""Strict claim parsing and the registered-claim checks (RFC 7519 §4.1)."""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

import pytest

from glassgate.errors import (
    AudienceMismatchError,
    ClaimError,
    TokenExpiredError,
    TokenMalformedError,
    TokenNotYetValidError,
    UntrustedIssuerError,
)
from glassgate.tokens.claims import (
    check_claims,
    is_number,
    parse_payload,
    read_acr,
    read_amr,
    read_auth_time,
    read_groups,
    read_optional_string,
    read_scopes,
    read_subject,
)
from glassgate.tokens.issuers import ClaimPath
from tests.support import tokens as t

NOW = t.NOW


def claims(**overrides: Any) -> Any:
    data = {**t.base_claims(), **overrides}
    return parse_payload(json.dumps({k: v for k, v in data.items() if v is not ...}).encode())


def test_parsed_claims_are_deeply_read_only() -> None:
    parsed = parse_payload(b'{"a":[1,[2,{"b":[3]}]],"o":{"p":[4]}}')
    assert isinstance(parsed, MappingProxyType)
    assert parsed["a"] == (1, (2, MappingProxyType({"b": (3,)})))
    assert isinstance(parsed["o"], MappingProxyType)
    assert parsed["o"]["p"] == (4,)
    with pytest.raises(TypeError):
        parsed["a"] = 1  # type: ignore[index]


@pytest.mark.parametrize(
    "payload",
    [
        b"[]",
        b'"x"',
        b"1",
        b"null",
        b"",
        b"{",
        b'{"a":1,"a":1}',
        b'{"o":{"a":1,"a":2}}',
        b'{"a":[{"b":1,"b":1}]}',
        b'{"a":NaN}',
        b'{"a":-Infinity}',
        b'{"a":1e999}',
        b'{"a":"\xff"}',
        b'\xef\xbb\xbf{"a":1}',
        b'{"a":"\\udc00"}',
        b'{"\\ud800":1}',
        b"[" * 5000 + b"]" * 5000,
        b'{"a":1} {}',
    ],
)
def test_payloads_that_are_not_strict_json_objects_are_malformed(payload: bytes) -> None:
    with pytest.raises(TokenMalformedError):
        parse_payload(payload)


def test_escaped_surrogate_pairs_are_fine() -> None:
    assert parse_payload(b'{"g":"\\ud83d\\ude00"}')["g"] == "\U0001f600"


def test_is_number_excludes_booleans() -> None:
    assert is_number(1)
    assert is_number(1.5)
    assert not is_number(True)
    assert not is_number("1")
    assert not is_number(None)


def test_valid_claims_pass() -> None:
    check_claims(claims(), t.policy(), NOW)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"iss": t.ISSUER + "/"}, UntrustedIssuerError),
        ({"iss": None}, UntrustedIssuerError),
        ({"aud": "api://other"}, AudienceMismatchError),
        ({"aud": ["api://other"]}, AudienceMismatchError),
        ({"aud": []}, AudienceMismatchError),
        ({"aud": [t.AUDIENCE, None]}, ClaimError),
        ({"aud": 1}, ClaimError),
        ({"aud": ...}, ClaimError),
        ({"exp": ...}, ClaimError),
        ({"exp": "1"}, ClaimError),
        ({"exp": False}, ClaimError),
        ({"exp": NOW - 30}, TokenExpiredError),
        ({"nbf": NOW + 31}, TokenNotYetValidError),
        ({"nbf": "0"}, ClaimError),
        ({"iat": NOW + 31}, TokenNotYetValidError),
        ({"iat": [NOW]}, ClaimError),
        ({"auth_time": "0"}, ClaimError),
        ({"auth_time": True}, ClaimError),
    ],
    ids=lambda v: f"{v}" if isinstance(v, dict) else v.__name__,
)
def test_registered_claim_failures(overrides: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        check_claims(claims(**overrides), t.policy(), NOW)


def test_leeway_edges() -> None:
    policy = t.policy(leeway=0.0)
    check_claims(claims(exp=NOW + 1, nbf=NOW, iat=NOW), policy, NOW)
    with pytest.raises(TokenExpiredError):
        check_claims(claims(exp=NOW), policy, NOW)
    with pytest.raises(TokenNotYetValidError):
        check_claims(claims(nbf=NOW + 1), policy, NOW)


def test_a_future_auth_time_is_left_to_the_policy() -> None:
    check_claims(claims(auth_time=NOW + 3600), t.policy(), NOW)


def test_any_configured_audience_matches() -> None:
    policy = t.policy(audiences=frozenset({"api://a", "api://b"}))
    check_claims(claims(aud=["api://x", "api://b"]), policy, NOW)
    check_claims(claims(aud="api://a"), policy, NOW)


def test_groups_at_a_dotted_path() -> None:
    policy = t.policy(groups=ClaimPath.parse("realm_access.roles"))
    parsed = claims(realm_access={"roles": ["Admins", "admins"]})
    assert read_groups(parsed, policy) == frozenset({"Admins", "admins"})
    assert read_groups(claims(), policy) == frozenset()
    with pytest.raises(ClaimError):
        read_groups(claims(realm_access="Admins"), policy)
    with pytest.raises(ClaimError):
        read_groups(claims(realm_access={"roles": "Admins"}), policy)


def test_groups_are_kept_verbatim() -> None:
    names = ["Admins ", "Ａdmins", "admins", "ADMINS", "A\u0301dmins", ""]
    assert read_groups(claims(groups=names), t.policy()) == frozenset(names)


def test_scopes_from_a_list_and_a_string() -> None:
    policy = t.policy()
    assert read_scopes(claims(scope="read  write ", scp=["admin"]), policy) == {
        "read",
        "write",
        "admin",
    }
    assert read_scopes(claims(scope=..., scp="a b"), policy) == {"a", "b"}
    assert read_scopes(claims(scope=...), policy) == frozenset()
    assert read_scopes(claims(scope="a\tb"), policy) == {"a\tb"}


@pytest.mark.parametrize("overrides", [{"scope": ["a"]}, {"scp": 1}, {"scp": ["a", 1]}])
def test_scopes_of_the_wrong_type(overrides: dict[str, Any]) -> None:
    with pytest.raises(ClaimError):
        read_scopes(claims(**overrides), t.policy())


def test_amr_acr_auth_time() -> None:
    parsed = claims(amr=["pwd", "hwk"], acr="phr", auth_time=NOW - 10.9)
    assert read_amr(parsed) == {"pwd", "hwk"}
    assert read_acr(parsed) == "phr"
    assert read_auth_time(parsed) == NOW - 11
    bare = claims(amr=..., acr=..., auth_time=...)
    assert (read_amr(bare), read_acr(bare), read_auth_time(bare)) == (frozenset(), None, None)


@pytest.mark.parametrize(
    ("name", "value"),
    [("amr", "mfa"), ("amr", {"mfa": 1}), ("acr", ["x"]), ("acr", None), ("sub", 1)],
)
def test_identity_claim_types(name: str, value: Any) -> None:
    parsed = claims(**{name: value})
    readers = {"amr": read_amr, "acr": read_acr, "sub": read_subject}
    with pytest.raises(ClaimError):
        readers[name](parsed)


def test_optional_strings() -> None:
    assert read_optional_string(claims(), "jti") == "tok-1"
    assert read_optional_string(claims(), "nope") is None
    with pytest.raises(ClaimError, match="null"):
        read_optional_string(claims(jti=None), "jti")
    with pytest.raises(ClaimError, match="array"):
        read_optional_string(claims(jti=[]), "jti")
    with pytest.raises(ClaimError, match="object"):
        read_optional_string(claims(jti={}), "jti")


def test_subject_falls_back_to_the_client() -> None:
    assert read_subject(claims(sub=...)) == "gateway-client"
    assert read_subject(claims(sub=..., client_id=..., cid="0oa1")) == "0oa1"
    with pytest.raises(ClaimError):
        read_subject(claims(sub=..., client_id=...))
