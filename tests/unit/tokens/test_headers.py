"""Header screening happens before any key or issuer is involved."""

from __future__ import annotations

from typing import Any

import pytest

from glassgate.errors import DisallowedAlgorithmError, UnsupportedHeaderError
from glassgate.tokens.headers import (
    ScreenedHeader,
    check_header_for_issuer,
    screen_header,
    show,
)
from tests.support import tokens as t


def test_a_plain_header_is_screened_into_its_three_members() -> None:
    assert screen_header({"alg": "ES256", "kid": "k", "typ": "at+jwt"}) == ScreenedHeader(
        "ES256", "k", "at+jwt"
    )
    assert screen_header({"alg": "RS256"}) == ScreenedHeader("RS256", None, None)


@pytest.mark.parametrize(
    "alg",
    ["none", "None", "NONE", "nOnE", "HS256", "HS384", "HS512", "RS384", "rs256", "", None, 1],
)
def test_unsafe_or_unknown_algorithms_are_refused(alg: Any) -> None:
    with pytest.raises(DisallowedAlgorithmError):
        screen_header({"alg": alg})


def test_a_header_without_alg_is_refused() -> None:
    with pytest.raises(DisallowedAlgorithmError):
        screen_header({"kid": "k"})


@pytest.mark.parametrize(
    "extra",
    [
        {"crit": []},
        {"crit": ["b64"], "b64": False},
        {"b64": True},
        {"kid": 1},
        {"kid": None},
        {"kid": ["k"]},
        {"typ": 1},
    ],
    ids=lambda e: f"case={sorted(e)}-{e}",
)
def test_unsupported_header_members_are_refused(extra: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedHeaderError):
        screen_header({"alg": "RS256", **extra})


@pytest.mark.parametrize("member", ["jku", "x5u", "jwk", "x5c", "x5t", "cty", "nonce"])
def test_key_location_members_are_ignored(member: str) -> None:
    header = {"alg": "RS256", "kid": "k", member: "https://attacker.example/"}
    assert screen_header(header) == ScreenedHeader("RS256", "k", None)


def test_the_issuer_allow_list_is_exact() -> None:
    policy = t.policy(algorithms=frozenset({"ES256"}))
    check_header_for_issuer(ScreenedHeader("ES256", None, "at+jwt"), policy)
    with pytest.raises(DisallowedAlgorithmError):
        check_header_for_issuer(ScreenedHeader("RS256", None, "at+jwt"), policy)


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
def test_at_jwt_accepted_in_both_forms_any_case(typ: str) -> None:
    check_header_for_issuer(ScreenedHeader("RS256", None, typ), t.policy())


@pytest.mark.parametrize("typ", [None, "JWT", "at+jwt ", "jwt", "application/jwt"])
def test_other_typ_values_refused_when_at_jwt_required(typ: str | None) -> None:
    with pytest.raises(UnsupportedHeaderError):
        check_header_for_issuer(ScreenedHeader("RS256", None, typ), t.policy())


def test_typ_is_free_when_not_required() -> None:
    check_header_for_issuer(ScreenedHeader("RS256", None, "JWT"), t.policy(require_at_jwt=False))
    check_header_for_issuer(ScreenedHeader("RS256", None, None), t.policy(require_at_jwt=False))


def test_show_escapes_and_truncates_untrusted_values() -> None:
    assert show("a\nb") == "'a\\nb'"
    assert len(show("x" * 500)) == 40
