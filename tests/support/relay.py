"""An HTTP forward proxy that connects from another loopback address.

Chromium always connects to ``localhost`` from 127.0.0.1, and WebAuthn needs
the origin ``http://localhost:PORT``, so a browser context cannot choose its
source address. Routed through ``AddressRelay`` (Playwright's per-context
``proxy``), its requests reach the server from ``source`` (say 127.0.0.9)
while the origin stays ``http://localhost:PORT``: the console sees a client
outside the allow-list, or the same cookie from another address.

One request per connection: the relay forces ``Connection: close`` so it never
has to frame a second request. Targets are loopback only.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit

__all__ = ["AddressRelay"]

_HEAD_LIMIT = 64 * 1024


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


def _read_head(conn: socket.socket) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(65536)
        if not chunk or len(head) > _HEAD_LIMIT:
            raise ConnectionError("no request head")
        head += chunk
    return head


def _rewrite(head: bytes) -> tuple[int, bytes]:
    """The loopback port the absolute-form target names, and the head to send on."""
    top, _, rest = head.partition(b"\r\n")
    method, target, version = top.split(b" ", 2)
    url = urlsplit(target.decode("latin-1"))
    if url.hostname not in {"localhost", "127.0.0.1"} or url.port is None:
        raise ConnectionError(f"the relay forwards to loopback only, not {url.hostname}")
    lines = [
        line
        for line in rest.split(b"\r\n")
        if not line.lower().startswith((b"connection:", b"proxy-connection:"))
    ]
    body_start = lines.index(b"")
    lines.insert(body_start, b"Connection: close")
    return url.port, b"\r\n".join([b" ".join((method, target, version)), *lines])


class AddressRelay:
    """``with AddressRelay("127.0.0.9") as relay: new_context(proxy={"server": relay.url})``."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> AddressRelay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()
        self._thread.join(5)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._forward, args=(conn,), daemon=True).start()

    def _forward(self, conn: socket.socket) -> None:
        with conn:
            try:
                port, head = _rewrite(_read_head(conn))
                upstream = socket.create_connection(
                    ("127.0.0.1", port), timeout=10, source_address=(self.source, 0)
                )
            except (OSError, ValueError):
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            with upstream:
                upstream.sendall(head)
                back = threading.Thread(target=_pipe, args=(upstream, conn), daemon=True)
                back.start()
                _pipe(conn, upstream)
                back.join(30)
