"""SyslogAuditSink: live forwarding as RFC 5424 messages over TCP or UDP.

TCP frames messages with RFC 6587 octet counting (``LEN SP MSG``) on one
persistent connection, reopened on failure; UDP (RFC 5426) sends one datagram
per message and cannot notice loss. Messages come from ``audit.export``.
TLS (RFC 5425) is not offered here: forward through a local relay for that.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Sequence
from typing import Literal

from glassgate.adapters.audit_sinks._forwarder import ForwardingSink, wanted
from glassgate.audit.checkpoints import Checkpoint
from glassgate.audit.export import (
    FACILITY_AUTHPRIV,
    checkpoint_to_rfc5424,
    frame_octet_counted,
    to_rfc5424,
)
from glassgate.audit.records import AuditRecord
from glassgate.errors import AlertDeliveryError

__all__ = ["SyslogAuditSink", "SyslogTransport", "wanted"]


class SyslogTransport:
    """Sends framed RFC 5424 messages to one receiver; shared by audit and alert sinks.

    TCP keeps one connection open and reopens it after a failure; UDP sends a
    datagram per message. ``send`` raises ``AlertDeliveryError`` on failure.
    """

    def __init__(
        self, host: str, port: int, *, transport: Literal["tcp", "udp"], timeout: float
    ) -> None:
        self._address = (host, port)
        self._transport = transport
        self._timeout = timeout
        self._writer: asyncio.StreamWriter | None = None
        self._datagrams: asyncio.DatagramTransport | None = None

    @property
    def name(self) -> str:
        return f"syslog {self._address[0]}:{self._address[1]}/{self._transport}"

    async def send(self, batch: list[bytes]) -> None:
        if self._transport == "tcp":
            await self._send_tcp(batch)
        else:
            await self._send_udp(batch)

    async def _send_tcp(self, batch: list[bytes]) -> None:
        try:
            writer = self._writer
            if writer is None:
                streams = await asyncio.wait_for(
                    asyncio.open_connection(*self._address), self._timeout
                )
                writer = self._writer = streams[1]
            writer.write(b"".join(frame_octet_counted(message) for message in batch))
            await asyncio.wait_for(writer.drain(), self._timeout)
        except (OSError, TimeoutError) as exc:
            await self._drop_connection()
            raise AlertDeliveryError(
                f"syslog {self._address[0]}:{self._address[1]} (tcp) unreachable: {exc!r}"
            ) from exc

    async def _drop_connection(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):  # already broken: nothing more to release
                await writer.wait_closed()

    async def _send_udp(self, batch: list[bytes]) -> None:
        try:
            if self._datagrams is None:
                loop = asyncio.get_running_loop()
                self._datagrams, _ = await loop.create_datagram_endpoint(
                    asyncio.DatagramProtocol, remote_addr=self._address
                )
            for message in batch:
                self._datagrams.sendto(message)
        except OSError as exc:
            raise AlertDeliveryError(
                f"syslog {self._address[0]}:{self._address[1]} (udp) failed: {exc!r}"
            ) from exc

    async def close(self) -> None:
        await self._drop_connection()
        if self._datagrams is not None:
            self._datagrams.close()
            self._datagrams = None


class SyslogAuditSink(ForwardingSink):
    def __init__(
        self,
        host: str,
        port: int,
        *,
        transport: Literal["tcp", "udp"] = "tcp",
        facility: int = FACILITY_AUTHPRIV,
        hostname: str | None = None,
        event_types: Sequence[str] = (),
        queue_size: int = 10_000,
        timeout: float = 5.0,
        backoff_initial: float = 0.1,
    ) -> None:
        self._facility = facility
        self._hostname = hostname or socket.gethostname()
        self._timeout = timeout
        self._connection = SyslogTransport(host, port, transport=transport, timeout=timeout)
        super().__init__(
            self._connection.send,
            name=self._connection.name,
            event_types=event_types,
            queue_size=queue_size,
            backoff_initial=backoff_initial,
        )

    def _encode(self, record: AuditRecord) -> bytes:
        return to_rfc5424(record, hostname=self._hostname, facility=self._facility)

    def _encode_checkpoint(self, checkpoint: Checkpoint) -> bytes:
        return checkpoint_to_rfc5424(checkpoint, hostname=self._hostname, facility=self._facility)

    async def start(self) -> None:
        self._forwarder.start()

    async def close(self) -> None:
        await self._forwarder.close(self._timeout)
        await self._connection.close()
