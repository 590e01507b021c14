"""The only builder of AccessRequest: raw ASGI request facts in, canonical facts out.

Everything a client controls is checked here, once: the path (``core.paths``),
the host (``core.hosts``: one canonical spelling, a second ``Host`` is 400),
header section size, framing headers (RFC 9112 6.1: an unknown transfer coding
is 501), ambiguous credentials (two Authorization headers is 400), the
credential's size (``limits.max_token_bytes``: the one cap, for JWS, opaque
tokens and API keys alike), and the client address (``trusted_proxies``).

The forward-auth door asks about a request a proxy describes rather than the
request it received: ``read_forwarded`` takes the method and target from the
nginx ``X-Original-*`` or the Traefik/Caddy ``X-Forwarded-Method/-Uri`` headers,
``read_ext_authz`` the path below Envoy's prefix. Both end in ``read_request``,
so the described request gets exactly the same checks as a proxied one. A
missing, repeated, mixed or malformed description is 400, never a guess.

Two checks more. The proxy forwards its own copy of the path, not our canonical
one, so a described path with dot segments (plain or percent-encoded) or
repeated slashes, which an upstream might read differently, is rejected. And
the caller is a proxy, never the client, so the proxy must say who the client
is in ``X-Forwarded-For``: without it every network rule would see the proxy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Final

from glassgate.adapters.http.trusted_proxies import client_address
from glassgate.core.hosts import canonical_host
from glassgate.core.paths import canonical_path, split_target
from glassgate.core.request import AccessRequest, IPAddress
from glassgate.errors import (
    ForwardedRequestError,
    HeaderTooLargeError,
    HostRejectedError,
    RequestRejectedError,
    UnsupportedCodingError,
)
from glassgate.types import Headers
from glassgate.workflows.sessions import SESSION_COOKIE, is_session_token

__all__ = [
    "Inbound",
    "RequestFacts",
    "read_ext_authz",
    "read_forwarded",
    "read_request",
    "session_cookie",
]

Network = IPv4Network | IPv6Network

_BEARER = re.compile(rb"^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*) *$")
_SCHEME_ONLY = re.compile(rb"^[Bb][Ee][Aa][Rr][Ee][Rr] *$")
_METHOD = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}$")  # RFC 9110 5.6.2 token
_NGINX = (b"x-original-uri", b"x-original-method")
_PROXY = (b"x-forwarded-uri", b"x-forwarded-method")
_UNNORMALISED = re.compile(rb"//|/(?:\.|%2[Ee]){1,2}(?:/|$)")
_SESSION_COOKIE = SESSION_COOKIE.encode("ascii") + b"="
_MAX_PEERS = 1024


@dataclass(frozen=True, slots=True)
class Inbound:
    """Limits and trust settings for reading requests; built once per config.

    ``peers`` caches the client address per TCP peer string when no proxy is
    trusted (parsing an address costs more than the lookup). It belongs to the
    state built from one config, so a reload that adds ``trusted_proxies``
    starts from an empty cache.
    """

    trusted_proxies: tuple[Network, ...]
    max_header_bytes: int
    max_token_bytes: int
    door_peers: tuple[Network, ...] = ()  # forward_auth.allowed_peers: who may ask the door
    breakglass_cookie: bool = False  # read the break-glass session cookie (breakglass: set)
    peers: dict[str | None, IPAddress] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class RequestFacts:
    request: AccessRequest
    raw_path: str
    query: bytes
    token: str | None
    token_malformed: bool
    chunked: bool
    content_length: int | None


# The headers read_request looks at; everything else is only counted towards the size cap.
_READ: Final = frozenset(
    {b"host", b"authorization", b"transfer-encoding", b"content-length", b"x-forwarded-for"}
)


def _scan(headers: Headers) -> tuple[int, dict[bytes, list[bytes]]]:
    """One pass over the header list: its size (as the cap counts it) and the headers read.

    Why one pass: each request's list was walked once per header read (size,
    framing, credential, host, forwarding); this walks it once.
    """
    size = 0
    found: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        size += len(name) + len(value) + 4
        if name in _READ:
            values = found.get(name)
            if values is None:
                found[name] = [value]
            else:
                values.append(value)
    return size, found


def _host(values: list[bytes]) -> str:
    """The canonical ``Host``; two of them are ambiguous (RFC 9112 3.2): rejected, never picked."""
    if len(values) > 1:
        raise HostRejectedError("more than one Host header")
    return _host_name(values[0]) if values else ""


def _host_name(value: bytes) -> str:
    return canonical_host(value.decode("latin-1"))


def _credential(values: list[bytes], limit: int) -> tuple[str | None, bool]:
    """(token, malformed). Two Authorization headers are ambiguous: rejected, never picked."""
    if not values:
        return None, False
    if len(values) > 1:
        raise RequestRejectedError("more than one Authorization header")
    value = values[0]
    match = _BEARER.match(value)  # bounded work: the header section is capped first
    if match is None:
        return None, not _SCHEME_ONLY.match(value) and value[:7].lower() == b"bearer "
    token = match.group(1)
    if len(token) > limit:  # the one token size cap, for every kind of credential
        return None, True
    return token.decode("ascii"), False


def session_cookie(headers: Headers) -> str | None:
    """The break-glass session cookie, if exactly one holds a ``ggbg_`` token.

    The only cookie glassgate reads: an IdP token in a cookie is never a
    credential, whatever its name, and two of ours are ambiguous (ignored).
    """
    found: list[bytes] = []
    for name, value in headers:
        if name == b"cookie" and _SESSION_COOKIE in value:
            for raw in value.split(b";"):
                part = raw.strip()
                if part.startswith(_SESSION_COOKIE):
                    found.append(part[len(_SESSION_COOKIE) :])
    if len(found) != 1:
        return None
    try:
        token = found[0].decode("ascii")
    except UnicodeDecodeError:
        return None
    return token if is_session_token(token) else None


def _framing(codings: list[bytes], lengths: list[bytes]) -> tuple[bool, int | None]:
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


def _peer_address(peer: str | None) -> IPAddress:
    try:
        return ip_address(peer or "")
    except ValueError:
        return ip_address("0.0.0.0")  # noqa: S104 - unknown peer: matches no allow-list


def read_request(
    settings: Inbound,
    method: str,
    raw_path: bytes,
    query: bytes,
    headers: Headers,
    peer: str | None,
    host: bytes | None = None,
) -> RequestFacts:
    """Check and canonicalise one request; raises RequestRejectedError (with a status).

    ``host`` overrides the ``Host`` header (the forward-auth door passes
    ``X-Forwarded-Host``, the original request's host).
    """
    size, found = _scan(headers)
    if size > settings.max_header_bytes:
        raise HeaderTooLargeError("the request header section is too large")
    path = canonical_path(raw_path.decode("latin-1"))
    chunked, length = _framing(
        found.get(b"transfer-encoding", []), found.get(b"content-length", [])
    )
    token, malformed = _credential(found.get(b"authorization", []), settings.max_token_bytes)
    if token is None and not malformed and settings.breakglass_cookie:
        token = session_cookie(headers)  # the browser's break-glass session, never a JWT
    if settings.trusted_proxies:
        client = client_address(
            _peer_address(peer),
            found.get(b"x-forwarded-for", []),
            settings.trusted_proxies,
        )
    else:  # X-Forwarded-For is ignored: the client is the peer, parsed once per peer string
        peers = settings.peers
        cached = peers.get(peer)
        if cached is None:
            cached = client_address(_peer_address(peer), [], ())
            if len(peers) >= _MAX_PEERS:
                peers.clear()
            peers[peer] = cached
        client = cached
    name = _host(found.get(b"host", [])) if host is None else _host_name(host)
    request = AccessRequest(method=method.upper(), path=path, client_ip=client, host=name)
    return RequestFacts(
        request, raw_path.decode("latin-1"), query, token, malformed, chunked, length
    )


def _named(headers: Headers, names: tuple[bytes, ...]) -> dict[bytes, bytes]:
    """The headers among ``names`` that are present; a repeated one is ambiguous."""
    found: dict[bytes, bytes] = {}
    for name, value in headers:
        if name in names:
            if name in found:
                raise ForwardedRequestError(f"more than one {name.decode()} header")
            found[name] = value
    return found


def _check_described(raw_path: bytes, headers: Headers) -> None:
    if _UNNORMALISED.search(raw_path):
        raise ForwardedRequestError(
            "the forwarded path has dot segments or repeated slashes; the proxy forwards it as is"
        )
    if not any(name == b"x-forwarded-for" for name, _ in headers):
        raise ForwardedRequestError("the proxy must name the client in X-Forwarded-For")


def read_forwarded(settings: Inbound, headers: Headers, peer: str | None) -> RequestFacts:
    """The request a proxy asks about (nginx ``auth_request``, Traefik, Caddy).

    nginx describes it with ``X-Original-URI`` and ``X-Original-Method``;
    Traefik and Caddy with ``X-Forwarded-Uri``, ``-Method`` and ``-Host``. Both
    pairs present means a client smuggled one in past a proxy that sets only
    the other: rejected, never resolved by preference.
    """
    nginx, proxy = _named(headers, _NGINX), _named(headers, _PROXY)
    if nginx and proxy:
        raise ForwardedRequestError("both X-Original-* and X-Forwarded-Uri/-Method are present")
    names, found = (_NGINX, nginx) if nginx else (_PROXY, proxy)
    missing = [n.decode() for n in names if n not in found]
    if missing:
        raise ForwardedRequestError(f"the forwarded request lacks {', '.join(missing)}")
    uri, method = found[names[0]], found[names[1]]
    if _METHOD.match(method) is None:
        raise ForwardedRequestError("the forwarded method is not an HTTP method token")
    raw_path, query = split_target(uri.decode("latin-1"))  # absolute-form, '*': 400
    _check_described(raw_path.encode("latin-1"), headers)
    host = _named(headers, (b"x-forwarded-host",)).get(b"x-forwarded-host") if proxy else None
    return read_request(
        settings,
        method.decode("ascii"),
        raw_path.encode("latin-1"),
        query.encode("latin-1"),
        headers,
        peer,
        host=host,
    )


def read_ext_authz(
    settings: Inbound,
    prefix: bytes,
    method: str,
    raw_path: bytes,
    query: bytes,
    headers: Headers,
    peer: str | None,
) -> RequestFacts:
    """The request Envoy's HTTP ext_authz asks about: the path below ``prefix``.

    Envoy sends the original method, headers and ``path_prefix + path``; what
    remains after the prefix must itself be an origin-form path.
    """
    if not raw_path.startswith(prefix + b"/"):
        raise ForwardedRequestError("the ext_authz path must continue below the prefix with '/'")
    _check_described(raw_path[len(prefix) :], headers)
    return read_request(settings, method, raw_path[len(prefix) :], query, headers, peer)
