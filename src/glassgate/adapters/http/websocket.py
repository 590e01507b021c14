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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

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

__all__ = ["MAX_MESSAGE_BYTES", "refuse", "tunnel"]

log = logging.getLogger("glassgate")


MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # per message, each way (``serve`` sets uvicorn's ws_max_size)
_JSON = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


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
) -> None:
    """Open the upstream side, accept the client, relay until either side closes."""
    opened = await _open(upstream, result, headers, extra, scope)
    if isinstance(opened, Answer):
        await refuse(scope, send, opened)
        return
    target, conn = opened
    target.in_flight += 1
    try:
        await send({"type": "websocket.accept", "subprotocol": conn.subprotocol})
        await _relay(conn, receive, send)
    except OSError:  # the client went away while we accepted it
        pass
    finally:
        target.in_flight -= 1
        await conn.close()


async def _relay(conn: ClientConnection, receive: Receive, send: Send) -> None:
    downstream = asyncio.create_task(_from_client(conn, receive))
    upstream = asyncio.create_task(_from_upstream(conn, send))
    try:
        done, _ = await asyncio.wait({downstream, upstream}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (downstream, upstream):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                await task
    client_close = None
    if downstream in done and not downstream.cancelled() and downstream.exception() is None:
        client_close = downstream.result()
    if client_close is not None:  # the client closed (or vanished): tell the upstream
        code, reason = client_close
        await conn.close(1001 if code == 1006 else _sendable(code), reason)
        return
    received = conn.protocol.close_rcvd  # the upstream closed (or vanished): tell the client
    code = _sendable(received.code) if received is not None else 1011
    reason = received.reason if received is not None else ""
    with contextlib.suppress(OSError):
        await send({"type": "websocket.close", "code": code, "reason": reason})


async def _from_client(conn: ClientConnection, receive: Receive) -> tuple[int, str]:
    """Client messages to the upstream; the client's close code and reason at the end."""
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.receive":
            text = message.get("text")
            await conn.send(text if text is not None else message.get("bytes") or b"")
        elif kind == "websocket.disconnect":
            return int(message.get("code", 1000)), str(message.get("reason") or "")


async def _from_upstream(conn: ClientConnection, send: Send) -> None:
    """Upstream messages to the client, until the upstream closes."""
    async for data in conn:
        if isinstance(data, str):
            await send({"type": "websocket.send", "text": data})
        else:
            await send({"type": "websocket.send", "bytes": data})


def _sendable(code: int) -> int:
    if code in EXTERNAL_CLOSE_CODES or 3000 <= code < 5000:
        return code
    return 1000 if code == 1005 else 1011
