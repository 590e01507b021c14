"""The server choice, by measurement: glassgate's ASGI app on uvicorn vs granian.

    .venv/bin/python bench/compare_servers.py [--passes 5 --duration 5]

Same app, same generated config (reference policy, everything on), same
token pool and wrk script: ``glassgate serve``'s uvicorn set-up (httptools,
uvloop) against ``granian --interface asgi`` (uvloop, HTTP/1, one worker,
single-threaded runtime), with nginx and Caddy in the same passes as the
yardsticks. Takes every option of ``bench/run.py``; writes
``bench/results/<timestamp>-servers.md`` and ``.json``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import parse, run  # noqa: E402

SCENARIOS = ("nginx", "caddy", "glassgate", "glassgate-granian")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    options = parse(args, default_scenarios=SCENARIOS)
    if "--title" not in args:
        options.title = "glassgate's ASGI app: uvicorn (httptools, uvloop) vs granian ASGI"
    options.tag = options.tag or "servers"
    options.no_micro = True
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
