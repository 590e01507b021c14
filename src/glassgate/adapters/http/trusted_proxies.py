"""The client address: the TCP peer, unless the peer is a configured trusted proxy.

``X-Forwarded-For`` is believed only hop by hop from the right: each address
added by a trusted proxy is skipped, and the first untrusted one is the client
(the right-most untrusted hop). Without trusted proxies the header is ignored
entirely, and so are ``X-Real-IP``, ``Forwarded``, ``True-Client-IP`` and the rest.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address

from glassgate.core.request import IPAddress

__all__ = ["client_address"]

Network = IPv4Network | IPv6Network
_MAX_HOPS = 32


def _plain(address: IPAddress) -> IPAddress:
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if mapped is not None else address


def _trusted(address: IPAddress, proxies: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def client_address(
    peer: IPAddress, forwarded_for: list[bytes], proxies: tuple[Network, ...]
) -> IPAddress:
    """The client as established from the peer and X-Forwarded-For header values."""
    current = _plain(peer)
    if not proxies or not _trusted(current, proxies):
        return current
    hops = [h.strip() for v in forwarded_for for h in v.decode("latin-1").split(",")]
    for hop in reversed(hops[-_MAX_HOPS:]):
        try:
            address = _plain(ip_address(hop))
        except ValueError:
            return current  # garbage from an untrusted party: stop at the last good hop
        current = address
        if not _trusted(current, proxies):
            return current
    return current
