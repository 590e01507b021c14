"""Provider metadata: OpenID Connect Discovery 1.0 §4 and RFC 8414 §3.

Tried in order: the configured ``discovery_url`` alone if there is one; else
``<issuer>/.well-known/openid-configuration``, then Okta's
``<issuer>/.well-known/oauth-authorization-server``, then the RFC 8414 §3.1 form
with the well-known segment inserted before the issuer's path. The document's
``issuer`` must equal the configured issuer exactly (OIDC Discovery §4.3,
RFC 8414 §3.3): that is what stops one issuer's metadata standing in for another.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from glassgate.adapters.idp._http import fetch_json
from glassgate.config.risks import is_plain_http_elsewhere
from glassgate.errors import IdPUnavailableError

__all__ = ["DISCOVERY_MAX_BYTES", "ProviderMetadata", "discover", "discovery_urls"]

log = logging.getLogger("glassgate")

DISCOVERY_MAX_BYTES = 64 * 1024
_OIDC = "/.well-known/openid-configuration"
_OAUTH = "/.well-known/oauth-authorization-server"


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """What glassgate uses from a discovery document."""

    issuer: str
    jwks_uri: str
    introspection_endpoint: str | None = None
    authorization_endpoint: str | None = None  # the console's IdP sign-in (code flow)
    token_endpoint: str | None = None


def discovery_urls(issuer: str, discovery_url: str | None = None) -> tuple[str, ...]:
    """Where to look for the metadata of ``issuer``, most likely first."""
    if discovery_url:
        return (discovery_url,)
    base = issuer.rstrip("/")
    urls = [base + _OIDC, base + _OAUTH]
    parts = urlsplit(issuer)
    if parts.path not in ("", "/"):
        path = _OAUTH + parts.path.rstrip("/")
        urls.append(urlunsplit((parts.scheme, parts.netloc, path, "", "")))
    return tuple(urls)


async def discover(
    http: httpx.AsyncClient,
    issuer: str,
    *,
    discovery_url: str | None = None,
    timeout: float = 5.0,
    max_bytes: int = DISCOVERY_MAX_BYTES,
) -> ProviderMetadata:
    """Fetch and check ``issuer``'s metadata, or raise ``IdPUnavailableError``."""
    answers: list[str] = []
    for url in discovery_urls(issuer, discovery_url):
        status, document = await fetch_json(
            http, "GET", url, what="discovery", limit=max_bytes, timeout=timeout
        )
        if document is not None:
            return _metadata(document, issuer, url)
        answers.append(f"{url} -> HTTP {status}")
    raise IdPUnavailableError("discovery: no metadata found: " + "; ".join(answers))


def _metadata(document: Mapping[str, Any], issuer: str, url: str) -> ProviderMetadata:
    if document.get("issuer") != issuer:
        raise IdPUnavailableError(
            f"discovery: {url} names issuer {document.get('issuer')!r}, "
            f"not the configured {issuer!r} (exact match required)"
        )
    jwks_uri = _http_url(document.get("jwks_uri"))
    if jwks_uri is None:
        raise IdPUnavailableError(f"discovery: {url} has no usable 'jwks_uri'")
    metadata = ProviderMetadata(
        issuer=issuer,
        jwks_uri=jwks_uri,
        introspection_endpoint=_http_url(document.get("introspection_endpoint")),
        authorization_endpoint=_http_url(document.get("authorization_endpoint")),
        token_endpoint=_http_url(document.get("token_endpoint")),
    )
    for name in ("jwks_uri", "introspection_endpoint", "token_endpoint"):
        found = getattr(metadata, name)
        if is_plain_http_elsewhere(found):  # the config check cannot see discovered URLs
            log.warning(
                "discovery: %s names %s %s, plain HTTP to a host other than loopback: anyone "
                "on the path can substitute signing keys or token answers",
                url,
                name,
                found,
            )
    return metadata


def _http_url(value: object) -> str | None:
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value
    return None
