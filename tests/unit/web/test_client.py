"""web.client: the console finds the client address as the data plane does, or refuses."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

import pytest

from glassgate.errors import RequestRejectedError
from glassgate.web.client import client_of
from glassgate.web.pages import remaining, utc


class Proxies:
    def __init__(self, *networks: str) -> None:
        self.trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = tuple(
            ip_network(n) for n in networks
        )


def _scope(client: Any, *forwarded: bytes) -> dict[str, Any]:
    return {"client": client, "headers": [(b"x-forwarded-for", f) for f in forwarded]}


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "client"),
    [
        pytest.param("127.0.0.9", [b"10.0.0.1"], (), "127.0.0.9", id="case=no-proxies"),
        pytest.param(
            "127.0.0.9", [b"10.0.0.1"], ("127.0.0.1/32",), "127.0.0.9", id="case=untrusted"
        ),
        pytest.param("127.0.0.1", [b"10.0.0.1"], ("127.0.0.1/32",), "10.0.0.1", id="case=trusted"),
        pytest.param("127.0.0.1", [b"junk"], ("127.0.0.1/32",), "127.0.0.1", id="case=garbage"),
        pytest.param("::ffff:127.0.0.9", [], (), "127.0.0.9", id="case=mapped"),
    ],
)
def test_the_client_address(
    peer: str, forwarded: list[bytes], proxies: tuple[str, ...], client: str
) -> None:
    assert client_of(_scope((peer, 1), *forwarded), Proxies(*proxies)) == ip_address(client)


@pytest.mark.parametrize("peer", [None, ("not-an-address", 1), ("/run/gg.sock", None)])
def test_no_usable_peer_is_refused(peer: Any) -> None:
    with pytest.raises(RequestRejectedError, match="client's address"):
        client_of(_scope(peer), Proxies())


def test_times_read_at_a_glance() -> None:
    assert utc(None) == "never"
    assert utc(0) == "1970-01-01 00:00:00 UTC"
    assert remaining(100, 100) == "none"
    assert remaining(145, 100) == "45 s"
    assert remaining(825, 100) == "12 min 5 s"
