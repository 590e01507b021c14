"""TokenVerifier: a raw JWT access token → ``Principal``, or a ``TokenError``.

The steps, in order (RFC 7515 §5.2, RFC 7519 §7.2, RFC 9068 §4, RFC 8725):

1. size cap, before any decoding;
2. the verified-token cache (by SHA-256 of the token), re-checked against the
   current key ring;
3. split the compact JWS (joserfc, in ``_jose``);
4. screen the header on its own: ``alg``, ``crit``, ``kid`` and ``typ`` types;
5. parse the claims strictly and pick the issuer by the *unverified* ``iss``
   (exact string) — nothing from the claims is trusted before step 8;
6. the issuer's algorithm allow-list and ``typ`` rule;
7. the issuer's key ring: fresh, a key with that ``kid`` that fits ``alg``;
8. the signature, with exactly that key and algorithm;
9. the registered claims with ``now`` and the issuer's leeway;
10. map to a ``Principal`` and cache it until ``exp``.

Pure and synchronous: no I/O, no clock. Key rings and ``now`` come in from the
caller, which also decides whether an ``UnknownKeyError`` is worth a refresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from glassgate.core.principal import Principal, token_fingerprint
from glassgate.errors import (
    KeysStaleError,
    TokenError,
    TokenMalformedError,
    UntrustedIssuerError,
)
from glassgate.tokens import _jose
from glassgate.tokens.cache import CachedToken, VerifiedTokenCache
from glassgate.tokens.claims import Claims, check_claims, parse_payload
from glassgate.tokens.headers import check_header_for_issuer, screen_header, show
from glassgate.tokens.issuers import IssuerPolicy
from glassgate.tokens.keyring import KeyRing
from glassgate.tokens.mapping import to_principal

__all__ = ["TokenVerifier"]


class TokenVerifier:
    """Verifies JWS access tokens for a fixed set of issuers (built once per config).

    The token's size is bounded before it gets here, once, where the credential
    enters (``adapters.http.inbound``, ``limits.max_token_bytes``): every kind of
    credential (JWS, opaque, API key) is capped by the same check.
    """

    __slots__ = ("_by_issuer", "_cache", "issuers")

    def __init__(
        self,
        issuers: Sequence[IssuerPolicy],
        cache: VerifiedTokenCache | None = None,
    ) -> None:
        by_issuer: dict[str, IssuerPolicy] = {}
        ids: set[str] = set()
        for policy in issuers:
            if policy.issuer in by_issuer or policy.id in ids:
                raise ValueError(
                    f"issuer {policy.id!r}: each issuer id and 'iss' value may appear only once"
                )
            by_issuer[policy.issuer] = policy
            ids.add(policy.id)
        self.issuers: tuple[IssuerPolicy, ...] = tuple(issuers)
        self._by_issuer = by_issuer
        self._cache = cache

    def verify(self, raw: str | bytes, keyrings: Mapping[str, KeyRing], now: float) -> Principal:
        """Return the verified ``Principal`` for ``raw``, or raise a ``TokenError``."""
        data = self._as_bytes(raw)
        fingerprint = token_fingerprint(data)
        cache = self._cache
        if cache is not None:
            principal = self._from_cache(cache, fingerprint, keyrings, now)
            if principal is not None:
                return principal
        header_members, payload, signed = _jose.extract(data)
        header = screen_header(header_members)
        claims = parse_payload(payload)
        policy = self._policy_for(claims)
        check_header_for_issuer(header, policy)
        ring = keyrings.get(policy.id)
        if ring is None:
            raise KeysStaleError(f"no keys have been loaded for issuer {policy.id!r}")
        key = ring.lookup(header.kid, header.alg, now)
        _jose.verify_signature(signed, key.handle, header.alg)
        check_claims(claims, policy, now)
        principal = to_principal(claims, policy, fingerprint)
        if cache is not None:
            expires_at = float(claims["exp"])
            thumbprint = key.facts.thumbprint
            entry = CachedToken(
                principal, expires_at, policy.id, header.kid, header.alg, thumbprint
            )
            cache.put(fingerprint, entry)
        return principal

    def issuer_id_of(self, raw: str | bytes) -> str | None:
        """The configured issuer id named by ``raw``'s *unverified* ``iss``, if any.

        For deciding which issuer's keys to refresh after an ``UnknownKeyError``;
        never a basis for trust.
        """
        try:
            _, payload, _ = _jose.extract(self._as_bytes(raw))
            return self._policy_for(parse_payload(payload)).id
        except TokenError:
            return None

    def _as_bytes(self, raw: str | bytes) -> bytes:
        """A compact JWS is ASCII (RFC 7515 §7.1), so anything else is malformed."""
        if isinstance(raw, str):
            if not raw.isascii():
                raise TokenMalformedError("the token holds non-ASCII characters")
            return raw.encode("ascii")
        if isinstance(raw, bytes) and raw.isascii():
            return raw
        raise TokenMalformedError("the token is not ASCII text")

    def _policy_for(self, claims: Claims) -> IssuerPolicy:
        iss = claims.get("iss")
        if type(iss) is not str:
            raise UntrustedIssuerError("the token has no string 'iss'")
        policy = self._by_issuer.get(iss)
        if policy is None:
            raise UntrustedIssuerError(f"'iss' {show(iss)} is not a configured issuer")
        return policy

    @staticmethod
    def _from_cache(
        cache: VerifiedTokenCache, fingerprint: str, keyrings: Mapping[str, KeyRing], now: float
    ) -> Principal | None:
        entry = cache.get(fingerprint, now)
        if entry is None:
            return None
        ring = keyrings.get(entry.issuer_id)
        try:
            if ring is not None:
                key = ring.lookup(entry.kid, entry.alg, now)
                if key.facts.thumbprint == entry.key_thumbprint:
                    return entry.principal
        except TokenError:
            pass
        cache.discard(fingerprint)
        return None
