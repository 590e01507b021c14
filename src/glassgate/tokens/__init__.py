"""Token verification (C1): a raw credential becomes a ``Principal`` or a ``TokenError``.

This package is pure and synchronous: it does no I/O and never reads the clock
(``now`` is passed in), so every rule is testable with fixed vectors. Token
verification touches JOSE only through ``tokens._jose`` (our hazmat).
Keys arrive as ``KeyRing`` values built by ``adapters/idp/jwks.py``; network,
discovery and introspection live in ``adapters/idp``.
"""

from __future__ import annotations

from glassgate.tokens.cache import CachedToken, VerifiedTokenCache
from glassgate.tokens.issuers import SAFE_ALGORITHMS, ClaimPath, IssuerPolicy
from glassgate.tokens.keyring import KeyRing, SigningKey, parse_jwks
from glassgate.tokens.mapping import to_principal
from glassgate.tokens.verifier import TokenVerifier

__all__ = [
    "SAFE_ALGORITHMS",
    "CachedToken",
    "ClaimPath",
    "IssuerPolicy",
    "KeyRing",
    "SigningKey",
    "TokenVerifier",
    "VerifiedTokenCache",
    "parse_jwks",
    "to_principal",
]
