"""WebSocket pass-through: the upgrade request is authorised like any request, then tunnelled.

The ASGI server (uvicorn with its ``wsproto`` implementation) does the
handshake with the client; ``asgi.py`` runs the upgrade request (a GET)
through the same ``gate()`` as every other request and refuses it with the
same HTTP answer (401 with its challenge, 403, 429) before any upgrade. An
allowed one is tunnelled here:

1. open a WebSocket to a target of the route's upstream with the ``websockets``
   client: the client's headers as the proxy would forward them (identity
   claims stripped, hop-by-hop and ``Sec-WebSocket-*`` dropped), the gateway's
   identity headers added, the client's subprotocols offered; redirects are
   never followed (the gateway talks only to configured targets);
2. accept the client with the subprotocol the upstream chose;
3. relay messages both ways until one side closes, then close the other side
   with the same code and reason (RFC 6455 7.4). Codes that cannot be sent on
   the wire are replaced: 1005 (no code) becomes 1000; a lost upstream (1006)
   closes the client with 1011, a lost client the upstream with 1001 (uvicorn
   reports most lost clients as 1005, though, so the upstream sees 1000).

A handshake the upstream refuses answers 502, one that times out 504.

A tunnel does not live for ever (``Tunnel``): it is closed, both sides with
1001 and a reason, after ``idle_timeout`` with no message either way and after
``max_lifetime``; with 1008 when the credential it was opened with expires (the
token's ``exp``) or stops authenticating (an API key revoked, a token no
longer accepted), which is checked every ``RECHECK_SECONDS``. ``tunnel``
reports what passed (``TunnelReport``: bytes each way, duration, who closed
and why) for the audit record written when it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.frames import EXTERNAL_CLOSE_CODES

from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.http.identity_out import forwardable
from glassgate.adapters.http.outbound import Answer
from glassgate.adapters.http.upstreams import Target, Upstream
from glassgate.core.paths import encode_path
from glassgate.errors import UpstreamError
from glassgate.types import Headers, Receive, Scope, Send

__all__ = ["MAX_MESSAGE_BYTES", "RECHECK_SECONDS", "Tunnel", "TunnelReport", "refuse", "tunnel"]

log = logging.getLogger("glassgate")


MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # per message, each way (``serve`` sets uvicorn's ws_max_size)
_JSON = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
RECHECK_SECONDS = 5.0  # how often an open tunnel's credential is authenticated again
_GOING_AWAY = 1001  # idle timeout, maximum lifetime (RFC 6455 7.4.1)
_POLICY = 1008  # the credential expired or was revoked


@dataclass(frozen=True, slots=True)
class Tunnel:
    """How long a tunnel may live, and how to ask whether its credential still holds.

    ``expires_at`` is the credential's own end (epoch seconds; None: none);
    ``still_valid`` answers False once the credential no longer authenticates
    (None: nothing to check, an anonymous route).
    """

    idle_timeout: float
    max_lifetime: float
    expires_at: float | None = None
    still_valid: Callable[[], Awaitable[bool]] | None = None


@dataclass(slots=True)
class TunnelReport:
    """What passed through one tunnel, for its audit record."""

    target: str
    started: float  # monotonic
    to_upstream: int = 0  # message bytes from the client
    to_client: int = 0
    closed_by: str = "client"  # client, upstream, idle-timeout, max-lifetime,
    # credential-expired, credential-revoked
    code: int = 1000
    seconds: float = 0.0
    last_message: float = 0.0  # monotonic time of the last message either way


class _NoRedirects(connect):
    """``connect`` that never follows a 3xx: the upstream cannot send the gateway elsewhere."""

    def process_redirect(self, exc: Exception) -> Exception | str:
        return exc


async def refuse(scope: Scope, send: Send, answer: Answer) -> None:
    """Refuse the upgrade with an HTTP answer (ASGI "WebSocket Denial Response")."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})  # the server answers 403
        return
    headers = [*answer.headers, (b"content-length", str(len(answer.body)).encode())]
    await send(
        {"type": "websocket.http.response.start", "status": answer.status, "headers": headers}
    )
    await send({"type": "websocket.http.response.body", "body": answer.body})


def _uri(target: Target, result: GateResult) -> str:
    facts = result.facts
    path = target.base_path + encode_path(facts.request.path)
    if facts.query:
        path += "?" + facts.query.decode("latin-1")
    return "ws://" + target.host_header.decode("ascii") + path


def _handshake_headers(
    headers: Headers, extra: Headers, result: GateResult
) -> list[tuple[str, str]]:
    """What the proxy would forward (an API key's Authorization dropped too), minus the
    client's own handshake fields: the upstream handshake is the gateway's."""
    forwarded = forwardable(headers)
    kept = [(n, v) for n, v in forwarded if not n.startswith(b"sec-websocket-")]
    return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in (*kept, *extra)]


