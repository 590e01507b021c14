"""What the connection limits cost the server loop, in server CPU per request.

    .venv/bin/python bench/server_loop_cpu.py [--duration 5 --connections 16 --rounds 3]

Runs ``bench.floor_apps.hello_asgi`` on uvicorn as ``glassgate serve`` builds a
listener (``app.server.server_config``), once with plain uvicorn
(``http="httptools"``) and once with the data plane's ``GuardedProtocol``
(``adapters/http/connection_limits.py``: head cap, header/body deadlines,
connection cap), and beside them the floor of a server on llhttp with no
ASGI at all (``_Hello``: what leaving ASGI could save at most); drives each
with ``wrk`` (keep-alive) for ``--duration`` seconds, and reads the server's
own CPU time from /proc. CPU per request, unlike req/s, hardly moves with
other load on the machine, so the variants can be compared on a busy one.
Prints the median of ``--rounds`` per variant.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httptools

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.cpu import cpu_seconds  # noqa: E402
from glassgate.app.server import bind_socket  # noqa: E402

_SERVER = """
import sys, uvloop, asyncio
from glassgate.adapters.http.connection_limits import ConnectionLimits
from glassgate.app.server import Listener, bind_socket, serve, server_config
from glassgate.config.schema import LimitsConfig
from bench.floor_apps import hello_asgi
sock = bind_socket("127.0.0.1", int(sys.argv[2]))
if sys.argv[1] == "llhttp":
    from bench.server_loop_cpu import serve_llhttp
    uvloop.run(serve_llhttp(sock))
limits = ConnectionLimits.from_config(LimitsConfig()) if sys.argv[1] == "guarded" else None
config = server_config(hello_asgi, log_level="warning", lifespan="off", limits=limits)
uvloop.run(serve([Listener(config, sock)], reraise_signals=False))
"""
_BODY = b'{"ok":true,"service":"bench-upstream","items":[1,2,3]}'
_RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
    len(_BODY),
    _BODY,
)


class _Hello(asyncio.Protocol):
    """The floor of a server written on llhttp directly: parse, answer, keep alive.

    No ASGI (no scope dict, no receive/send coroutines, no task per request):
    what issue 10 direction 2 would build on. Not a server: no limits, no
    pipelining rules, no errors; it bounds what leaving ASGI could save.
    """

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_message_complete(self) -> None:
        if self.transport is not None:
            self.transport.write(_RESPONSE)


async def serve_llhttp(sock: socket.socket) -> None:
    server = await asyncio.get_running_loop().create_server(_Hello, sock=sock, backlog=2048)
    await server.serve_forever()


def _free_port() -> int:
    sock = bind_socket("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def _round(variant: str, duration: int, connections: int) -> float:
    """Server CPU µs per request for one wrk run against a fresh server."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, variant, str(port)], cwd=ROOT, stdout=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(100):
            done = subprocess.run(["curl", "-s", "-o", "/dev/null", url], check=False)
            if done.returncode == 0:
                break
            time.sleep(0.1)
        before = cpu_seconds([server.pid])
        wrk = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", url],
            capture_output=True,
            text=True,
            check=True,
        )
        used = cpu_seconds([server.pid]) - before
        line = next(li for li in wrk.stdout.splitlines() if "requests in" in li)
        served = int(line.split()[0])
        return used / served * 1e6
    finally:
        server.terminate()
        server.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"plain": [], "guarded": [], "llhttp": []}
    for _ in range(args.rounds):
        for variant, figures in results.items():  # interleaved: drift hits both alike
            figures.append(_round(variant, args.duration, args.connections))
    for variant, figures in results.items():
        shown = ", ".join(f"{f:.1f}" for f in figures)
        print(f"{variant:8s} median {statistics.median(figures):6.1f} µs/req  ({shown})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
