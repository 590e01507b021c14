"""The ``websocket.close`` event: one record per WebSocket tunnel, written when it closes.

The upgrade itself is audited like any request (the ``decision`` record of
its GET); this record adds what only the end knows: how long the tunnel
lived, the message bytes each way, who closed it and why (``client``,
``upstream``, ``idle-timeout``, ``max-lifetime``, ``credential-expired``,
``credential-revoked``) and the close code. Who and what come from the
verified principal and the canonical request, cleaned like a decision's.
"""

from __future__ import annotations

from dataclasses import dataclass

from glassgate.audit.records import AuditEvent
from glassgate.audit.screening import redact_text
from glassgate.core.principal import Principal
from glassgate.core.request import AccessRequest

__all__ = ["TUNNEL_CLOSED", "TunnelFigures", "tunnel_event"]

TUNNEL_CLOSED = "websocket.close"
_MAX_PATH = 2048


@dataclass(frozen=True, slots=True)
class TunnelFigures:
    """What passed through one tunnel (the adapter's report, as plain values)."""

    target: str
    to_upstream: int
    to_client: int
    seconds: float
    closed_by: str
    code: int


def tunnel_event(
    request: AccessRequest,
    principal: Principal | None,
    route: str | None,
    figures: TunnelFigures,
    *,
    at: float,
) -> AuditEvent:
    """The audit event for a tunnel that has just closed."""
    return AuditEvent(
        type=TUNNEL_CLOSED,
        outcome=figures.closed_by,  # one of the fixed kebab-case reasons above
        at=at,
        subject=None if principal is None else redact_text(principal.subject),
        route=route,
        token_hash=(principal.token_hash or None) if principal is not None else None,
        jti=None
        if principal is None or principal.token_id is None
        else redact_text(principal.token_id),
        details={
            "path": redact_text(request.path, _MAX_PATH),
            "host": redact_text(request.host, 255),
            "client_ip": str(request.client_ip),
            "upstream_target": redact_text(figures.target, 255),
            "bytes_to_upstream": figures.to_upstream,
            "bytes_to_client": figures.to_client,
            "duration_s": round(figures.seconds, 3),
            "close_code": figures.code,
        },
    )