async def _open(
    upstream: Upstream, result: GateResult, headers: Headers, extra: Headers, scope: Scope
) -> tuple[Target, ClientConnection] | Answer:
    config = upstream.config
    try:
        target = upstream.pick()
    except UpstreamError as exc:
        log.warning("upstream %s: %s", config.id, exc)
        return Answer(502, list(_JSON), b'{"error":"bad_gateway"}')
    try:
        conn = await _NoRedirects(
            _uri(target, result),
            additional_headers=_handshake_headers(headers, extra, result),
            subprotocols=scope.get("subprotocols") or None,
            user_agent_header=None,  # the client's own User-Agent is forwarded
            proxy=None,  # never the environment's HTTP proxy
            open_timeout=config.connect_timeout,
            max_size=MAX_MESSAGE_BYTES,
            host=target.host,
            port=target.port,
        )
    except TimeoutError:
        log.warning("upstream %s: WebSocket handshake with %s timed out", config.id, target.name)
        return Answer(504, list(_JSON), b'{"error":"gateway_timeout"}')
    except (OSError, InvalidHandshake, InvalidURI) as exc:
        log.warning(
            "upstream %s: WebSocket handshake with %s failed: %s", config.id, target.name, exc
        )
        return Answer(502, list(_JSON), b'{"error":"bad_gateway"}')
    return target, conn


async def tunnel(
    upstream: Upstream,
    result: GateResult,
    headers: Headers,
    extra: Headers,
    scope: Scope,
    receive: Receive,
    send: Send,
    limits: Tunnel,
) -> TunnelReport | None:
    """Open the upstream side, accept the client, relay until either side closes (or a
    limit closes both); the report of an accepted tunnel, None for a refused one."""
    opened = await _open(upstream, result, headers, extra, scope)
    if isinstance(opened, Answer):
        await refuse(scope, send, opened)
        return None
    target, conn = opened
    target.in_flight += 1
    started = time.monotonic()
    report = TunnelReport(target.name, started, last_message=started)
    try:
        await send({"type": "websocket.accept", "subprotocol": conn.subprotocol})
        await _relay(conn, receive, send, limits, report)
    except OSError:  # the client went away while we accepted it
        pass
    finally:
        target.in_flight -= 1
        report.seconds = time.monotonic() - started
        await conn.close()
    return report


async def _relay(
    conn: ClientConnection, receive: Receive, send: Send, limits: Tunnel, report: TunnelReport
) -> None:
    downstream = asyncio.create_task(_from_client(conn, receive, report))
    upstream = asyncio.create_task(_from_upstream(conn, send, report))
    watch = asyncio.create_task(_watch(limits, report))
    try:
        done, _ = await asyncio.wait(
            {downstream, upstream, watch}, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for task in (downstream, upstream, watch):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                await task
    if watch in done and not watch.cancelled() and watch.exception() is None:
        code, why = watch.result()  # a limit ends it: both sides learn why
        report.closed_by, report.code = why, code
        await conn.close(code, why)
        with contextlib.suppress(OSError):
            await send({"type": "websocket.close", "code": code, "reason": why})
        return
    client_close = None
    if downstream in done and not downstream.cancelled() and downstream.exception() is None:
        client_close = downstream.result()
    if client_close is not None:  # the client closed (or vanished): tell the upstream
        code, reason = client_close
        report.code = code
        await conn.close(1001 if code == 1006 else _sendable(code), reason)
        return
    received = conn.protocol.close_rcvd  # the upstream closed (or vanished): tell the client
    code = _sendable(received.code) if received is not None else 1011
    reason = received.reason if received is not None else ""
    report.closed_by, report.code = "upstream", code
    with contextlib.suppress(OSError):
        await send({"type": "websocket.close", "code": code, "reason": reason})


async def _watch(limits: Tunnel, report: TunnelReport) -> tuple[int, str]:
    """Wait for the first limit the tunnel reaches; its close code and reason."""
    ends = report.started + limits.max_lifetime
    why_end = "max-lifetime"
    if limits.expires_at is not None:
        expires = report.started + (limits.expires_at - time.time())
        if expires < ends:
            ends, why_end = expires, "credential-expired"
    recheck = report.started + RECHECK_SECONDS
    while True:
        now = time.monotonic()
        idle_at = report.last_message + limits.idle_timeout
        if now >= ends:
            return (_POLICY if why_end == "credential-expired" else _GOING_AWAY), why_end
        if now >= idle_at:
            return _GOING_AWAY, "idle-timeout"
        if limits.still_valid is not None and now >= recheck:
            if not await limits.still_valid():
                return _POLICY, "credential-revoked"
            recheck = time.monotonic() + RECHECK_SECONDS
        wake = min(ends, idle_at, recheck if limits.still_valid is not None else ends)
        await asyncio.sleep(max(0.0, wake - now))


async def _from_client(
    conn: ClientConnection, receive: Receive, report: TunnelReport
) -> tuple[int, str]:
    """Client messages to the upstream; the client's close code and reason at the end."""
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.receive":
            text = message.get("text")
            data: str | bytes = text if text is not None else message.get("bytes") or b""
            report.to_upstream += len(data.encode() if isinstance(data, str) else data)
            report.last_message = time.monotonic()
            await conn.send(data)
        elif kind == "websocket.disconnect":
            return int(message.get("code", 1000)), str(message.get("reason") or "")


async def _from_upstream(conn: ClientConnection, send: Send, report: TunnelReport) -> None:
    """Upstream messages to the client, until the upstream closes."""
    async for data in conn:
        report.last_message = time.monotonic()
        if isinstance(data, str):
            report.to_client += len(data.encode())
            await send({"type": "websocket.send", "text": data})
        else:
            report.to_client += len(data)
            await send({"type": "websocket.send", "bytes": data})


def _sendable(code: int) -> int:
    if code in EXTERNAL_CLOSE_CODES or 3000 <= code < 5000:
        return code
    return 1000 if code == 1005 else 1011
