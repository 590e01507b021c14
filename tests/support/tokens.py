"""Test-only token forging: fixed keys from tests/vectors/tokens/keys.json and a
hand-rolled JWS signer that will sign *any* header (``crit``, integer ``kid``,
``alg: none`` ...), which is exactly what a library refuses and an attacker does.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import warnings
from pathlib import Path
from typing import Any

from joserfc import jwk
from joserfc.errors import SecurityWarning
from joserfc.jws import JWSRegistry

from glassgate.tokens import IssuerPolicy, KeyRing, SigningKey

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "tokens"
NOW = 1_800_000_000
ISSUER = "https://idp.example.test/oauth2/default"
AUDIENCE = "api://gateway"
ISSUER_ID = "example"


@functools.cache
def private_jwks() -> dict[str, dict[str, Any]]:
    data: dict[str, Any] = json.loads((VECTORS / "keys.json").read_text())
    return {name: value for name, value in data.items() if not name.startswith("_")}


@functools.cache
def private_key(name: str) -> jwk.Key:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # rsa-small is small on purpose
        return jwk.JWKRegistry.import_key(private_jwks()[name])


def public_jwk(name: str) -> dict[str, Any]:
    return dict(private_key(name).as_dict(private=False))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(value: Any) -> str:
    """A JWS segment: bytes as they are, text as UTF-8, anything else as compact JSON."""
    if isinstance(value, bytes):
        return b64url(value)
    if isinstance(value, str):
        return b64url(value.encode("utf-8"))
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def sign_input(signing_input: str, key: str | None, alg: str) -> str:
    """The base64url signature of ``signing_input`` with vector key ``key``."""
    if key is None:
        return ""
    model = JWSRegistry.algorithms[alg]
    return b64url(model.sign(signing_input.encode("ascii"), private_key(key)))


def hmac_signature(signing_input: str, secret: bytes) -> str:
    return b64url(hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest())


def forge(header: Any, claims: Any, key: str | None = "rsa-1", alg: str | None = None) -> str:
    """A compact JWS with exactly this header and payload, signed with ``key``."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    if alg is None:
        alg = header["alg"] if isinstance(header, dict) else "RS256"
    return f"{signing_input}.{sign_input(signing_input, key, alg)}"


def base_header(kid: str = "rsa-1", alg: str = "RS256") -> dict[str, Any]:
    return {"alg": alg, "kid": kid, "typ": "at+jwt"}


def base_claims(now: int = NOW) -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "client_id": "gateway-client",
        "iat": now - 60,
        "exp": now + 600,
        "auth_time": now - 120,
        "jti": "tok-1",
        "groups": ["Analysts"],
        "amr": ["pwd", "mfa"],
        "acr": "urn:example:loa:2fa",
        "scope": "read write",
    }


def token(*, kid: str = "rsa-1", alg: str = "RS256", key: str | None = None, **claims: Any) -> str:
    """A valid token from the base claims, with ``claims`` overriding them."""
    return forge(base_header(kid, alg), {**base_claims(), **claims}, key or kid, alg)


def policy(**overrides: Any) -> IssuerPolicy:
    fields: dict[str, Any] = {
        "id": ISSUER_ID,
        "issuer": ISSUER,
        "audiences": frozenset({AUDIENCE}),
        "algorithms": frozenset({"RS256", "ES256"}),
        "leeway": 30.0,
        "require_at_jwt": True,
    }
    fields.update(overrides)
    return IssuerPolicy(**fields)


RING_KEYS = ("rsa-1", "rsa-2", "ec-1", "ed-1", "rsa-ps", "rsa-small", "rsa-enc", "ec-384")


def ring(names: tuple[str, ...] = RING_KEYS, last_success: float = NOW, **kw: Any) -> KeyRing:
    keys = tuple(SigningKey.from_jwk(public_jwk(name)) for name in names)
    return KeyRing(ISSUER_ID, keys, last_success=last_success, **kw)


def rings(**kw: Any) -> dict[str, KeyRing]:
    return {ISSUER_ID: ring(**kw)}
