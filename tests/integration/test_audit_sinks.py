"""Live forwarding to real receivers on loopback: syslog over TCP and UDP, and a webhook."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glassgate.adapters.audit_sinks import SyslogAuditSink, WebhookAuditSink
from glassgate.app.compose import open_audit_log
from glassgate.audit.chain import GENESIS, link
from glassgate.config.audit import AuditConfig
from glassgate.config.storage import StorageConfig
from glassgate.types import Secret
from tests.support.audit import checkpoint_at, event, make_chain
from tests.support.polling import eventually_async
from tests.support.receivers import (
    TcpSyslogReceiver,
    UdpSyslogReceiver,
    WebhookReceiver,
    check_signature,
)

RFC5424 = re.compile(rb"^<\d{1,3}>1 \S+ \S+ glassgate - (?P<msgid>\S+) \[glassgate@32473 .*?\] ")
SECRET = Secret("webhook-shared-secret")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(body(), 20))


def test_syslog_tcp_delivers_octet_counted_rfc5424() -> None:
    async def body() -> None:
        receiver = TcpSyslogReceiver()
        port = await receiver.start()
        sink = SyslogAuditSink("127.0.0.1", port, transport="tcp", hostname="gw-1")
        await sink.start()
        records = make_chain(3)
        for record in records:
            assert sink.offer(record)
        assert sink.offer_checkpoint(checkpoint_at(records[-1], Ed25519PrivateKey.generate()))
        await eventually_async(lambda: len(receiver.messages) == 4, what="delivery")
        await sink.close()
        await receiver.stop()
        ids = [RFC5424.match(m)["msgid"] for m in receiver.messages]  # type: ignore[index]
        assert ids == [b"decision"] * 3 + [b"checkpoint"]
        assert [m.split(b"\xef\xbb\xbf", 1)[1] for m in receiver.messages[:3]] == [
            r.body for r in records
        ]
        assert sink.delivered == 4
        assert sink.dropped == 0

    _run(body)


def test_syslog_tcp_retries_until_the_receiver_is_up() -> None:
    async def body() -> None:
        port = _free_port()
        sink = SyslogAuditSink("127.0.0.1", port, backoff_initial=0.05)
        await sink.start()
        sink.offer(make_chain(1)[0])
        await asyncio.sleep(0.2)  # a few refused connections
        receiver = TcpSyslogReceiver()
        await receiver.start(port)
        await eventually_async(lambda: len(receiver.messages) == 1, what="delivery")
        await sink.close()
        await receiver.stop()

    _run(body)


def test_syslog_udp_sends_one_datagram_per_message() -> None:
    async def body() -> None:
        loop = asyncio.get_running_loop()
        transport, receiver = await loop.create_datagram_endpoint(
            UdpSyslogReceiver, local_addr=("127.0.0.1", 0)
        )
        port = transport.get_extra_info("sockname")[1]
        sink = SyslogAuditSink("127.0.0.1", port, transport="udp")
        await sink.start()
        for record in make_chain(3):
            sink.offer(record)
        await eventually_async(lambda: len(receiver.messages) == 3, what="delivery")
        await sink.close()
        transport.close()
        assert all(RFC5424.match(message) for message in receiver.messages)

    _run(body)


def test_back_pressure_drops_and_counts_without_blocking() -> None:
    async def body() -> None:
        sink = SyslogAuditSink("127.0.0.1", _free_port(), queue_size=5, timeout=0.2)
        await sink.start()
        records = make_chain(100)
        started = time.perf_counter()
        accepted = [sink.offer(record) for record in records]
        elapsed = time.perf_counter() - started
        assert elapsed < 0.1, f"offer() blocked for {elapsed:.3f}s"
        assert accepted.count(True) == 5
        assert sink.dropped == 95
        await sink.close()
        assert sink.dropped == 100  # the queued five could not be delivered before close

    _run(body)


def test_event_type_filter() -> None:
    async def body() -> None:
        receiver = TcpSyslogReceiver()
        port = await receiver.start()
        sink = SyslogAuditSink("127.0.0.1", port, event_types=("breakglass",))
        await sink.start()
        records = link(
            GENESIS, [event(0), event(1, type="breakglass.activate", outcome="ok"), event(2)]
        )
        for record in records:
            sink.offer(record)
        await eventually_async(lambda: len(receiver.messages) == 1, what="delivery")
        await sink.close()
        await receiver.stop()
        assert b"breakglass.activate" in receiver.messages[0]

    _run(body)


def test_webhook_posts_signed_json_batches() -> None:
    async def body() -> None:
        receiver = WebhookReceiver()
        url = await receiver.start()
        sink = WebhookAuditSink(url, SECRET, clock=time.time)
        await sink.start()
        records = make_chain(3)
        for record in records:
            sink.offer(record)
        sink.offer_checkpoint(checkpoint_at(records[-1], Ed25519PrivateKey.generate()))
        await eventually_async(
            lambda: sum(len(_events(b)) for _, b in receiver.requests) == 4, what="delivery"
        )
        await sink.close()
        await receiver.stop()
        for headers, payload in receiver.requests:
            assert headers["content-type"] == "application/json"
            check_signature(headers, payload, SECRET)
        items = [item for _, payload in receiver.requests for item in _events(payload)]
        assert [item.get("seq") for item in items[:3]] == [1, 2, 3]
        assert items[3]["type"] == "audit.checkpoint"
        assert items[3]["checkpoint"]["seq"] == 3
        assert SECRET.reveal().encode() not in b"".join(p for _, p in receiver.requests)

    _run(body)


def _events(payload: bytes) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(payload)["events"]
    return events


def test_webhook_retries_server_errors_and_drops_client_errors() -> None:
    async def body() -> None:
        receiver = WebhookReceiver(statuses=[503, 429, 200, 400])
        url = await receiver.start()
        sink = WebhookAuditSink(url, SECRET, clock=time.time, backoff_initial=0.01)
        await sink.start()
        first, second = make_chain(2)
        sink.offer(first)
        await eventually_async(lambda: sink.delivered == 1, what="delivery")
        assert len(receiver.requests) == 3  # 503, 429, then 200
        sink.offer(second)
        await eventually_async(lambda: sink.dropped == 1, what="delivery")
        await asyncio.sleep(0.05)
        assert len(receiver.requests) == 4  # 400 is not retried
        await sink.close()
        await receiver.stop()

    _run(body)


def test_audit_log_from_config_forwards_to_syslog(tmp_path: Path) -> None:
    async def body() -> None:
        loop = asyncio.get_running_loop()
        transport, receiver = await loop.create_datagram_endpoint(
            UdpSyslogReceiver, local_addr=("127.0.0.1", 0)
        )
        port = transport.get_extra_info("sockname")[1]
        storage = StorageConfig.model_validate({"sqlite": {"path": str(tmp_path / "a.db")}})
        audit_config = AuditConfig.model_validate(
            {
                "checkpoint": {
                    "key_file": str(tmp_path / "audit.key"),
                    "file": str(tmp_path / "checkpoints.jsonl"),
                },
                "sinks": [
                    {"type": "syslog", "host": "127.0.0.1", "port": port, "transport": "udp"}
                ],
            }
        )
        audit = open_audit_log(storage, audit_config)
        await audit.start()
        await audit.append(event(0, type="breakglass.activate", outcome="ok"))
        audit.record(event(1))
        await audit.close()
        await eventually_async(
            lambda: len(receiver.messages) == 3, what="delivery"
        )  # 2 records + final checkpoint
        transport.close()
        ids = sorted(RFC5424.match(m)["msgid"] for m in receiver.messages)  # type: ignore[index]
        assert ids == [b"breakglass.activate", b"checkpoint", b"decision"]
        assert (tmp_path / "audit.key").stat().st_mode & 0o777 == 0o600

    _run(body)
