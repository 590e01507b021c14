"""Whatever arrives, verify() raises a TokenError or returns a Principal: never anything else."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glassgate.errors import TokenError
from glassgate.tokens import TokenVerifier
from tests.support import tokens as t

VERIFIER = TokenVerifier([t.policy()])
RINGS = t.rings()
SETTINGS = settings(
    max_examples=int(os.environ.get("GLASSGATE_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/. "

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _only_token_errors(raw: Any) -> None:
    with contextlib.suppress(TokenError):
        VERIFIER.verify(raw, RINGS, t.NOW)


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text(raw: str) -> None:
    _only_token_errors(raw)


@SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes(raw: bytes) -> None:
    _only_token_errors(raw)


@SETTINGS
@given(st.lists(st.text(alphabet=B64_ALPHABET, max_size=60), min_size=1, max_size=5))
def test_base64ish_segments(segments: list[str]) -> None:
    _only_token_errors(".".join(segments))


@SETTINGS
@given(
    header=st.dictionaries(
        st.sampled_from(["alg", "kid", "typ", "crit", "b64", "jku", "x"]), json_values, max_size=5
    ),
    claims=st.dictionaries(
        st.sampled_from(
            [
                "iss",
                "aud",
                "exp",
                "nbf",
                "iat",
                "sub",
                "groups",
                "amr",
                "acr",
                "auth_time",
                "scope",
                "scp",
                "jti",
            ]
        ),
        json_values,
        max_size=8,
    ),
)
def test_arbitrary_json_header_and_claims(header: dict[str, Any], claims: dict[str, Any]) -> None:
    raw = t.forge(header, {**t.base_claims(), **claims}, "rsa-1", "RS256")
    _only_token_errors(raw)


@SETTINGS
@given(
    claims=st.dictionaries(
        st.sampled_from(
            [
                "aud",
                "exp",
                "nbf",
                "iat",
                "groups",
                "amr",
                "acr",
                "auth_time",
                "scope",
                "scp",
                "sub",
                "client_id",
            ]
        ),
        json_values,
        max_size=4,
    )
)
def test_validly_signed_tokens_with_arbitrary_claims(claims: dict[str, Any]) -> None:
    raw = t.forge(t.base_header(), {**t.base_claims(), **claims}, "rsa-1", "RS256")
    _only_token_errors(raw)


@SETTINGS
@given(position=st.integers(min_value=0), char=st.sampled_from("Aa0-_.=+/ é\x00"))
def test_single_character_mutations(position: int, char: str) -> None:
    raw = t.token()
    index = position % len(raw)
    mutated = raw[:index] + char + raw[index + 1 :]
    if mutated != raw:
        _only_token_errors(mutated)


def test_the_fuzzers_base_token_is_valid() -> None:
    assert VERIFIER.verify(t.token(), RINGS, t.NOW).subject == "alice"
    assert json.loads(json.dumps(t.base_claims()))["sub"] == "alice"
