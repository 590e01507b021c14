"""What accepting connections costs, and how long a burst of new ones waits (not a test).

    .venv/bin/python bench/bench_accept.py [--rounds 2]

The data plane's ``Listener`` (uvloop, ``GuardedProtocol``) serving a small
app, in two variants run alternately: ``acceptor`` (as shipped:
``adapters/http/acceptor.py`` drains the listening socket each turn) and
``uvloop`` (uvicorn's own start-up: ``loop.create_server``, which since
libuv 1.45 accepts one connection per turn of the loop). Two figures each:

- **churn**: ``wrk -c16 -H "Connection: close"`` for 4 s against an app that
  answers at once, so every request comes on a new connection: server CPU
  (utime + stime from /proc) per connection including its one request;
- **burst**: the app burns 0.3 ms of CPU per request while wrk holds 64
  kept-alive connections; 3 s in, 30 new connections are opened and each
  sends one request: the time until the first answer on each (median, max).

The server is pinned to the server core, wrk and the burst client to the load core.
"""

from __future__ import annotations

import argparse
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.cpu import cpu_seconds  # noqa: E402
from bench.procs import LOAD_CPU, Supervisor, free_port, pinned, wait_http  # noqa: E402

VARIANTS = ("acceptor", "uvloop")
BURST = 30


def _serve(variant: str, port: int, busy_seconds: float) -> None:
    """The server process: ``Listener`` on ``port``, accepting as ``variant`` says."""
    import uvicorn  # noqa: PLC0415 - only the server process needs these
    import uvloop  # noqa: PLC0415

    from glassgate.adapters.http.connection_limits import ConnectionLimits  # noqa: PLC0415
    from glassgate.app.server import Listener, bind_socket, serve, server_config  # noqa: PLC0415

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        if scope["type"] != "http":
            return
        start = time.perf_counter()
        while time.perf_counter() - start < busy_seconds:
            pass
        headers = [(b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

    class UvloopAccepts(Listener):
        """uvicorn's own start-up and shutdown: the listener before ``Acceptor``."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await uvicorn.Server.startup(self, sockets=sockets)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            await uvicorn.Server.shutdown(self, sockets=sockets)

    limits = ConnectionLimits(
        head_bytes=16384,
        header_timeout=10,
        keepalive_timeout=10,
        body_timeout=10,
        max_connections=4096,
    )
    config = server_config(app, log_level="warning", lifespan="off", limits=limits)  # type: ignore[arg-type]
    kind = Listener if variant == "acceptor" else UvloopAccepts
    listener = kind(config, bind_socket("127.0.0.1", port))
    uvloop.run(serve([listener]))


def _start(sup: Supervisor, variant: str, busy_seconds: float) -> tuple[int, int]:
    port = free_port()
    argv = [sys.executable, __file__, "--serve", variant, "--port", str(port)]
    server = sup.start(f"{variant}-{port}", [*argv, "--busy", str(busy_seconds)], port=port)
    wait_http(f"http://127.0.0.1:{port}/", 20.0, server.proc)
    return server.pid, port


def _wrk(port: int, connections: int, seconds: int, *extra: str) -> int:
    """Requests wrk completed; raises if it failed."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", *extra, f"http://127.0.0.1:{port}/"]
    done = subprocess.run(pinned(LOAD_CPU, argv), capture_output=True, text=True, check=True)
    for line in done.stdout.splitlines():
        if "requests in" in line:
            return int(line.split()[0])
    raise RuntimeError(f"wrk printed no summary: {done.stdout}")


def churn(sup: Supervisor, variant: str) -> tuple[float, float]:
    """(CPU µs per connection with its request, connections per second)."""
    pid, port = _start(sup, variant, 0.0)
    _wrk(port, 16, 1, "-H", "Connection: close")  # warm-up
    before, start = cpu_seconds([pid]), time.perf_counter()
    count = _wrk(port, 16, 4, "-H", "Connection: close")
    cpu, wall = cpu_seconds([pid]) - before, time.perf_counter() - start
    sup.stop_all()
    return cpu / count * 1e6, count / wall


def _first_answers(port: int, count: int) -> list[float]:
    """Open ``count`` connections, one request each; seconds until each first answer."""
    selector = selectors.DefaultSelector()
    start = time.perf_counter()
    clients = []
    for index in range(count):
        client = socket.create_connection(("127.0.0.1", port), timeout=30)
        client.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
        client.setblocking(False)
        selector.register(client, selectors.EVENT_READ, index)
        clients.append(client)
    answered: dict[int, float] = {}
    deadline = start + 30
    while len(answered) < count and time.perf_counter() < deadline:
        for key, _ in selector.select(1.0):
            if key.data not in answered and key.fileobj.recv(4096):  # type: ignore[union-attr]
                answered[key.data] = time.perf_counter() - start
                selector.unregister(key.fileobj)
    for client in clients:
        client.close()
    if len(answered) < count:
        raise RuntimeError(f"only {len(answered)} of {count} new connections were answered")
    return sorted(answered.values())


def burst(sup: Supervisor, variant: str) -> tuple[float, float]:
    """(median, max) ms until the first answer of ``BURST`` new connections under load."""
    _, port = _start(sup, variant, 0.0003)
    load = threading.Thread(target=_wrk, args=(port, 64, 8))
    load.start()
    time.sleep(3)
    waits = _first_answers(port, BURST)
    load.join()
    sup.stop_all()
    return statistics.median(waits) * 1e3, waits[-1] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--busy", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, args.port, args.busy)
        return
    print("variant   round  churn CPU µs/conn  conn/s   burst median ms  burst max ms")
    with tempfile.TemporaryDirectory(prefix="bench-accept-") as tmp, Supervisor(Path(tmp)) as sup:
        for round_index in range(args.rounds):
            for variant in VARIANTS:
                per_conn, rate = churn(sup, variant)
                median, worst = burst(sup, variant)
                print(
                    f"{variant:<9} {round_index + 1:>5}  {per_conn:>17.1f}  {rate:>6,.0f}"
                    f"   {median:>15.1f}  {worst:>12.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
