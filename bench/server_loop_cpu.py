"""What the connection limits cost the server loop, in server CPU per request.

    .venv/bin/python bench/server_loop_cpu.py [--duration 5 --connections 16 --rounds 3]

Runs ``bench.floor_apps.hello_asgi`` on uvicorn as ``glassgate serve`` builds a
listener (``app.server.server_config``), once with plain uvicorn
(``http="httptools"``) and once with the data plane's ``GuardedProtocol``
(``adapters/http/connection_limits.py``: head cap, header/body deadlines,
connection cap), drives each with ``wrk`` (keep-alive) for ``--duration``
seconds, and reads the server's own CPU time from /proc. CPU per request,
unlike req/s, hardly moves with other load on the machine, so the two can be
compared on a busy one. Prints the median of ``--rounds`` per variant.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

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
limits = ConnectionLimits.from_config(LimitsConfig()) if sys.argv[1] == "guarded" else None
config = server_config(hello_asgi, log_level="warning", lifespan="off", limits=limits)
sock = bind_socket("127.0.0.1", int(sys.argv[2]))
uvloop.run(serve([Listener(config, sock)], reraise_signals=False))
"""


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
    results: dict[str, list[float]] = {"plain": [], "guarded": []}
    for _ in range(args.rounds):
        for variant, figures in results.items():  # interleaved: drift hits both alike
            figures.append(_round(variant, args.duration, args.connections))
    for variant, figures in results.items():
        shown = ", ".join(f"{f:.1f}" for f in figures)
        print(f"{variant:8s} median {statistics.median(figures):6.1f} µs/req  ({shown})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
