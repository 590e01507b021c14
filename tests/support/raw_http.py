"""Raw HTTP/1.1 over a socket: for requests no HTTP client library will send
(smuggling, two Authorization headers, odd targets) and for a chosen source address."""

from __future__ import annotations

import socket

__all__ = ["send_raw", "status_of"]


def send_raw(port: int, data: bytes, source: str = "127.0.0.1") -> bytes:
    """Send ``data`` to 127.0.0.1:``port`` from ``source`` and read until the peer closes."""
    with socket.create_connection(("127.0.0.1", port), source_address=(source, 0)) as sock:
        sock.settimeout(3)
        sock.sendall(data)
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return out


def status_of(raw: bytes) -> int:
    """The status code of a raw response; 0 when the connection gave none."""
    return int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1 ") else 0
