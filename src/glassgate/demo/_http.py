"""A minimal HTTP/1.1 server for the demo's issuer and sample upstream.

Why not a second uvicorn: uvicorn's ``Server`` owns signal handling and the
lifespan protocol, and the gateway's server already does both in this process.
The two helpers only answer small requests with small JSON documents, so an
asyncio ``Protocol`` over httptools (llhttp, already a dependency for the
gateway) is enough. Handlers are plain synchronous functions, which keeps
pipelined responses in order without any task bookkeeping. Every connection is
tracked and closed on shutdown: the test suite treats an unclosed socket as an
error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, cast

import httptools

__all__ = ["Handler", "LocalHttpServer", "Request", "Response"]

log = logging.getLogger("glassgate.demo")

MAX_BODY_BYTES = 1024 * 1024
MAX_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(
        cls, status: int, document: Mapping[str, Any], headers: tuple[tuple[str, str], ...] = ()
    ) -> Response:
        body = json.dumps(document, indent=2).encode() + b"\n"
        return cls(status, body, "application/json", headers)


Handler = Callable[[Request], Response]


def _encode(response: Response, keep_alive: bool, head_only: bool) -> bytes:
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = ""
    lines = [
        f"HTTP/1.1 {response.status} {phrase}",
        f"content-type: {response.content_type}",
        f"content-length: {len(response.body)}",
        "cache-control: no-store",
        f"connection: {'keep-alive' if keep_alive else 'close'}",
        *(f"{name}: {value}" for name, value in response.headers),
    ]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + response.body


@dataclass
class _Message:
    url: bytearray = field(default_factory=bytearray)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    head_bytes: int = 0
    too_large: HTTPStatus | None = None


class _Connection(asyncio.Protocol):
    """One client connection: llhttp parses, the handler answers each message."""

    def __init__(self, server: LocalHttpServer) -> None:
        self._server = server
        self._parser = httptools.HttpRequestParser(self)
        self._message = _Message()
        self._transport: asyncio.Transport | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # a stream server: always one
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        self._transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reply_and_close(Response.json(400, {"error": "upgrade not supported"}))
        except httptools.HttpParserError:
            self._reply_and_close(Response.json(400, {"error": "malformed request"}))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._message = _Message()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        if self._message.too_large is None:
            self._message.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value))
        if self._message.too_large is None:
            self._message.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        message = self._message
        if len(message.body) + len(body) > MAX_BODY_BYTES:
            message.too_large = message.too_large or HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        if message.too_large is None:
            message.body += body

    def on_message_complete(self) -> None:
        message, transport = self._message, self._transport
        if transport is None or transport.is_closing() or self._parser.should_upgrade():
            return  # an upgrade is refused where feed_data raises HttpParserUpgrade
        method = self._parser.get_method().decode("latin-1")
        if message.too_large is not None:
            self._reply_and_close(Response.json(message.too_large, {"error": "too large"}))
            return
        request = Request(
            method, message.url.decode("latin-1"), tuple(message.headers), bytes(message.body)
        )
        response = self._server.answer(request)
        keep_alive = self._parser.should_keep_alive()
        transport.write(_encode(response, keep_alive, head_only=method == "HEAD"))
        if not keep_alive:
            transport.close()

    def _count_head(self, size: int) -> None:
        self._message.head_bytes += size
        if self._message.head_bytes > MAX_HEAD_BYTES:
            self._message.too_large = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE

    def _reply_and_close(self, response: Response) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_encode(response, keep_alive=False, head_only=False))
            self._transport.close()


class LocalHttpServer:
    """Serves ``handler`` on an already bound socket until ``aclose``."""

    def __init__(self, name: str, handler: Handler) -> None:
        self.name = name
        self._handler = handler
        self.connections: set[_Connection] = set()
        self._server: asyncio.Server | None = None

    async def start(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), sock=sock)

    def answer(self, request: Request) -> Response:
        """The handler's response; a handler bug is a logged 500, never a dead server."""
        try:
            return self._handler(request)
        except Exception:  # one bad request must not stop the demo
            log.exception(
                "%s: the handler failed for %s %s", self.name, request.method, request.path
            )
            return Response.json(500, {"error": "internal error"})

    async def aclose(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for connection in list(self.connections):
            connection.close()
        await server.wait_closed()
        # Let the transports run their close callbacks before the loop goes away.
        for _ in range(3):
            if not self.connections:
                break
            await asyncio.sleep(0)
