"""adapters.http.inbound: every door canonicalises the request the same way (issue 11 B, C).

The proxy door reads the request line; nginx describes the request in
``X-Original-URI``, Traefik and Caddy in ``X-Forwarded-Uri``/``-Host``, Envoy
below a path prefix. A path parameter or an odd host must be refused through
each of them, not only through the one a test happened to try.
"""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from glassgate.adapters.http.inbound import Inbound, read_ext_authz, read_forwarded, read_request
from glassgate.errors import HostRejectedError, PathRejectedError, RequestRejectedError

INBOUND = Inbound((ip_network("127.0.0.1/32"),), 32 * 1024, 16 * 1024)
PEER = "127.0.0.1"
PARAMETER_PATHS = [
    "/admin;x/users",
    "/admin;/users",
    "/admin%3Bx/users",
    "/admin%3bx/users",
    "/admin;x",
    "/admin%3B",
    "/admin/users;jsessionid=1",
    "/x/..;/admin",
]


def _headers(*pairs: tuple[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode("latin-1")) for name, value in pairs]


def _nginx(uri: str) -> list[tuple[bytes, bytes]]:
    return _headers(
        ("Host", "gw"), ("X-Original-URI", uri), ("X-Original-Method", "GET"),
        ("X-Forwarded-For", "192.0.2.1"),
    )  # fmt: skip


def _traefik(uri: str, host: str = "api.example.com") -> list[tuple[bytes, bytes]]:
    return _headers(
        ("Host", "gw"), ("X-Forwarded-Uri", uri), ("X-Forwarded-Method", "GET"),
        ("X-Forwarded-Host", host), ("X-Forwarded-For", "192.0.2.1"),
    )  # fmt: skip


@pytest.mark.parametrize("path", PARAMETER_PATHS)
def test_path_parameter_refused_by_the_proxy_door(path: str) -> None:
    with pytest.raises(PathRejectedError):
        read_request(INBOUND, "GET", path.encode(), b"", _headers(("Host", "gw")), PEER)


@pytest.mark.parametrize("path", PARAMETER_PATHS)
def test_path_parameter_refused_through_x_original_uri(path: str) -> None:
    with pytest.raises(PathRejectedError):
        read_forwarded(INBOUND, _nginx(path), PEER)


@pytest.mark.parametrize("path", PARAMETER_PATHS)
def test_path_parameter_refused_through_x_forwarded_uri(path: str) -> None:
    with pytest.raises(PathRejectedError):
        read_forwarded(INBOUND, _traefik(path), PEER)


@pytest.mark.parametrize("path", PARAMETER_PATHS)
def test_path_parameter_refused_through_ext_authz(path: str) -> None:
    raw = b"/_glassgate/ext_authz" + path.encode()
    headers = _headers(("Host", "gw"), ("X-Forwarded-For", "192.0.2.1"))
    with pytest.raises(PathRejectedError):
        read_ext_authz(INBOUND, b"/_glassgate/ext_authz", "GET", raw, b"", headers, PEER)


def test_semicolon_in_the_query_is_kept() -> None:
    facts = read_forwarded(INBOUND, _nginx("/admin/users?a=1;b=2"), PEER)
    assert (facts.request.path, facts.query) == ("/admin/users", b"a=1;b=2")


@pytest.mark.parametrize(
    "host", ["Admin.Example.com.", "admin.example.com.:443", "admin.example.com"]
)
def test_host_is_canonical_on_every_door(host: str) -> None:
    direct = read_request(INBOUND, "GET", b"/x", b"", _headers(("Host", host)), PEER)
    described = read_forwarded(INBOUND, _traefik("/x", host=host), PEER)
    assert direct.request.host == described.request.host == "admin.example.com"


@pytest.mark.parametrize("host", ["admin.example.com..", "a..b", "admin%2eexample.com"])
def test_malformed_forwarded_host_is_refused(host: str) -> None:
    with pytest.raises(HostRejectedError):
        read_forwarded(INBOUND, _traefik("/x", host=host), PEER)


def test_two_host_headers_are_ambiguous() -> None:
    headers = _headers(("Host", "public.example.com"), ("Host", "admin.example.com"))
    with pytest.raises(RequestRejectedError) as info:
        read_request(INBOUND, "GET", b"/x", b"", headers, PEER)
    assert info.value.status == 400


def test_missing_host_is_empty() -> None:
    facts = read_request(INBOUND, "GET", b"/x", b"", [], PEER)
    assert facts.request.host == ""
