"""``glassgate db upgrade``: apply the schema migrations (Alembic) to the configured database.

The embedded SQLite default migrates itself on first start; a shared
PostgreSQL is upgraded explicitly, once, before new gateway versions start.
Exit codes: 0 done, 2 bad input or the database is unreachable.
"""

from __future__ import annotations

import argparse
from typing import Any

from glassgate.cli._storage import add_source_arguments, resolve_source

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "db", help="database schema management", description="Manage the database schema."
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    upgrade = verbs.add_parser(
        "upgrade",
        help="apply pending migrations",
        description="Apply every pending migration in one transaction (safe to run twice).",
    )
    add_source_arguments(upgrade)
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    from glassgate.adapters.storage.migrate import upgrade
    from glassgate.adapters.storage.revision import current_revision

    target = resolve_source(args).target
    before = current_revision(target)
    after = upgrade(target)
    change = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    print(f"{target.describe()}: {change} schema revision {after}")
    return 0
