"""The only builder of AccessRequest: raw ASGI request facts in, canonical facts out.

Everything a client controls is checked here, once: the path (``core.paths``),
header section size, framing headers (RFC 9112 6.1: an unknown transfer coding
is 501), ambiguous credentials (two Authorization headers is 400), and the
client address (``trusted_proxies``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address

from glassgate.adapters.http.trusted_proxies import client_address
from glassgate.core.paths import canonical_path
from glassgate.core.request import AccessRequest
from glassgate.errors import RequestRejectedError

__all__ = ["Inbound", "RequestFacts", "read_request"]

Network = IPv4Network | IPv6Network
Headers = list[tuple[bytes, bytes]]

_BEARER = re.compile(rb"^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*) *$")
_SCHEME_ONLY = re.compile(rb"^[Bb][Ee][Aa][Rr][Ee][Rr] *$")


class HeaderTooLargeError(RequestRejectedError):
    code = "header_too_large"
    status = 431


class UnsupportedCodingError(RequestRejectedError):
    code = "unsupported_transfer_coding"
    status = 501


@dataclass(frozen=True, slots=True)
class Inbound:
    """Limits and trust settings for reading requests; built once per config."""

    trusted_proxies: tuple[Network, ...]
    max_header_bytes: int
    max_token_bytes: int


@dataclass(frozen=True, slots=True)
class RequestFacts:
    request: AccessRequest
    raw_path: str
    query: bytes
    token: str | None
    token_malformed: bool
    chunked: bool
    content_length: int | None


def _host(headers: Headers) -> str:
    for name, value in headers:
        if name == b"host":
            host = value.decode("latin-1").strip().lower()
            if host.startswith("["):
                return host.split("]", 1)[0] + "]"
            return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return ""


def _credential(values: list[bytes], limit: int) -> tuple[str | None, bool]:
    """(token, malformed). Two Authorization headers are ambiguous: rejected, never picked."""
    if not values:
        return None, False
    if len(values) > 1:
        raise RequestRejectedError("more than one Authorization header")
    value = values[0]
    if len(value) > limit + 16:
        return None, True
    match = _BEARER.match(value)
    if match is None:
        return None, not _SCHEME_ONLY.match(value) and value[:7].lower() == b"bearer "
    return match.group(1).decode("ascii"), False


def _framing(headers: Headers) -> tuple[bool, int | None]:
    codings = [v for n, v in headers if n == b"transfer-encoding"]
    lengths = [v for n, v in headers if n == b"content-length"]
    if codings and lengths:
        raise RequestRejectedError("both Content-Length and Transfer-Encoding are present")
    if codings:
        if len(codings) != 1 or codings[0].strip().lower() != b"chunked":
            raise UnsupportedCodingError("only the chunked transfer coding is supported")
        return True, None
    if not lengths:
        return False, None
    if len(set(lengths)) != 1 or not lengths[0].strip().isdigit():
        raise RequestRejectedError("invalid Content-Length")
    return False, int(lengths[0])


def read_request(
    settings: Inbound,
    method: str,
    raw_path: bytes,
    query: bytes,
    headers: Headers,
    peer: str | None,
) -> RequestFacts:
    """Check and canonicalise one request; raises RequestRejectedError (with a status)."""
    if sum(len(n) + len(v) + 4 for n, v in headers) > settings.max_header_bytes:
        raise HeaderTooLargeError("the request header section is too large")
    path = canonical_path(raw_path.decode("latin-1"))
    chunked, length = _framing(headers)
    token, malformed = _credential(
        [v for n, v in headers if n == b"authorization"], settings.max_token_bytes
    )
    try:
        tcp_peer = ip_address(peer or "")
    except ValueError:
        tcp_peer = ip_address("0.0.0.0")  # noqa: S104 - unknown peer: matches no allow-list
    client = client_address(
        tcp_peer, [v for n, v in headers if n == b"x-forwarded-for"], settings.trusted_proxies
    )
    request = AccessRequest(method=method.upper(), path=path, client_ip=client, host=_host(headers))
    return RequestFacts(
        request, raw_path.decode("latin-1"), query, token, malformed, chunked, length
    )
