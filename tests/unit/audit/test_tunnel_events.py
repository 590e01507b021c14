"""The websocket.close audit event: figures, who and what, and hostile text cleaned."""

from __future__ import annotations

from ipaddress import ip_address

from glassgate.audit.records import canonical_json
from glassgate.audit.tunnel_events import TUNNEL_CLOSED, TunnelFigures, tunnel_event
from glassgate.core.principal import Principal, token_fingerprint
from glassgate.core.request import AccessRequest

REQUEST = AccessRequest(
    method="GET", path="/ws/chat", client_ip=ip_address("192.0.2.9"), host="api.example"
)
FIGURES = TunnelFigures("127.0.0.1:9000", 15, 30, 12.34567, "idle-timeout", 1001)


def test_a_closed_tunnel_names_who_what_and_how_much() -> None:
    principal = Principal(
        subject="ruby", issuer="https://idp", token_id="j-1", token_hash=token_fingerprint("t")
    )
    event = tunnel_event(REQUEST, principal, "chat", FIGURES, at=1_790_000_000.0)
    assert (event.type, event.outcome, event.subject, event.route) == (
        TUNNEL_CLOSED,
        "idle-timeout",
        "ruby",
        "chat",
    )
    assert event.is_privileged
    assert (event.jti, event.token_hash) == ("j-1", token_fingerprint("t"))
    assert dict(event.details) == {
        "path": "/ws/chat",
        "host": "api.example",
        "client_ip": "192.0.2.9",
        "upstream_target": "127.0.0.1:9000",
        "bytes_to_upstream": 15,
        "bytes_to_client": 30,
        "duration_s": 12.346,
        "close_code": 1001,
    }


def test_an_anonymous_tunnel_and_hostile_text_are_recorded_cleanly() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    hostile = AccessRequest(
        method="GET",
        path=f"/ws/bearer {token}",
        client_ip=ip_address("192.0.2.9"),
        host="a\x00b",
    )
    event = tunnel_event(hostile, None, None, FIGURES, at=1_790_000_000.0)
    assert (event.subject, event.token_hash, event.jti) == (None, None, None)
    assert token not in canonical_json(dict(event.details)).decode()
