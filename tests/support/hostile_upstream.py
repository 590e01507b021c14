"""Misbehaving upstreams and a raw HTTP client, for testing the proxy's upstream side.

``ScriptedUpstream`` is a real asyncio TCP server on 127.0.0.1 that runs a
script (``async def script(peer: Peer) -> None``) for every connection it
accepts. A script reads requests with ``peer.read_request()`` and answers with
whatever bytes it likes: bad framing, huge headers, early closes, stalls,
extra responses. The server counts connections and records every request, so
tests can check reuse and what reached the upstream. ``aclose`` cancels every
script and closes every socket (pytest runs with ``filterwarnings=error``).

``fetch`` sends raw request bytes and parses the answer with llhttp, telling a
complete response from one cut short by a closed connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType

import httptools

__all__ = [
    "Client",
    "Peer",
    "Reply",
    "Request",
    "Script",
    "ScriptedUpstream",
    "fetch",
    "ok",
    "respond_ok",
]


@dataclass
class Request:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    complete: bool = True  # False: the connection closed before the body ended

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class Peer:
    """One accepted connection, as a script sees it."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        index: int,
        seen: list[Request],
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.index = index  # 0 for the server's first connection, 1 for the next ...
        self.requests = 0  # requests read on this connection
        self._seen = seen

    async def read_request(self) -> Request | None:
        """The next request, or None if the client closed the connection first."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if line]
        request = Request(method, target, [(k, v) for k, v in headers], b"")
        self._seen.append(request)
        self.requests += 1
        try:
            if (request.header("transfer-encoding") or "").lower() == "chunked":
                request.body = await self._read_chunked()
            elif request.header("content-length"):
                request.body = await self.reader.readexactly(
                    int(request.header("content-length") or 0)
                )
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            request.complete = False
        return request

    async def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return bytes(body)
            body += await self.reader.readexactly(size)
            await self.reader.readexactly(2)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def close(self) -> None:
        self.writer.close()

    async def wait_closed_by_client(self, timeout: float) -> bool:
        """Whether the client closed the connection within ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                while await self.reader.read(65536):
                    pass
        except TimeoutError:
            return False
        except ConnectionError:
            return True
        return True


Script = Callable[[Peer], Awaitable[None]]


def ok(body: bytes = b"ok", *extra: bytes) -> bytes:
    """A plain keep-alive 200 with a Content-Length."""
    head = [b"HTTP/1.1 200 OK", b"content-type: text/plain", b"content-length: %d" % len(body)]
    return b"\r\n".join([*head, *extra]) + b"\r\n\r\n" + body


async def respond_ok(peer: Peer) -> None:
    """The well-behaved script: answer every request with 200 ``ok``, keep-alive."""
    while (request := await peer.read_request()) is not None:
        await peer.send(ok(b"ok " + request.target.encode()))


class ScriptedUpstream:
    """An asyncio TCP server on 127.0.0.1 running ``script`` per connection."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[Request] = []
        self.connections = 0
        self.closed_by_client = asyncio.Event()  # set when a script saw the client hang up
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> ScriptedUpstream:
        self._server = await asyncio.start_server(self._on_client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.append(writer)
        peer = Peer(reader, writer, self.connections, self.requests)
        self.connections += 1
        try:
            await self.script(peer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # cancelled by aclose: ends quietly (streams log a cancelled handler as an error)
        finally:
            self._tasks.discard(task)
            writer.close()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for writer in self._writers:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> ScriptedUpstream:
        return await self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


@dataclass
class Reply:
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    complete: bool = False  # the message ended by its framing, not by a closed connection
    closed: bool = False  # the server closed the connection

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class _ReplyParser:
    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.parser = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.reply.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.reply.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.reply.body += body

    def on_message_complete(self) -> None:
        self.reply.complete = True


class Client:
    """A keep-alive raw HTTP/1.1 client connection (``fetch`` for one-shot use)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, raw: bytes, timeout: float = 5.0, head: bool = False) -> Reply:
        self.writer.write(raw)
        await self.writer.drain()
        return await self.read_reply(timeout, head)

    async def read_reply(self, timeout: float = 5.0, head: bool = False) -> Reply:
        reply = Reply()
        parser = _ReplyParser(reply)
        async with asyncio.timeout(timeout):
            while not reply.complete:
                if head and reply.status:  # a HEAD response has no body, whatever its length says
                    reply.complete = True
                    break
                try:
                    data = await self.reader.read(65536)
                except ConnectionError:
                    data = b""
                if not data:
                    reply.closed = True
                    break
                parser.parser.feed_data(data)
        return reply

    async def aclose(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


async def fetch(port: int, raw: bytes, timeout: float = 5.0, head: bool = False) -> Reply:
    """Send ``raw`` on a new connection and read one response."""
    client = await Client.open(port)
    try:
        return await client.request(raw, timeout, head)
    finally:
        await client.aclose()
