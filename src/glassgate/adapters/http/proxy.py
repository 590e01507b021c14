"""Reverse proxy: forward an allowed request to its upstream and stream the answer back.

Bodies stream both ways with back-pressure (no full buffering). The request is
re-framed: the upstream sees either one Content-Length or chunked encoding that
the gateway wrote itself, never the client's framing bytes, so nothing a client
sends can be read upstream as a second request (RFC 9112 6.1, 11.2).

Retries never replay anything the upstream may have acted on:

- a connection that could not be opened (nothing was sent) is retried on the
  next target, for any method, within ``retries``;
- a connection the upstream closed without answering a byte is retried only
  for idempotent requests without a body: once on a fresh connection when it
  was a reused keep-alive one (the idle-timeout race, not counted against
  ``retries``), otherwise on the next target within ``retries``;
- timeouts, malformed responses and anything after the first response byte
  are never retried.

Before the response starts, failures raise (``UpstreamError`` 502/504,
``BodyTooLargeError`` 413, ``ClientTimeoutError`` 408, ``ClientGoneError``).
After it started, a failure aborts the client connection: ``forward`` returns
without completing the response, which makes the ASGI server close it, so a
truncated body can never pass for a complete one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.http.identity_out import forwardable
from glassgate.adapters.http.outbound import with_rate_limit
from glassgate.adapters.http.upstream_conn import UpstreamConnection, UpstreamResponse
from glassgate.adapters.http.upstreams import IDEMPOTENT, Target, Upstream
from glassgate.core.paths import encode_path
from glassgate.errors import (
    BodyTooLargeError,
    ClientGoneError,
    ClientTimeoutError,
    UpstreamClosedError,
    UpstreamError,
)
from glassgate.types import Headers, Receive, Send

__all__ = ["Forward", "forward"]

log = logging.getLogger("glassgate")


_RESPONSE_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"te",
        b"trailer",
        b"upgrade",
        b"proxy-authenticate",
    }
)


@dataclass(frozen=True, slots=True)
class Forward:
    """What the proxy needs besides the request itself."""

    upstream: Upstream
    extra_headers: Headers
    max_body_bytes: int


def _request_head(
    result: GateResult, target: Target, headers: Headers, extra: Headers
) -> tuple[bytes, bool]:
    facts = result.facts
    path = target.base_path + encode_path(facts.request.path)
    if facts.query:
        path += "?" + facts.query.decode("latin-1")
    parts = [f"{facts.request.method} {path} HTTP/1.1".encode("latin-1"), target.host_line]
    has_body = facts.chunked or bool(facts.content_length)
    if facts.chunked:
        parts.append(b"\r\ntransfer-encoding: chunked")
    elif facts.content_length is not None:
        parts.append(b"\r\ncontent-length: %d" % facts.content_length)
    for name, value in forwardable(headers):
        parts += (b"\r\n", name, b": ", value)
    for name, value in extra:
        parts += (b"\r\n", name, b": ", value)
    parts.append(b"\r\n\r\n")
    return b"".join(parts), has_body


async def _send_body(
    conn: UpstreamConnection, receive: Receive, chunked: bool, limit: int, timeout: float
) -> None:
    total = 0
    while not conn.closed:  # closed: the upstream answered early or failed; see response()
        try:
            message = await asyncio.wait_for(receive(), timeout)
        except TimeoutError:
            raise ClientTimeoutError from None
        if message["type"] == "http.disconnect":
            raise ClientGoneError
        chunk: bytes = message.get("body", b"")
        total += len(chunk)
        if total > limit:
            raise BodyTooLargeError
        if chunk:
            conn.send_body(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
            await conn.drain(timeout)
        if not message.get("more_body", False):
            if chunked:
                conn.send_body(b"0\r\n\r\n")
            return


async def _attempt(
    fwd: Forward,
    target: Target,
    result: GateResult,
    headers: Headers,
    receive: Receive,
    *,
    fresh: bool,
) -> tuple[UpstreamConnection, UpstreamResponse]:
    config = fwd.upstream.config
    target.in_flight += 1
    conn: UpstreamConnection | None = None
    try:
        conn = await target.connect(config.connect_timeout, fresh=fresh)
        head, has_body = _request_head(result, target, headers, fwd.extra_headers)
        conn.send_head(head, head_only=result.facts.request.method == "HEAD")
        if has_body:
            await _send_body(
                conn, receive, result.facts.chunked, fwd.max_body_bytes, config.read_timeout
            )
        response = await conn.response(config.read_timeout)
    except BaseException:
        target.in_flight -= 1
        if conn is not None:
            conn.close()
        raise
    return conn, response


def _unacted(exc: UpstreamError, replayable: bool) -> bool:
    """Whether the upstream cannot have acted on the request, so sending it again is safe."""
    return not exc.sent or (replayable and isinstance(exc, UpstreamClosedError))


async def _exchange(
    fwd: Forward, result: GateResult, headers: Headers, receive: Receive
) -> tuple[Target, UpstreamConnection, UpstreamResponse]:
    """Send the request, retrying as the module docstring says; the response head."""
    upstream = fwd.upstream
    facts = result.facts
    replayable = facts.request.method in IDEMPOTENT and not (facts.chunked or facts.content_length)
    budget = upstream.config.retries
    target = upstream.pick()
    fresh = False
    while True:
        try:
            conn, response = await _attempt(fwd, target, result, headers, receive, fresh=fresh)
        except UpstreamError as exc:
            if replayable and isinstance(exc, UpstreamClosedError) and exc.reused and not fresh:
                fresh = True  # the idle-timeout race: the same target, on a new connection
                continue
            if budget <= 0 or not _unacted(exc, replayable):
                raise
            budget -= 1
            log.info("upstream %s: %s; retrying on the next target", upstream.config.id, exc)
            target, fresh = upstream.pick(avoid=target), False
            continue
        return target, conn, response


def _response_headers(response: UpstreamResponse) -> Headers:
    named: set[bytes] = set()
    for name, value in response.headers:
        if name == b"connection":
            named.update(t.strip().lower() for t in value.split(b","))
    drop_length = response.status in (204, 304)  # no body follows, whatever the length says
    if not named and not drop_length:  # the common case: only the fixed hop-by-hop set
        return [h for h in response.headers if h[0] not in _RESPONSE_HOP]
    return [
        (n, v)
        for n, v in response.headers
        if n not in _RESPONSE_HOP
        and n not in named
        and not (drop_length and n == b"content-length")
    ]


async def _watch_client(receive: Receive, conn: UpstreamConnection) -> None:
    """Abandon the upstream exchange when the client disconnects mid-response.

    The ASGI server's ``send`` silently drops messages for a gone client, so
    without this a long or endless upstream body would keep streaming into
    nothing. Started only when the proxy is about to wait for the upstream.
    """
    while (await receive())["type"] != "http.disconnect":
        pass
    conn.close()


async def forward(
    fwd: Forward, result: GateResult, headers: Headers, receive: Receive, send: Send
) -> None:
    """Forward one allowed request and stream the answer (see the module docstring)."""
    target, conn, response = await _exchange(fwd, result, headers, receive)
    read_timeout = fwd.upstream.config.read_timeout
    watcher: asyncio.Task[None] | None = None
    try:
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": with_rate_limit(_response_headers(response), result.quota),
            }
        )
        while True:
            if watcher is None and not conn.ready:
                watcher = asyncio.create_task(_watch_client(receive, conn))
            chunk = await conn.next_chunk(read_timeout)
            if chunk is None:
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except UpstreamError as exc:
        if watcher is None or not watcher.done():  # a gone client is no upstream failure
            log.warning(
                "upstream %s failed mid-response, aborting the client connection: %s",
                fwd.upstream.config.id,
                exc,
            )
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        target.in_flight -= 1
        target.release(conn)
