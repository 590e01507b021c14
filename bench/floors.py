"""The floors under glassgate: what the server and the upstream pool cost on their own.

    .venv/bin/python bench/floors.py [--passes 3 --duration 5]

Same machine, pinning, wrk script and CPU accounting as ``bench/run.py``,
but minimal apps instead of glassgate, so the gateway's own cost can be read
off as "glassgate minus floor":

- ``uvicorn-hello``: uvicorn (httptools, uvloop, as ``glassgate serve``) with
  an ASGI app answering 200 and a fixed body: the server's floor;
- ``granian-asgi-hello`` / ``granian-rsgi-hello``: the same on granian;
- ``uvicorn-pool-proxy``: uvicorn with an ASGI app that forwards every request
  through glassgate's own keep-alive pool (``Target`` + ``UpstreamConnection``)
  with no gate, no identity headers, no observability: the proxy's floor;
- ``nginx`` and ``glassgate`` from ``bench/run.py`` as yardsticks.

The apps live in ``bench/floor_apps.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import parse, run  # noqa: E402

SCENARIOS = (
    "nginx",
    "uvicorn-hello",
    "granian-asgi-hello",
    "granian-rsgi-hello",
    "uvicorn-pool-proxy",
    "glassgate",
)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    options = parse(args, default_scenarios=SCENARIOS)
    if "--title" not in args:
        options.title = "Floors: the server and the upstream pool without glassgate's logic"
    options.tag = options.tag or "floors"
    options.no_micro = True
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
