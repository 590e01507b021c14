"""The client address of a console request, found exactly as the data plane finds it.

The TCP peer, unless the peer is one of the serving config's
``trusted_proxies``; then ``X-Forwarded-For`` is read hop by hop from the
right (``adapters.http.trusted_proxies``). Sign-in networks, the sign-in
throttle and the binding of sessions to an address all use this one answer.
"""

from __future__ import annotations

from ipaddress import ip_address

from glassgate.adapters.http.trusted_proxies import client_address
from glassgate.core.request import IPAddress
from glassgate.errors import RequestRejectedError
from glassgate.ports import TrustedProxiesView
from glassgate.types import Scope

__all__ = ["client_of"]


def client_of(scope: Scope, proxies: TrustedProxiesView) -> IPAddress:
    client = scope.get("client")
    try:
        peer = ip_address(client[0]) if client else None
    except ValueError:
        peer = None
    if peer is None:  # a Unix socket or a server that gives no peer: nothing to bind to
        raise RequestRejectedError("the console cannot tell the client's address")
    forwarded = [value for name, value in scope["headers"] if name == b"x-forwarded-for"]
    return client_address(peer, forwarded, proxies.trusted_proxies)
