"""The forward-auth door: a proxy asks "may this request pass?", glassgate answers.

Compatible with nginx ``auth_request`` (``X-Original-URI``/``-Method``),
Traefik ``ForwardAuth`` and Caddy ``forward_auth`` (``X-Forwarded-Method``,
``-Uri``, ``-Host``, ``-Proto``) at ``forward_auth.path``, and Envoy's HTTP
``ext_authz`` below ``forward_auth.ext_authz_prefix`` (the original path is the
request path after the prefix; method and headers as they are).

It decides through the same ``Gate.check`` as the proxy door (ARCHITECTURE 8.4,
habit 3): ``inbound.read_forwarded``/``read_ext_authz`` build the facts,
``outbound.answer_for_decision`` writes 401 (RFC 6750 3; RFC 9470 3 for a
step-up), 403 and 429. Only the 200 is specific to this door: it carries
glassgate's identity headers (``X-Glassgate-Subject``, ``-Issuer``, ``-Groups``,
``-Identity``) for the proxy to copy onto the request it forwards.

Trust: the forwarded method and URI *are* the request being authorised, so a
caller that could reach this endpoint directly could ask about any request it
likes and collect signed identity tokens. The door is therefore off unless
``forward_auth.enabled``, and even then answers only TCP peers listed in its
own ``forward_auth.allowed_peers`` (default: none); anyone else gets 403.
That list is not ``trusted_proxies``: a load balancer trusted for
``X-Forwarded-For`` would otherwise let every client behind it ask the door.
Keep the endpoint reachable by the proxy alone.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from ipaddress import ip_address

from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.http.identity_out import PREFIX, upstream_identity
from glassgate.adapters.http.inbound import Inbound, RequestFacts, read_ext_authz, read_forwarded
from glassgate.adapters.http.outbound import (
    Answer,
    answer_for_decision,
    answer_for_rejection,
    answer_forbidden,
    with_rate_limit,
)
from glassgate.config.schema import ForwardAuthConfig
from glassgate.core.principal import CredentialKind
from glassgate.errors import RequestRejectedError, UntrustedCallerError
from glassgate.ports import DoorState
from glassgate.tokens.downstream import IdentitySigner
from glassgate.types import Headers, Scope

__all__ = ["Door", "door_for", "forward_auth"]

log = logging.getLogger("glassgate")


_NO_STORE = (b"cache-control", b"no-store")


class Door(StrEnum):
    FORWARDED = "forwarded"  # nginx, Traefik, Caddy: the request is described in headers
    EXT_AUTHZ = "ext_authz"  # Envoy: the request path below the prefix


def door_for(config: ForwardAuthConfig, raw_path: bytes) -> Door | None:
    """Which forward-auth door a raw path opens, if the door is enabled at all."""
    if not config.enabled:
        return None
    if raw_path == config.path.encode():
        return Door.FORWARDED
    prefix = config.ext_authz_prefix.encode()
    if raw_path == prefix or raw_path.startswith(prefix + b"/"):
        return Door.EXT_AUTHZ
    return None


def _check_caller(inbound: Inbound, peer: str | None) -> None:
    try:
        address = ip_address(peer or "")
    except ValueError:
        raise UntrustedCallerError("the caller's address is unknown") from None
    mapped = getattr(address, "ipv4_mapped", None)
    address = mapped if mapped is not None else address
    if not any(address.version == n.version and address in n for n in inbound.door_peers):
        raise UntrustedCallerError("the caller is not listed in forward_auth.allowed_peers")


def _facts(
    door: Door, inbound: Inbound, prefix: str, scope: Scope, peer: str | None
) -> RequestFacts:
    headers: Headers = scope["headers"]
    if door is Door.FORWARDED:
        return read_forwarded(inbound, headers, peer)
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    return read_ext_authz(
        inbound,
        prefix.encode(),
        scope["method"],
        raw_path,
        scope.get("query_string", b""),
        headers,
        peer,
    )


def _allowed(result: GateResult, signer: IdentitySigner) -> Answer:
    """200 and the identity headers the proxy copies upstream (none when anonymous)."""
    headers = [_NO_STORE]
    route = result.route
    if result.principal is not None and route is not None:
        extra = upstream_identity(result, route, signer, "")
        # The proxy sets X-Forwarded-* itself; only glassgate's own headers are ours to give.
        headers.extend(h for h in extra if h[0].startswith(PREFIX))
    return Answer(200, with_rate_limit(headers, result.quota), b"")


async def forward_auth(
    door: Door,
    config: ForwardAuthConfig,
    state: DoorState,
    signer: IdentitySigner,
    scope: Scope,
) -> Answer:
    """Decide the request the caller describes; every failure is an answer, never a 200."""
    inbound, gate = state.inbound, state.gate
    client = scope.get("client")
    peer = client[0] if client else None
    try:
        _check_caller(inbound, peer)
        facts = _facts(door, inbound, config.ext_authz_prefix, scope, peer)
    except UntrustedCallerError as exc:
        log.warning("forward-auth call refused: %s (peer %s)", exc, peer)
        return answer_for_rejection(exc)
    except RequestRejectedError as exc:
        return answer_for_rejection(exc)
    result = await gate.check(facts)
    if not result.decision.allowed:
        return answer_for_decision(result.decision, result.quota)
    principal, breakglass = result.principal, state.breakglass_door
    if principal is not None and principal.kind is CredentialKind.BREAKGLASS and breakglass:
        if breakglass.needs_proxy(result):  # body guard, sealed credential: the proxy only
            return answer_forbidden("breakglass-needs-proxy")
        await breakglass.note_use(result)
    return _allowed(result, signer)
