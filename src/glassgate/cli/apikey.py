"""``glassgate apikey create | list | revoke``: API keys for machine identities (SPEC C4).

- ``create`` makes a key for a machine ``--subject`` with ``--group``s, a route
  scope (``--route ID``, repeatable, or ``--all-routes``), an optional quota
  ``--tier`` and an expiry (``--expires 90d`` by default, or ``never``). The key
  goes to stdout, alone on its line, exactly once: glassgate stores only a
  digest of it. Route ids and tiers are checked against ``--config``.
- ``list`` shows every key and its state; never a secret or a digest.
- ``revoke KEY_ID`` revokes a key; gateways refuse it within
  ``api_keys.cache_ttl`` seconds, without a restart.

``create`` and ``revoke`` write a privileged audit record (``admin.apikey.*``)
before changing anything, and change nothing if it cannot be written.
Exit codes: 0 done, 2 bad input, unknown key, or storage/audit unavailable.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from glassgate.cli._storage import (
    add_source_arguments,
    command_actor,
    open_existing_key_store,
    resolve_source,
    run_admin,
)
from glassgate.errors import ConfigError, Problem

if TYPE_CHECKING:
    from glassgate.tokens.api_keys import ApiKeyRecord, IssuedKey

__all__ = ["parse_expires", "register"]

EXIT_USAGE = 2
DEFAULT_EXPIRES = "90d"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "apikey", help="create, list and revoke API keys for machines", description=__doc__
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    _register_create(verbs)
    _register_list(verbs)
    _register_revoke(verbs)


def _register_create(verbs: Any) -> None:
    create = verbs.add_parser("create", help="create a key and print it once")
    create.add_argument("--config", required=True, metavar="FILE", help="the gateway config")
    create.add_argument("--name", required=True, help="a label, e.g. ci-deploy")
    create.add_argument("--subject", required=True, help="the machine identity, e.g. svc:ci")
    create.add_argument(
        "--group", action="append", default=[], metavar="G", help="a group (repeatable)"
    )
    scope = create.add_mutually_exclusive_group(required=True)
    scope.add_argument(
        "--route",
        action="append",
        default=None,
        metavar="ROUTE_ID",
        help="a route the key may use (repeatable)",
    )
    scope.add_argument(
        "--all-routes",
        action="store_true",
        help="no route scope: every route the key's groups are allowed on",
    )
    create.add_argument("--tier", metavar="TIER", help="a quota tier from the config's quotas")
    create.add_argument(
        "--expires",
        default=DEFAULT_EXPIRES,
        metavar="AGE",
        help=f"lifetime such as 30d, 12h, or 'never' (default {DEFAULT_EXPIRES})",
    )
    create.add_argument("--json", action="store_true", help="print the key and its record as JSON")
    create.set_defaults(handler=run_create)


def _register_list(verbs: Any) -> None:
    listing = verbs.add_parser("list", help="list keys (never their secrets)")
    add_source_arguments(listing)
    listing.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    listing.set_defaults(handler=run_list)


def _register_revoke(verbs: Any) -> None:
    revoke = verbs.add_parser("revoke", help="revoke a key; gateways refuse it within seconds")
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key id shown by `apikey list`")
    revoke.add_argument("--config", required=True, metavar="FILE", help="the gateway config")
    revoke.set_defaults(handler=run_revoke)


def parse_expires(text: str) -> float | None:
    """Seconds from an age such as ``30d``; ``None`` for ``never``."""
    from glassgate.config._units import parse_duration

    if text.strip().lower() == "never":
        return None
    try:
        seconds = parse_duration(text)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise ConfigError(
            [Problem("--expires", f"cannot read {text!r} as a lifetime", "use 30d, 12h or never")]
        )
    return seconds


def _now() -> float:
    from glassgate.adapters.clock import now

    return now()


def run_create(args: argparse.Namespace) -> int:
    from glassgate.config.load import load_config
    from glassgate.workflows.api_keys import NewApiKey, check_new_key, new_key_warnings

    config = load_config(args.config).config
    routes: list[str] | None = None if args.all_routes else list(args.route)
    request = NewApiKey(
        name=args.name,
        subject=args.subject,
        groups=tuple(args.group),
        routes=None if routes is None else tuple(routes),
        quota_tier=args.tier,
        lifetime=parse_expires(args.expires),
    )
    check_new_key(config, request)
    for warning in new_key_warnings(config, request):
        print(f"warning: {warning}", file=sys.stderr)
    try:
        issued = run_admin(config, lambda s: s.api_keys.create(request, command_actor()))
    except ValueError as exc:
        raise ConfigError([Problem("apikey create", str(exc))]) from None
    _print_issued(issued, args.json)
    return 0


def _print_issued(issued: IssuedKey, as_json: bool) -> None:
    record = issued.record
    if as_json:
        print(json.dumps({"key": issued.key.reveal(), **_as_json(record, record.created_at)}))
    else:
        print(issued.key.reveal())
    print(
        f"created API key {record.key_id} ({record.name}) for {record.subject}: "
        f"groups {_join(record.groups)}, routes {_routes(record)}, "
        f"tier {record.quota_tier or '-'}, expires {_time(record.expires_at, 'never')}\n"
        "This is the only time the key is shown; glassgate keeps only a digest of it. "
        "Put it in a secret store now.",
        file=sys.stderr,
    )


def run_list(args: argparse.Namespace) -> int:
    store = open_existing_key_store(resolve_source(args).target)
    try:
        records = store.records()
    finally:
        store.close()
    now = _now()
    if args.json:
        print(json.dumps([_as_json(record, now) for record in records]))
    else:
        print(_table(records, now))
    return 0


def _key_id(text: str) -> str:
    from glassgate.errors import ApiKeyMalformedError
    from glassgate.tokens.api_keys import is_api_key, parse_api_key

    if not is_api_key(text):
        return text.lower()
    try:
        return parse_api_key(text).key_id  # a whole key pasted in: use its id, never echo it
    except ApiKeyMalformedError:
        raise ConfigError([Problem("KEY_ID", "not a well-formed API key or key id")]) from None


def run_revoke(args: argparse.Namespace) -> int:
    from glassgate.config.load import load_config

    config = load_config(args.config).config
    key_id = _key_id(args.key_id.strip())
    result = run_admin(config, lambda s: s.api_keys.revoke(key_id, command_actor()))
    if result is None:
        print(f"glassgate: no API key with id {key_id[:32]!r}", file=sys.stderr)
        return EXIT_USAGE
    record = result.record
    if not result.changed:
        print(
            f"API key {record.key_id} ({record.name}) was already revoked at "
            f"{_time(record.revoked_at, '-')}"
        )
        return 0
    print(
        f"revoked API key {record.key_id} ({record.name}); gateways refuse it within "
        f"{config.api_keys.cache_ttl:g}s (api_keys.cache_ttl)"
    )
    return 0


def _join(values: frozenset[str]) -> str:
    return ",".join(sorted(values)) or "-"


def _routes(record: ApiKeyRecord) -> str:
    return "*" if record.routes is None else _join(record.routes)


def _time(epoch: float | None, missing: str) -> str:
    from glassgate.audit.records import format_ts

    return missing if epoch is None else format_ts(epoch)[:19] + "Z"


def _as_json(record: ApiKeyRecord, now: float) -> dict[str, Any]:
    return {
        "key_id": record.key_id,
        "name": record.name,
        "subject": record.subject,
        "groups": sorted(record.groups),
        "routes": None if record.routes is None else sorted(record.routes),
        "quota_tier": record.quota_tier,
        "created_at": _time(record.created_at, ""),
        "created_by": record.created_by,
        "expires_at": None if record.expires_at is None else _time(record.expires_at, ""),
        "revoked_at": None if record.revoked_at is None else _time(record.revoked_at, ""),
        "revoked_by": record.revoked_by,
        "status": record.status(now),
    }


_COLUMNS = ("KEY ID", "NAME", "SUBJECT", "GROUPS", "ROUTES", "TIER", "EXPIRES", "STATUS")


def _cells(record: ApiKeyRecord, now: float) -> tuple[str, ...]:
    return (
        record.key_id,
        record.name,
        record.subject,
        _join(record.groups),
        _routes(record),
        record.quota_tier or "-",
        _time(record.expires_at, "never"),
        record.status(now),
    )


def _table(records: list[ApiKeyRecord], now: float) -> str:
    if not records:
        return "no API keys"
    rows = [_COLUMNS, *(tuple(cell[:40] for cell in _cells(record, now)) for record in records)]
    widths = [max(len(row[index]) for row in rows) for index in range(len(_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
