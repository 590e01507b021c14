"""The seam after authentication: a verified principal, then what glassgate adds to it.

``EnrichedAuthenticator`` wraps the credential path (the ``CredentialRouter``)
and passes each verified principal through its ``PrincipalEnricher``s in
order: the directory's groups today (``directory.merge_groups``), grant
groups next. It is only built when an enricher is configured, so a gateway
without one pays nothing per request.
"""

from __future__ import annotations

from glassgate.core.principal import Principal
from glassgate.ports import Authenticates, PrincipalEnricher

__all__ = ["EnrichedAuthenticator"]


class EnrichedAuthenticator:
    def __init__(self, inner: Authenticates, enrichers: tuple[PrincipalEnricher, ...]) -> None:
        if not enrichers:
            raise ValueError("an EnrichedAuthenticator needs at least one enricher")
        self._inner = inner
        self._enrichers = enrichers

    async def authenticate(self, raw: str, now: float) -> Principal:
        principal = await self._inner.authenticate(raw, now)
        for enricher in self._enrichers:
            principal = enricher.enrich(principal, now)
        return principal
