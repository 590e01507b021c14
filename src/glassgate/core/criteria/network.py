"""Network zones: the client address must be in an allowed zone and in no denied one.

Deny wins. The client address is what the inbound adapter established (the TCP
peer, or the right-most untrusted hop behind trusted proxies), never a header.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network

from glassgate.core.criteria.base import Check, Context, Verdict
from glassgate.core.reasons import Reason
from glassgate.core.request import IPAddress

__all__ = ["NetworkConfig", "compile_network"]

Network = IPv4Network | IPv6Network


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    allow: tuple[Network, ...] = ()
    deny: tuple[Network, ...] = ()

    @classmethod
    def from_cidrs(cls, allow: tuple[str, ...], deny: tuple[str, ...]) -> NetworkConfig:
        return cls(tuple(ip_network(c) for c in allow), tuple(ip_network(c) for c in deny))


def _plain(address: IPAddress) -> IPAddress:
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if mapped is not None else address


def _inside(address: IPAddress, networks: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def compile_network(config: NetworkConfig) -> Check | None:
    if not config.allow and not config.deny:
        return None

    ok = Verdict.ok(Reason.NETWORK_OK, "the client address is allowed")

    def check(ctx: Context) -> Verdict:
        address = _plain(ctx.request.client_ip)
        if _inside(address, config.deny):
            return Verdict.deny(Reason.NETWORK_DENIED, f"client {address} is in a denied network")
        if config.allow and not _inside(address, config.allow):
            return Verdict.deny(Reason.NETWORK_DENIED, f"client {address} is in no allowed network")
        return ok

    return check
