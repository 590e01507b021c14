"""Screen the JWS protected header before any key is looked up (RFC 7515 §4, RFC 8725 §3).

The order matters: a header is judged on its own first, so that ``alg: none``,
HMAC, or an unknown ``crit`` is refused before any key, issuer or network is
involved. ``jku``, ``x5u``, ``jwk`` and ``x5c`` are never read: keys come only
from the issuer's configured JWKS (RFC 8725 §3.10), so those members can point
anywhere without effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from glassgate.errors import DisallowedAlgorithmError, UnsupportedHeaderError
from glassgate.tokens.issuers import MISSING, SAFE_ALGORITHMS, IssuerPolicy

__all__ = ["ScreenedHeader", "check_header_for_issuer", "screen_header", "show"]

#: RFC 9068 §4: "at+jwt"; media types are case-insensitive (RFC 7515 §4.1.9).
_AT_JWT_TYPES: Final = frozenset({"at+jwt", "application/at+jwt"})


class ScreenedHeader(NamedTuple):
    """The header members a verifier may act on, with their types checked.

    A NamedTuple rather than a frozen dataclass: one is built per token on the
    hot path, and a tuple is three times cheaper to build.
    """

    alg: str
    kid: str | None
    typ: str | None


def show(value: object, limit: int = 40) -> str:
    """A short, escaped rendering of an untrusted value for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def screen_header(header: Mapping[str, Any]) -> ScreenedHeader:
    """Check the header on its own, or raise.

    - ``alg`` must be a string naming an asymmetric algorithm we verify: ``none``
      in any letter case and every ``HS*`` fail here even if an issuer lists them
      (RFC 8725 §2.1, §3.1);
    - any ``crit`` fails: we understand no extension, ``b64`` included
      (RFC 7515 §4.1.11, RFC 7797 §6), and so does a bare ``b64``;
    - ``kid`` and ``typ`` must be strings when present (RFC 7515 §4.1.4, §4.1.9).
    """
    alg = header.get("alg", MISSING)
    if alg is MISSING:
        raise DisallowedAlgorithmError("the JWS header has no 'alg'")
    if type(alg) is not str or alg not in SAFE_ALGORITHMS:
        raise DisallowedAlgorithmError(f"algorithm {show(alg)} is not accepted")
    if "crit" in header:
        raise UnsupportedHeaderError("the JWS header has 'crit'; no extension is understood")
    if "b64" in header:
        raise UnsupportedHeaderError("the JWS header has 'b64'; unencoded payloads are refused")
    kid = header.get("kid")
    if kid is not None and type(kid) is not str:
        raise UnsupportedHeaderError(f"'kid' must be a string, not {type(kid).__name__}")
    if "kid" in header and kid is None:
        raise UnsupportedHeaderError("'kid' must be a string, not null")
    typ = header.get("typ")
    if typ is not None and type(typ) is not str:
        raise UnsupportedHeaderError(f"'typ' must be a string, not {type(typ).__name__}")
    return ScreenedHeader(alg, kid, typ)


def check_header_for_issuer(header: ScreenedHeader, policy: IssuerPolicy) -> None:
    """Apply the issuer's own rules: its algorithm allow-list (exact,
    case-sensitive) and, when configured, RFC 9068 §4 ``typ: at+jwt``."""
    if header.alg not in policy.algorithms:
        raise DisallowedAlgorithmError(
            f"algorithm {header.alg} is not allowed for issuer {policy.id!r}"
        )
    if policy.require_at_jwt and (header.typ is None or header.typ.lower() not in _AT_JWT_TYPES):
        raise UnsupportedHeaderError(
            f"issuer {policy.id!r} requires typ 'at+jwt', got {show(header.typ)}"
        )
