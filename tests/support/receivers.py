"""Real receivers on loopback for the live sinks: syslog (TCP, UDP) and a webhook."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

from glassgate.types import Secret

__all__ = ["TcpSyslogReceiver", "UdpSyslogReceiver", "WebhookReceiver", "check_signature"]


async def _close_all(writers: set[asyncio.StreamWriter]) -> None:
    """Close the connections still open, and wait until their transports are closed."""
    open_now = list(writers)
    for writer in open_now:
        writer.close()
    await asyncio.gather(*(writer.wait_closed() for writer in open_now), return_exceptions=True)


class TcpSyslogReceiver:
    """RFC 6587 octet-counting receiver."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()  # open connections, closed by stop()

    async def start(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                length = int((await reader.readuntil(b" "))[:-1])
                self.messages.append(await reader.readexactly(length))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def stop(self) -> None:
        await _close_all(self._writers)  # as WebhookReceiver.stop: never left unclosed
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


class UdpSyslogReceiver(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self.messages.append(data)


class WebhookReceiver:
    """A tiny HTTP/1.1 server: answers with the scripted statuses, then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()  # open connections, closed by stop()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hooks/audit"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")[1:]
                headers = {k.lower(): v.strip() for k, v in (x.split(":", 1) for x in lines if x)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((headers, body))
                status = self.statuses.pop(0) if self.statuses else 200
                writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def stop(self) -> None:
        # A keep-alive client's connection outlives server.close() (Python 3.11 does not
        # close it): close it here, or its transport is collected unclosed in a later test.
        await _close_all(self._writers)
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


def check_signature(headers: dict[str, str], body: bytes, secret: Secret) -> None:
    """The body's HMAC as glassgate's webhooks sign it (audit and alerts alike)."""
    timestamp = headers["x-glassgate-timestamp"]
    expected = hmac.new(
        secret.reveal().encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(headers["x-glassgate-signature"], f"sha256={expected}")
