"""Slow, oversized and too many connections against a real ``glassgate serve`` (issue 11 A).

Raw sockets only: these tests describe what a client sees, whatever server loop
the data plane runs on. Every test is bounded in count and in time, and the
bounds are generous (a loaded 2-core machine): they check that the gateway
answers and closes eventually, never how fast it does.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess
from tests.support.gateway_config import base_config, write_config
from tests.support.raw_http import status_of

pytestmark = pytest.mark.integration

HEADER_TIMEOUT = 2.0
KEEPALIVE_TIMEOUT = 2.0
BODY_TIMEOUT = 3.0
MAX_CONNECTIONS = 24
SLACK = 15.0  # on top of a configured deadline: a loaded machine, never a timing assertion


@pytest.fixture(scope="module")
def gateway(
    oidc_provider: Any, upstream: EchoUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("limits")
    config = base_config(
        oidc_provider.issuer,
        upstream.url,
        routes=[{"id": "open", "match": {"path": "/open/*"}, "upstream": "app", "anonymous": True}],
        limits={
            "header_timeout": f"{HEADER_TIMEOUT}s",
            "keepalive_timeout": f"{KEEPALIVE_TIMEOUT}s",
            "body_timeout": f"{BODY_TIMEOUT}s",
            "max_connections": MAX_CONNECTIONS,
        },
    )
    write_config(workdir / "gateway.yaml", config)
    process = GatewayProcess(workdir / "gateway.yaml", {}, workdir / "gateway.log")
    process.start()
    yield process
    process.stop()
    log = (workdir / "gateway.log").read_text()
    assert "Traceback" not in log, log[-3000:]


def _connect(gw: GatewayProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=SLACK)
    sock.settimeout(SLACK)
    return sock


def _read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, bool]:
    """Everything the gateway sends until it closes; (bytes, closed within ``within`` s)."""
    out = b""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return out, True
        if not chunk:
            return out, True
        out += chunk
    return out, False


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _healthy(gw: GatewayProcess) -> bool:
    return httpx.get(gw.url + "/healthz", timeout=SLACK).status_code == 200


def test_an_endless_header_is_refused_while_it_is_read(gateway: GatewayProcess) -> None:
    """48 MiB of one unterminated header: 431 and close, and the process barely grows."""
    assert gateway.proc is not None
    before = _rss_kib(gateway.proc.pid)
    chunk = b"a" * 65536
    sent = 0
    answer = b""
    with _connect(gateway) as sock:
        sock.sendall(b"GET /open/x HTTP/1.1\r\nHost: a\r\nX-Big: ")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while sent < 48 * 1024 * 1024:
                sock.sendall(chunk)
                sent += len(chunk)
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
        answer, closed = _read_until_closed(sock, SLACK)
    grown = _rss_kib(gateway.proc.pid) - before
    assert status_of(answer) == 431, answer[:200]
    assert closed
    assert sent < 8 * 1024 * 1024  # refused long before the end, not after buffering it all
    assert grown < 8 * 1024, f"RSS grew by {grown} KiB"
    assert _healthy(gateway)


def test_a_connection_that_sends_nothing_gets_408(gateway: GatewayProcess) -> None:
    with _connect(gateway) as sock:
        answer, closed = _read_until_closed(sock, HEADER_TIMEOUT + SLACK)
    assert closed
    assert status_of(answer) == 408
    assert b"request_timeout" in answer


def test_a_head_sent_one_byte_at_a_time_gets_408(gateway: GatewayProcess) -> None:
    head = b"GET /open/slow HTTP/1.1\r\nHost: a\r\nX-Padding: " + b"p" * 200
    answer = b""
    with _connect(gateway) as sock:
        deadline = time.monotonic() + HEADER_TIMEOUT + SLACK
        for byte in head:  # never the blank line: the head is never complete
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            readable, _, _ = select.select([sock], [], [], 0.25)
            if readable or time.monotonic() > deadline:
                break
        answer, closed = _read_until_closed(sock, SLACK)
    assert closed
    assert status_of(answer) == 408


def test_an_idle_keep_alive_connection_is_closed(
    gateway: GatewayProcess, upstream: EchoUpstream
) -> None:
    with _connect(gateway) as sock:
        sock.sendall(b"GET /open/ka HTTP/1.1\r\nHost: a\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first:
            first += sock.recv(65536)
        assert status_of(first) == 200
        rest, closed = _read_until_closed(sock, KEEPALIVE_TIMEOUT + SLACK)
    assert closed
    assert b"HTTP/1.1" not in rest  # closed quietly: an idle connection is no failed request


def test_a_trickled_body_meets_a_total_deadline(
    gateway: GatewayProcess, upstream: EchoUpstream
) -> None:
    """One byte every half second never trips a per-read timeout; the total deadline does."""
    upstream.clear()
    answer = b""
    with _connect(gateway) as sock:
        sock.sendall(b"POST /open/upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10000\r\n\r\n")
        deadline = time.monotonic() + BODY_TIMEOUT + SLACK
        while time.monotonic() < deadline:
            try:
                sock.sendall(b"x")
            except (BrokenPipeError, ConnectionResetError):
                break
            readable, _, _ = select.select([sock], [], [], 0.5)
            if readable:
                break
        answer, closed = _read_until_closed(sock, SLACK)
    assert closed
    assert status_of(answer) == 408
    assert all(seen.body != b"x" * 10000 for seen in upstream.requests)


def test_connections_over_the_cap_get_503_and_healthz_survives(gateway: GatewayProcess) -> None:
    held: list[socket.socket] = []
    refused = 0
    try:
        for _ in range(MAX_CONNECTIONS + 6):
            held.append(_connect(gateway))
        time.sleep(0.5)  # let the gateway accept every one
        for sock in held:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                continue
            answer, closed = _read_until_closed(sock, SLACK)
            if status_of(answer) == 503 and closed:
                refused += 1
    finally:
        for sock in held:
            sock.close()
    assert refused >= 6
    deadline = time.monotonic() + SLACK
    while time.monotonic() < deadline:  # the held ones are closed: room again
        with contextlib.suppress(httpx.HTTPError):
            if _healthy(gateway):
                return
        time.sleep(0.2)
    raise AssertionError("/healthz did not answer after the flood")
