"""The identity provider adapter: discovery, JWKS, introspection, and the Authenticator.

Everything here does network I/O (httpx, async) on behalf of the pure
``glassgate.tokens`` package: it fetches provider metadata and key sets, keeps
each issuer's ``KeyRing`` fresh, introspects opaque tokens, and drives the
``TokenVerifier``. It is the only place ``httpx`` exceptions are caught; each
becomes an ``IdPUnavailableError``.
"""

from __future__ import annotations

from glassgate.adapters.idp.authenticator import Authenticator, build_authenticator
from glassgate.adapters.idp.discovery import ProviderMetadata, discover
from glassgate.adapters.idp.introspection import IntrospectionClient
from glassgate.adapters.idp.jwks import JwksKeySource, JwksSettings

__all__ = [
    "Authenticator",
    "IntrospectionClient",
    "JwksKeySource",
    "JwksSettings",
    "ProviderMetadata",
    "build_authenticator",
    "discover",
]
