"""AccessRequest: the facts about one HTTP request that the policy may look at."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from types import MappingProxyType

__all__ = ["AccessRequest", "IPAddress", "address_text"]

IPAddress = IPv4Address | IPv6Address

_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """Built only by the inbound adapter, after path canonicalisation.

    ``path`` is the canonical, decoded path (see ``core.paths``); ``method`` is
    the real request method, upper-case; ``host`` is lower-case without port.
    """

    method: str
    path: str
    client_ip: IPAddress
    host: str = ""
    headers: Mapping[str, str] = field(default_factory=lambda: _NO_HEADERS, compare=False)


@functools.lru_cache(maxsize=4096)
def address_text(address: IPAddress) -> str:
    """``str(address)``, memoised: it is pure Python and slow, and clients repeat.

    The audit record and the access line write the client's address for every
    request; the inbound adapter hands out one address object per peer.
    """
    return str(address)
