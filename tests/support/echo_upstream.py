"""A recording HTTP/1.1 upstream for tests: answers every request with a JSON echo.

It parses requests with httptools (llhttp), keeps the raw bytes of everything it
received, and records each parsed request, so tests can check exactly what the
gateway forwarded, and that a denied or smuggled request never arrived.
``EchoUpstream(echo_headers=False)`` records the same but leaves the headers
out of its answer, as a real admin API would: then a credential the gateway
injected reaches it, and a test can check it never comes back to the client.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httptools
import pytest

__all__ = ["EchoUpstream", "Seen", "upstream"]


@dataclass
class Seen:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class _Conn:
    parser: Any = None
    current: dict[str, Any] = field(default_factory=dict)
    done: list[Seen] = field(default_factory=list)


class EchoUpstream:
    """Threaded, blocking echo server on 127.0.0.1 (one thread per connection)."""

    def __init__(self, *, echo_headers: bool = True) -> None:
        self.echo_headers = echo_headers
        self.requests: list[Seen] = []
        self.raw = bytearray()
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = False
        self._live: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop listening now: shutdown wakes the accepting thread (close alone does not).

        Open keep-alive connections are cut too: a closed upstream answers nobody,
        not even a client that connected before.
        """
        self._stop = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        with self._lock:
            live, self._live = self._live, []
        for conn in live:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.raw.clear()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self._live.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        state = _Conn()

        class Handler:
            def on_message_begin(self) -> None:
                state.current = {"headers": [], "body": b"", "url": b""}

            def on_url(self, url: bytes) -> None:
                state.current["url"] += url

            def on_header(self, name: bytes, value: bytes) -> None:
                state.current["headers"].append((name.decode("latin-1"), value.decode("latin-1")))

            def on_body(self, body: bytes) -> None:
                state.current["body"] += body

            def on_message_complete(self) -> None:
                method = state.parser.get_method().decode()
                seen = Seen(
                    method,
                    state.current["url"].decode("latin-1"),
                    state.current["headers"],
                    state.current["body"],
                )
                state.done.append(seen)

        state.parser = httptools.HttpRequestParser(Handler())
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                with self._lock:
                    self.raw.extend(data)
                try:
                    state.parser.feed_data(data)
                except httptools.HttpParserError:
                    conn.sendall(
                        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    return
                while state.done:
                    seen = state.done.pop(0)
                    with self._lock:
                        self.requests.append(seen)
                    body = json.dumps(
                        {
                            "method": seen.method,
                            "target": seen.target,
                            "headers": seen.headers if self.echo_headers else [],
                            "body": seen.body.decode("latin-1"),
                        }
                    ).encode()
                    head = (
                        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n"
                    ).encode()
                    conn.sendall(head + (b"" if seen.method == "HEAD" else body))


@pytest.fixture(scope="module")
def upstream() -> Iterator[EchoUpstream]:
    """A recording upstream shared by the tests of one module."""
    server = EchoUpstream()
    yield server
    server.close()
