"""``glassgate check-config FILE``: validate a config file and report every problem."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from glassgate.config.load import load_config
from glassgate.config.schema import Config

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check-config",
        help="validate a configuration file",
        description="Validate FILE. Prints OK, or every problem with file, line, field and "
        "a hint, and exits 2. Shows where the database, the audit checkpoint key and "
        "file and the quota counters resolve to. Risky but allowed settings are printed as "
        "warnings on stderr. Secrets are masked in every output.",
    )
    parser.add_argument("file", help="the YAML configuration file")
    parser.add_argument(
        "--print",
        dest="show",
        action="store_true",
        help="also print the effective configuration (defaults filled, secrets masked)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_config(args.file)
    config = loaded.config
    print(
        f"OK: {args.file}: {len(config.issuers)} issuer(s), {len(config.upstreams)} "
        f"upstream(s), {len(config.routes)} route(s)"
    )
    for line in _resolved_paths(config):
        print(f"  {line}")
    for warning in loaded.warnings:
        print(f"warning: {warning.render()}", file=sys.stderr)
    if args.show:
        print(json.dumps(config.model_dump(mode="json"), indent=2, sort_keys=True))
    return 0


def _resolved_paths(config: Config) -> list[str]:
    """Where state lives, as the gateway will find it (relative paths made absolute)."""
    from glassgate.adapters.storage.target import StorageTarget

    target = StorageTarget.from_config(config.storage)
    if target.backend == "sqlite":
        database = f"database: sqlite {os.path.abspath(target.location)}"
    else:
        database = f"database: {target.describe()}"
    checkpoint = config.audit.checkpoint
    key = os.path.abspath(checkpoint.key_file)
    state = "exists" if os.path.exists(key) else "created on first start"
    redis = config.quotas.store.redis
    quotas = "memory (this process only)" if redis is None else f"redis {redis.describe()}"
    return [
        database,
        f"audit checkpoint key: {key} ({state})",
        f"audit checkpoint file: {os.path.abspath(checkpoint.file)}",
        f"quota store: {quotas}",
    ]
