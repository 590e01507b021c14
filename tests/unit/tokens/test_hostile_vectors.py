"""Hostile tokens as data: tests/vectors/tokens/hostile.yaml, one case per attack.

The YAML says what each token looks like and which ``TokenError`` subclass it
must raise; this file only knows how to build the token from that description.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import glassgate.errors
from glassgate.errors import TokenError
from glassgate.tokens import IssuerPolicy, TokenVerifier
from tests.support import tokens as t

_DATA: dict[str, Any] = yaml.safe_load((t.VECTORS / "hostile.yaml").read_text(encoding="utf-8"))
NOW: int = _DATA["now"]
DEEP = "[" * 3000 + "]" * 3000


def _resolve(value: Any) -> Any:
    """``$NOW±n`` → int, ``{$public: name}`` → that vector key's public JWK."""
    if isinstance(value, str) and value.startswith("$NOW"):
        return NOW + int(value[4:] or 0)
    if isinstance(value, dict):
        if set(value) == {"$public"}:
            return t.public_jwk(value["$public"])
        return {k: _resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    return value


def _segment(case: dict[str, Any], part: str) -> str:
    raw = case.get(f"{part}_raw")
    if raw is not None:
        return t.segment(DEEP if raw == "$DEEP" else raw.replace("$ZEROS", "0" * 400))
    if part == "claims" and "claims_hex" in case:
        return t.segment(bytes.fromhex(case["claims_hex"]))
    value = {**_resolve(_DATA["base"][part]), **_resolve(case.get(part, {}))}
    for name in case.get(f"{part}_unset", []):
        value.pop(name, None)
    if part == "claims" and "pad" in case:
        value["pad"] = "x" * case["pad"]
    return t.segment(value)


def _public_secret(form: str) -> bytes:
    public = t.private_key("rsa-1").public_key
    assert isinstance(public, rsa.RSAPublicKey)
    if form == "hmac-pem":
        return public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    if form == "hmac-der":
        return public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    return json.dumps(t.public_jwk("rsa-1")).encode()


def _signature(case: dict[str, Any], signing_input: str) -> str:
    special = case.get("signature")
    if special in ("hmac-pem", "hmac-der", "hmac-jwk"):
        return t.hmac_signature(signing_input, _public_secret(special))
    if special == "es256-zero":
        return t.b64url(bytes(64))
    if special == "garbage":
        return t.b64url(b"\x01" * 256)
    header = {**_DATA["base"]["header"], **case.get("header", {})}
    key = case.get("key", header.get("kid", "rsa-1"))
    alg = case.get("sign_alg", header.get("alg"))
    return t.sign_input(signing_input, key, str(alg))


def _replace_last(segment: str) -> str:
    safe = "AEIMQUYcgkosw048" if len(segment) % 4 == 3 else "AQgw"
    return segment[:-1] + ("B" if segment[-1] in safe else "A")


_MANGLES: dict[str, Callable[[list[str]], str]] = {
    "swap-payload": lambda s: ".".join([s[0], t.segment({**t.base_claims(), "sub": "eve"}), s[2]]),
    "truncate-signature": lambda s: ".".join([s[0], s[1], s[2][:-4]]),
    "header-padding": lambda s: ".".join([s[0] + "=", s[1], s[2]]),
    "payload-padding": lambda s: ".".join([s[0], s[1] + "==", s[2]]),
    "signature-padding": lambda s: ".".join([s[0], s[1], s[2] + "="]),
    "header-illegal-char": lambda s: ".".join([s[0][:5] + "*" + s[0][6:], s[1], s[2]]),
    "payload-illegal-char": lambda s: ".".join([s[0], s[1][:9] + "!" + s[1][10:], s[2]]),
    "standard-alphabet": lambda s: ".".join([s[0], s[1][:9] + "+/" + s[1][11:], s[2]]),
    "header-bad-tail": lambda s: ".".join([_replace_last(s[0]), s[1], s[2]]),
    "two-segments": lambda s: ".".join(s[:2]),
    "four-segments": lambda s: ".".join([*s, s[2]]),
    "five-segments": lambda s: ".".join([s[0], "", s[1], s[2], s[2]]),
    "empty-header": lambda s: ".".join(["", s[1], s[2]]),
    "empty-payload": lambda s: ".".join([s[0], "", s[2]]),
    "dots-only": lambda s: "..",
    "empty": lambda s: "",
    "surrounding-space": lambda s: " " + ".".join(s) + " ",
    "bearer-prefix": lambda s: "Bearer " + ".".join(s),
    "non-ascii": lambda s: ".".join([s[0], s[1][:9] + "é" + s[1][10:], s[2]]),
}


def build(case: dict[str, Any]) -> str:
    signing_input = f"{_segment(case, 'header')}.{_segment(case, 'claims')}"
    token = f"{signing_input}.{_signature(case, signing_input)}"
    mangle = case.get("mangle")
    return _MANGLES[mangle](token.split(".")) if mangle else token


def _verifier() -> TokenVerifier:
    spec = _DATA["policy"]
    policy = IssuerPolicy(
        id=t.ISSUER_ID,
        issuer=spec["issuer"],
        audiences=frozenset(spec["audiences"]),
        algorithms=frozenset(spec["algorithms"]),
        leeway=float(spec["leeway"]),
        require_at_jwt=spec["require_at_jwt"],
    )
    return TokenVerifier([policy])


CASES = _DATA["cases"]


@pytest.mark.parametrize("case", CASES, ids=[f"case={c['id']}" for c in CASES])
def test_hostile_vector(case: dict[str, Any]) -> None:
    verifier = _verifier()
    raw = build(case)
    if case["expect"] == "ok":
        principal = verifier.verify(raw, t.rings(), NOW)
        assert principal.issuer == _DATA["policy"]["issuer"]
        for group in case.get("groups", []):
            assert group in principal.groups
        for group in case.get("absent_groups", []):
            assert group not in principal.groups
        return
    expected: type[TokenError] = getattr(glassgate.errors, case["expect"])
    assert issubclass(expected, TokenError)
    with pytest.raises(TokenError) as caught:
        verifier.verify(raw, t.rings(), NOW)
    assert type(caught.value) is expected, f"{case['id']}: {caught.value!r}"


@pytest.mark.parametrize("case", CASES, ids=[f"case={c['id']}" for c in CASES])
def test_error_messages_never_contain_the_token(case: dict[str, Any]) -> None:
    raw = build(case)
    try:
        _verifier().verify(raw, t.rings(), NOW)
    except TokenError as exc:
        text = str(exc)
        assert len(text) < 300
        for part in raw.split("."):
            if len(part) >= 16:
                assert part not in text


def test_every_vector_has_a_unique_id_and_a_known_expectation() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert case["expect"] == "ok" or hasattr(glassgate.errors, case["expect"]), case["id"]
        assert case.get("mangle") is None or case["mangle"] in _MANGLES, case["id"]
