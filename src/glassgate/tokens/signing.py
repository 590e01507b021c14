"""The one way glassgate signs a JWT: a private key it generated or loaded, and its JWKS.

Two things sign: the gateway's identity tokens for upstreams (ES256) and the
development-only issuer of ``glassgate demo`` (RS256). Both go through here, so
key generation, ``kid`` handling and the public-only JWKS are written once and
joserfc stays inside ``glassgate.tokens``. The private key never leaves this
object: ``repr`` hides it and ``jwks`` exports the public half only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

__all__ = ["JwtSigner", "SigningAlgorithm"]

SigningAlgorithm = Literal["RS256", "ES256"]


class JwtSigner:
    """Signs compact JWS tokens with one private key."""

    def __init__(self, key: RSAKey | ECKey, alg: SigningAlgorithm) -> None:
        key.ensure_kid()
        self._key = key
        self.alg: SigningAlgorithm = alg

    @classmethod
    def generate(cls, alg: SigningAlgorithm) -> JwtSigner:
        """A fresh in-memory key: RSA-2048 for RS256, P-256 for ES256."""
        if alg == "RS256":
            return cls(RSAKey.generate_key(2048, private=True, auto_kid=True), alg)
        return cls(ECKey.generate_key("P-256", private=True, auto_kid=True), alg)

    @property
    def kid(self) -> str:
        kid = self._key.kid
        if kid is None:  # ensure_kid() always sets one
            raise RuntimeError("the signing key has no kid")
        return kid

    def sign(self, claims: Mapping[str, Any], typ: str = "JWT") -> str:
        header = {"alg": self.alg, "typ": typ, "kid": self.kid}
        return jwt.encode(header, dict(claims), self._key, algorithms=[self.alg])

    def jwks(self) -> dict[str, Any]:
        """The public key only: ``as_dict(private=False)`` drops every private member."""
        public = self._key.as_dict(private=False)
        return {"keys": [{**public, "use": "sig", "alg": self.alg}]}

    def __repr__(self) -> str:
        return f"JwtSigner(alg={self.alg!r}, kid={self.kid!r}, key=<not shown>)"
