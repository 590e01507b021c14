"""ID tokens of the console's IdP sign-in (OpenID Connect Core 1.0 §3.1.3.7), verified
with the gate's own machinery.

An ID token goes through the same ``TokenVerifier`` steps as an access token
(header screening: no ``none``, no HMAC, no ``jku``/``x5u``/``jwk``, unknown
``crit``; the issuer's algorithm allow-list; the issuer's key ring; exact
``iss``; ``exp``/``nbf``/``iat`` with leeway), with the audience replaced by
the console's ``client_id``. Then the OIDC rules the access-token path does
not have: ``nonce`` must equal the one this sign-in sent (constant time), an
``azp``, when present or when there are several audiences, must be the
client, and an access token (``typ: at+jwt``) is never an ID token.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import replace

from glassgate.core.principal import Principal
from glassgate.errors import ClaimError
from glassgate.tokens import _jose
from glassgate.tokens.headers import screen_header
from glassgate.tokens.issuers import IssuerPolicy
from glassgate.tokens.keyring import KeyRing
from glassgate.tokens.verifier import TokenVerifier

__all__ = ["IdTokenVerifier"]


class IdTokenVerifier:
    """Verifies ID tokens from one issuer for one client (built once per configuration)."""

    __slots__ = ("_client_id", "_verifier")

    def __init__(self, issuer: IssuerPolicy, client_id: str) -> None:
        policy = replace(issuer, audiences=frozenset({client_id}), require_at_jwt=False)
        self._verifier = TokenVerifier([policy])  # no cache: each ID token is seen once
        self._client_id = client_id

    def verify(
        self, raw: str, keyrings: Mapping[str, KeyRing], now: float, nonce: str
    ) -> Principal:
        """The signed-in user, or a ``TokenError`` (``ClaimError`` for the OIDC rules)."""
        header, _, _ = _jose.extract(raw.encode("ascii") if raw.isascii() else b"")
        typ = screen_header(header).typ
        if typ is not None and typ.lower() in ("at+jwt", "application/at+jwt"):
            raise ClaimError("an access token is not an ID token")
        principal = self._verifier.verify(raw, keyrings, now)
        claims = principal.claims
        sent = claims.get("nonce")
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
            raise ClaimError("the ID token's nonce is not the one this sign-in sent")
        audiences = claims.get("aud")
        azp = claims.get("azp")
        several = isinstance(audiences, tuple | list) and len(audiences) > 1
        if (azp is not None or several) and azp != self._client_id:
            raise ClaimError("the ID token was issued to another client (azp)")
        return principal
