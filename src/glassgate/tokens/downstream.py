"""The short-lived identity JWT the gateway signs for upstreams (ES256).

Upstreams verify it with the gateway's JWKS (``/.well-known/jwks.json``), so
they can trust identity without trusting headers. One token per principal and
audience is cached until shortly before it expires: signing is the expensive
part, and the same caller makes many requests.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from glassgate.core.principal import Principal
from glassgate.tokens.signing import JwtSigner

__all__ = ["IdentitySigner"]

_LIFETIME = 60.0
_CACHE_SIZE = 10_000


_Key = tuple[str, str, str, frozenset[str], str | None, frozenset[str]]


@dataclass(frozen=True, slots=True)
class _Entry:
    token: str
    expires_at: float


class IdentitySigner:
    """Signs identity tokens with an ES256 key that is generated or loaded at start."""

    def __init__(self, issuer: str, signer: JwtSigner | None = None) -> None:
        self.issuer = issuer
        self._signer = signer or JwtSigner.generate("ES256")
        self._jwks = json.dumps(self._signer.jwks(), separators=(",", ":")).encode()
        self._cache: OrderedDict[_Key, _Entry] = OrderedDict()

    def jwks(self) -> bytes:
        return self._jwks

    def token_for(
        self, principal: Principal, audience: str, groups: frozenset[str], now: float
    ) -> str:
        """The identity JWT for ``principal`` at ``audience``.

        ``groups`` are the groups the route names; the token asserts only those
        the principal is really in. Cached per identity (not per access token),
        so a caller's refreshed token does not cost a new signature.
        """
        member_of = principal.groups & groups
        cache_key = (
            principal.issuer,
            principal.subject,
            audience,
            member_of,
            principal.acr,
            principal.amr,
        )
        entry = self._cache.get(cache_key)
        if (
            entry is not None
            and entry.expires_at - 10 > now
            and (principal.expires_at is None or entry.expires_at <= principal.expires_at)
        ):
            return entry.token
        expires = now + _LIFETIME
        if principal.expires_at is not None:
            expires = min(expires, principal.expires_at)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience,
            "sub": principal.subject,
            "src_iss": principal.issuer,
            "groups": sorted(member_of),
            "iat": int(now),
            "exp": int(expires),
        }
        if principal.acr is not None:
            claims["acr"] = principal.acr
        if principal.amr:
            claims["amr"] = sorted(principal.amr)
        token = self._signer.sign(claims)
        self._cache[cache_key] = _Entry(token, expires)
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return token
