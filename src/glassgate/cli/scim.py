"""``glassgate scim token issue | list``: bearer tokens for SCIM provisioning (SPEC C6).

- ``token issue --name okta --config FILE`` prints a new token once, alone
  on its line; glassgate keeps only its digest. ``--rotate`` revokes every
  other token at the same time (an IdP's old token stops working at once).
- ``token list`` shows the tokens (never a secret) and whether they are live.

Both write a privileged audit record (``admin.scim.token.*``) before the
change. Give the token to the IdP's SCIM connector as an HTTP bearer token,
with base URL ``http://<console.listen>/scim/v2``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from glassgate.cli._storage import add_source_arguments, command_actor, resolve_source, run_admin
from glassgate.errors import ConfigError, Problem

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "scim", help="SCIM provisioning tokens", description=__doc__
    )
    nouns = parser.add_subparsers(dest="noun", metavar="NOUN", required=True)
    token = nouns.add_parser("token", help="issue, rotate and list SCIM bearer tokens")
    verbs = token.add_subparsers(dest="verb", metavar="VERB", required=True)
    issue = verbs.add_parser("issue", help="a new token, printed once")
    issue.add_argument("--name", required=True, help="a label, e.g. okta")
    issue.add_argument("--rotate", action="store_true", help="revoke every other token")
    issue.add_argument("--config", required=True, metavar="FILE", help="the gateway config")
    issue.set_defaults(handler=run_issue)
    listing = verbs.add_parser("list", help="tokens and their state (never a secret)")
    add_source_arguments(listing)
    listing.add_argument("--json", action="store_true", help="a JSON array instead of lines")
    listing.set_defaults(handler=run_list)


def run_issue(args: argparse.Namespace) -> int:
    from glassgate.config.load import load_config

    config = load_config(args.config).config
    actor = command_actor()
    try:
        issued = run_admin(
            config, lambda s: s.scim_tokens.issue(args.name, actor, rotate=args.rotate)
        )
    except ValueError as exc:
        raise ConfigError([Problem("--name", str(exc))]) from None
    print(issued.key.reveal())
    rotated = " Every other SCIM token was revoked." if args.rotate else ""
    print(
        f"issued SCIM token {issued.record.key_id} ({issued.record.name}).{rotated} "
        "This is the only time it is shown; glassgate keeps only a digest.",
        file=sys.stderr,
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    from glassgate.audit.records import format_ts
    from glassgate.cli._storage import open_existing_directory_store

    store = open_existing_directory_store(resolve_source(args).target)
    try:
        records = store.scim_tokens()
    finally:
        store.close()
    rows = [
        {
            "key_id": r.key_id,
            "name": r.name,
            "created_at": format_ts(r.created_at),
            "created_by": r.created_by,
            "revoked_at": None if r.revoked_at is None else format_ts(r.revoked_at),
            "status": "revoked" if r.revoked_at is not None else "live",
        }
        for r in records
    ]
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(
                f"{row['key_id']}  {row['name']:<20} {row['status']:<8} created {row['created_at']}"
            )
        if not rows:
            print("no SCIM tokens")
    return 0
