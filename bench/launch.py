"""Serve glassgate for the benchmark: ``glassgate serve`` itself, or the same app on granian.

    python bench/launch.py --config FILE --port N [--server uvicorn|granian] [--no-token-cache]
                           [--log-level info] [--gc-tuned]

``uvicorn`` runs ``glassgate serve`` (``glassgate.cli.main``) in this process,
so logging, the audit log, observability and GC settings are exactly the
product's. Before that, the bench may change two things, both reported:
``--no-token-cache`` cuts the verified-token cache to one entry (with the
rotating pool every request is verified from scratch; glassgate has no config
switch for this), and ``--gc-tuned`` (an experiment) adds ``gc.freeze()`` and
a 50,000 gen-0 threshold. ``granian`` execs ``granian --interface asgi`` on
``bench.asgi_app:app`` (uvloop, HTTP/1, one worker, single-threaded runtime),
which mirrors serve's set-up.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.asgi_app import CACHE_ENV, CONFIG_ENV, GC_ENV, LOG_ENV, prepare  # noqa: E402
from glassgate.cli import main as glassgate_main  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn")
    parser.add_argument("--no-token-cache", action="store_true")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    parser.add_argument(
        "--gc-tuned",
        action="store_true",
        help="experiment: gc.freeze() after start-up and a gen-0 threshold of 50,000",
    )
    args = parser.parse_args()
    if args.server == "granian":
        os.environ[CONFIG_ENV] = args.config
        os.environ[CACHE_ENV] = "0" if args.no_token_cache else "1"
        os.environ[LOG_ENV] = args.log_level
        os.environ[GC_ENV] = "1" if args.gc_tuned else "0"
        os.environ["PYTHONPATH"] = str(ROOT)
        granian = str(Path(sys.executable).parent / "granian")
        argv = [granian, "--interface", "asgi", "--loop", "uvloop", "--http", "1", "--no-ws"]
        argv += ["--workers", "1", "--runtime-mode", "st", "--log-level", "warning"]
        argv += ["--host", "127.0.0.1", "--port", str(args.port), "bench.asgi_app:app"]
        os.chdir(ROOT)
        os.execv(granian, argv)
    prepare(token_cache=not args.no_token_cache, gc_tuned=args.gc_tuned)
    serve = ["serve", "--config", args.config, "--listen", f"127.0.0.1:{args.port}"]
    return glassgate_main([*serve, "--log-level", args.log_level, "--no-watch"])


if __name__ == "__main__":
    sys.exit(main())
