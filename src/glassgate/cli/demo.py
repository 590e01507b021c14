"""``glassgate demo``: the gateway, a development-only issuer and a sample API, at once.

The README's first command: on a fresh machine it shows allow, 403, step-up
401 and 429 within a minute, with ready-to-run ``curl`` commands. Everything
it starts is bound to 127.0.0.1 and stops on Ctrl-C. DEVELOPMENT ONLY: the
issuer's key is generated at start and its tokens mean nothing elsewhere.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

__all__ = ["register", "run"]


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is between 0 and 65535 (0: any free port)")
    return port


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="try glassgate: gateway, development token issuer and sample API in one command",
        description="Start the gateway with a development-only token issuer (a throwaway "
        "key generated now), a sample upstream and an example policy, all on 127.0.0.1, "
        "and print curl commands that show allow, 403, step-up 401 and 429. "
        "Runs until Ctrl-C. Never use the demo issuer in production.",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=None,
        help="gateway port (default 8080, or a free port if 8080 is taken; 0: any free port)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the addresses, tokens and commands as one line of JSON",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from glassgate.demo.runner import DemoOptions
    from glassgate.demo.runner import run as run_demo

    logging.basicConfig(level=args.log_level.upper(), format="%(message)s", stream=sys.stderr)
    if args.log_level != "debug":  # one line per JWKS fetch is noise next to the demo's output
        logging.getLogger("httpx").setLevel(logging.WARNING)
    options = DemoOptions(port=args.port, json=args.json, log_level=args.log_level)
    return run_demo(options, sys.stdout)
