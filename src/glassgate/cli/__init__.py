"""The ``glassgate`` command line: ``glassgate <noun> <verb>``.

Each command module exposes ``register(subparsers)``; the table below is the
explicit list of them (no import-time registration). Exit codes: 0 success,
1 a check failed (policy test, audit verify), 2 invalid input or config.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from glassgate import __version__
from glassgate.errors import ConfigError, GlassgateError

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _command_modules() -> tuple[ModuleType, ...]:
    from glassgate.cli import (
        apikey,
        audit,
        breakglass,
        config_cmd,
        db,
        demo,
        directory,
        drill,
        grants,
        policy,
        rules,
        scim,
        serve,
    )

    return (
        serve,
        config_cmd,
        policy,
        audit,
        db,
        demo,
        apikey,
        breakglass,
        drill,
        grants,
        rules,
        directory,
        scim,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassgate",
        description="Identity-aware API access gateway with break-glass access built in.",
    )
    parser.add_argument("--version", action="version", version=f"glassgate {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        result: int = handler(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        return EXIT_USAGE
    except GlassgateError as exc:
        print(f"glassgate: error [{exc.code}]: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return result
