"""Authenticator: a bearer token → ``Principal``, driving the pure verifier.

A JWS-shaped token (three dot-separated segments, RFC 7515 §7.1) goes to the
``TokenVerifier``. If its ``kid`` is unknown, or the issuer's keys are missing
or stale, the key source may refresh once (rate-limited, single-flight) and the
token is verified once more; whatever that second attempt says is final.

Any other token is opaque: it is introspected (RFC 7662) at the first issuer
that has introspection configured, since an opaque token names no issuer. With
no such issuer it is simply malformed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from glassgate.adapters.clock import now as system_now
from glassgate.adapters.idp.introspection import IntrospectionClient
from glassgate.adapters.idp.jwks import JwksKeySource, JwksSettings
from glassgate.core.principal import Principal
from glassgate.errors import KeysStaleError, TokenMalformedError, UnknownKeyError
from glassgate.tokens import IssuerPolicy, TokenVerifier, VerifiedTokenCache
from glassgate.types import Clock

if TYPE_CHECKING:
    from glassgate.config.schema import Config

__all__ = ["Authenticator", "build_authenticator"]


class Authenticator:
    """The gateway's one entry point for bearer credentials from an IdP."""

    def __init__(
        self,
        verifier: TokenVerifier,
        keys: JwksKeySource,
        introspection: IntrospectionClient | None = None,
    ) -> None:
        self.verifier = verifier
        self.keys = keys
        self.introspection = introspection

    @property
    def ready(self) -> bool:
        """True once every issuer's keys have been loaded at least once."""
        return self.keys.ready

    async def start(self) -> None:
        """Load keys and start their background refresh (never raises for IdP trouble)."""
        await self.keys.start()

    async def aclose(self) -> None:
        await self.keys.aclose()

    async def authenticate(self, raw: str, now: float) -> Principal:
        """The verified ``Principal`` for ``raw``, or a ``TokenError``.

        ``IdPUnavailableError`` only comes from introspection: a JWT never waits
        on the IdP beyond the one bounded refresh described above.
        """
        if raw.count(".") == 2:
            return await self._verify_jws(raw, now)
        if self.introspection is None:
            raise TokenMalformedError(
                "the token is not a compact JWS and no issuer has introspection configured"
            )
        return await self.introspection.introspect(raw, now)

    async def _verify_jws(self, raw: str, now: float) -> Principal:
        try:
            return self.verifier.verify(raw, self.keys.keyrings, now)
        except (UnknownKeyError, KeysStaleError):
            issuer_id = self.verifier.issuer_id_of(raw)
            if issuer_id is None:
                raise
            await self.keys.refresh_for_unknown_kid(issuer_id, now)
        return self.verifier.verify(raw, self.keys.keyrings, now)


def build_authenticator(
    config: Config,
    http: httpx.AsyncClient,
    *,
    clock: Clock | None = None,
    cache_size: int = 10_000,
) -> Authenticator:
    """Wire verifier, key source and introspection from the configuration."""
    policies = {issuer.id: IssuerPolicy.from_config(issuer) for issuer in config.issuers}
    verifier = TokenVerifier(list(policies.values()), VerifiedTokenCache(cache_size))
    settings = [JwksSettings.from_config(issuer) for issuer in config.issuers]
    keys = JwksKeySource(settings, http, clock or system_now)
    introspection = None
    for issuer in config.issuers:
        if issuer.introspection is not None:
            options = issuer.introspection
            introspection = IntrospectionClient(
                policies[issuer.id],
                http,
                client_id=options.client_id,
                client_secret=options.client_secret,
                endpoint=options.endpoint,
                discovery_url=issuer.discovery_url,
                timeout=options.timeout,
                cache_ttl=options.cache_ttl,
                cache_size=options.cache_size,
                negative_cache_ttl=options.negative_cache_ttl,
                max_concurrency=options.max_concurrency,
            )
            break
    return Authenticator(verifier, keys, introspection)
