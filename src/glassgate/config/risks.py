"""Settings that load but deserve a warning: allowed, and risky.

A finding here never stops a config from loading (the gateway may run in a
lab, behind a service mesh that adds TLS, ...); ``check-config`` prints each
one and ``serve`` logs it. Each is ``(path, message, hint)``, located like a
problem.

- An issuer, discovery, JWKS or introspection URL over plain HTTP to a host
  other than loopback: whoever sits on the path can hand the gateway their
  own signing keys, or answer "active" for any token.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from urllib.parse import urlsplit

from glassgate.config.checks import Finding
from glassgate.config.schema import Config

__all__ = ["config_risks", "is_loopback_url", "is_plain_http_elsewhere"]


def is_loopback_url(url: str) -> bool:
    """True for a URL naming ``localhost`` (RFC 6761 6.3) or a loopback address."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_plain_http_elsewhere(url: str | None) -> bool:
    """A plain ``http://`` URL to a host other than loopback: anyone on the path reads it."""
    return url is not None and urlsplit(url).scheme.lower() == "http" and not is_loopback_url(url)


def config_risks(config: Config) -> Iterator[Finding]:
    for index, issuer in enumerate(config.issuers):
        endpoint = issuer.introspection.endpoint if issuer.introspection is not None else None
        urls: tuple[tuple[tuple[str | int, ...], str | None], ...] = (
            (("issuer",), issuer.issuer),
            (("discovery_url",), issuer.discovery_url),
            (("jwks_uri",), issuer.jwks_uri),
            (("introspection", "endpoint"), endpoint),
        )
        for field, url in urls:
            if is_plain_http_elsewhere(url):
                yield (
                    ("issuers", index, *field),
                    f"{url} is plain HTTP to a host other than loopback: anyone on the path "
                    "can substitute signing keys or token answers",
                    "use https://",
                )
