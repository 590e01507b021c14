"""``glassgate directory users | groups | show | import | export | status | member`` (SPEC C6).

Reading (``--config`` or ``--db``): ``users`` and ``groups`` list the
directory (groups with direct and rule members, active count and protected
minimum); ``show NAME`` explains one user (where each group comes from) or
group; ``export`` writes glassgate's JSON (``--json``, the default) or users
as CSV (``--csv``).

Changing (``--config``): ``import PATH`` (glassgate JSON, CSV, or an Okta
export; ``--dry-run`` only simulates), ``status USER active|suspended|
deprovisioned`` and ``member add|remove GROUP USER``. Every change passes the
lockout guard, writes a privileged audit record first and is refused whole,
audited and alerted when it would leave a protected group short (exit 1).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glassgate.cli._directory import EXIT_REFUSED
from glassgate.cli.rules import add_directory_source, load_directory
from glassgate.errors import ConfigError, Problem

if TYPE_CHECKING:
    from glassgate.directory.changes import Change
    from glassgate.directory.formats.batch import ImportBatch
    from glassgate.directory.state import Directory
    from glassgate.workflows.directory import Plan, Source

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "directory", help="users, groups, imports and exports", description=__doc__
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for name, handler, text in (
        ("users", run_users, "list users with their groups"),
        ("groups", run_groups, "list groups: direct, rule and active members"),
    ):
        listing = verbs.add_parser(name, help=text)
        add_directory_source(listing, allow_export=False)
        listing.add_argument("--json", action="store_true", help="JSON instead of a table")
        listing.set_defaults(handler=handler)
    show = verbs.add_parser("show", help="one user or group, explained")
    show.add_argument("name", metavar="NAME", help="a userName, a group name, or an id")
    add_directory_source(show, allow_export=False)
    show.add_argument("--json", action="store_true", help="JSON instead of text")
    show.set_defaults(handler=run_show)
    export = verbs.add_parser("export", help="the directory as glassgate JSON or users CSV")
    add_directory_source(export, allow_export=False)
    kind = export.add_mutually_exclusive_group()
    kind.add_argument("--json", action="store_true", help="glassgate JSON (the default)")
    kind.add_argument("--csv", action="store_true", help="users as CSV")
    export.add_argument("--out", type=Path, metavar="FILE", help="write to FILE, not stdout")
    export.set_defaults(handler=run_export)
    _register_changes(verbs)


def _register_changes(verbs: Any) -> None:
    imports = verbs.add_parser("import", help="import users, groups and rules (guarded)")
    imports.add_argument("path", type=Path, metavar="PATH", help="a file, or an Okta export folder")
    imports.add_argument("--format", choices=("json", "csv", "okta"), help="if not guessed")
    imports.add_argument("--config", required=True, metavar="FILE", help="the gateway config")
    imports.add_argument("--dry-run", action="store_true", help="simulate only")
    imports.set_defaults(handler=run_import)
    status = verbs.add_parser("status", help="set a user active, suspended or deprovisioned")
    status.add_argument("user", metavar="USER", help="a userName or an id")
    status.add_argument("status", choices=("active", "suspended", "deprovisioned"))
    status.add_argument("--config", required=True, metavar="FILE", help="the gateway config")
    status.set_defaults(handler=run_status)
    member = verbs.add_parser("member", help="add or remove a direct member of a group")
    member.add_argument("action", choices=("add", "remove"))
    member.add_argument("group", metavar="GROUP", help="a group name or id")
    member.add_argument("user", metavar="USER", help="a userName or an id")
    member.add_argument("--config", required=True, metavar="FILE", help="the gateway config")
    member.set_defaults(handler=run_member)


def run_users(args: argparse.Namespace) -> int:
    import json

    from glassgate.directory.listing import UserView, users_table

    directory, _ = load_directory(args)
    if args.json:
        users = sorted(directory.users.values(), key=lambda u: u.key)
        views = [UserView.of(directory, user).json() for user in users]
        print(json.dumps(views, indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(users_table(directory))
    return 0


def run_groups(args: argparse.Namespace) -> int:
    import json

    from glassgate.directory.listing import GroupView, groups_table

    directory, guard = load_directory(args)
    if args.json:
        groups = sorted(directory.groups.values(), key=lambda g: g.name.casefold())
        views = [GroupView.of(directory, group, guard).json() for group in groups]
        print(json.dumps(views, indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(groups_table(directory, guard))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from glassgate.directory.listing import show

    directory, guard = load_directory(args)
    text = show(directory, args.name, guard, args.json)
    if text is None:
        raise ConfigError([Problem("NAME", f"no user or group called {args.name[:80]!r}")])
    sys.stdout.write(text)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from glassgate.directory.formats.csv_users import export_csv
    from glassgate.directory.formats.native import export_json

    directory, _ = load_directory(args)
    text = export_csv(directory) if args.csv else export_json(directory)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        counts = f"{len(directory.users)} user(s), {len(directory.groups)} group(s)"
        print(f"{counts} written to {args.out}", file=sys.stderr)
    return 0


def _change(config_path: str, plan: Plan, source: Source, action: str) -> int:
    from glassgate.cli._directory import guarded_change

    outcome = guarded_change(config_path, plan, source, action)
    if outcome is None:
        return EXIT_REFUSED
    writes = outcome.writes
    rules = ", rules replaced" if writes.rules is not None else ""
    written = f"{len(writes.put_users)} user(s) and {len(writes.put_groups)} group(s)"
    print(f"{action}: {written} written{rules}")
    return 0


def _report(batch: ImportBatch) -> None:
    for item in batch.untranslated:
        print(f"not imported: rule {item.rule}: {item.reason}", file=sys.stderr)
    for note in batch.notes:
        print(f"note: {note}", file=sys.stderr)


def run_import(args: argparse.Namespace) -> int:
    import uuid

    from glassgate.adapters.clock import now
    from glassgate.cli._directory import read_batch
    from glassgate.directory.formats.batch import to_changes
    from glassgate.workflows.directory import Source

    batch = read_batch(args.path, args.format)
    _report(batch)

    def plan(d: Directory) -> Sequence[Change]:
        return to_changes(batch, d, lambda: uuid.uuid4().hex, now())

    if args.dry_run:
        return _dry_run(args, plan)
    return _change(args.config, plan, Source.IMPORT, f"import of {args.path.name}")


def _dry_run(args: argparse.Namespace, plan: Plan) -> int:
    """What the import would do, without doing it: counts and the lockout guard's verdict."""
    from glassgate.directory.changes import apply
    from glassgate.directory.records import diff

    directory, guard = load_directory(argparse.Namespace(config=args.config, db=None, protect=[]))
    after = apply(directory, plan(directory))
    writes = diff(directory, after)
    print(
        f"would write {len(writes.put_users)} user(s) and {len(writes.put_groups)} group(s)"
        + (f" and replace the rules ({len(after.rules)})" if writes.rules is not None else "")
    )
    for group in guard.protected:
        before, then = directory.active_members(group.name), after.active_members(group.name)
        print(f"protected {group.name} (minimum {group.minimum}): {len(before)} -> {len(then)}")
    shortfalls = guard.shortfalls(directory, after)
    for shortfall in shortfalls:
        print(f"REFUSED: {shortfall.render()}")
    return EXIT_REFUSED if shortfalls else 0


def _find_user(d: Directory, name: str) -> Any:
    user = d.user_named(name) or d.user(name)
    if user is None:
        raise ConfigError([Problem("USER", f"no user called {name[:80]!r}")])
    return user


def run_status(args: argparse.Namespace) -> int:
    from glassgate.adapters.clock import now
    from glassgate.directory.changes import PutUser
    from glassgate.directory.models import UserStatus, stamp
    from glassgate.workflows.directory import Source

    def plan(d: Directory) -> Sequence[Change]:
        user = _find_user(d, args.user)
        return [PutUser(stamp(replace(user, status=UserStatus(args.status)), user, now()))]

    return _change(args.config, plan, Source.CLI, f"setting {args.user} {args.status}")


def run_member(args: argparse.Namespace) -> int:
    from glassgate.adapters.clock import now
    from glassgate.directory.changes import PutGroup
    from glassgate.directory.models import stamp
    from glassgate.workflows.directory import Source

    def plan(d: Directory) -> Sequence[Change]:
        group = d.group_named(args.group) or d.group(args.group)
        if group is None:
            raise ConfigError([Problem("GROUP", f"no group called {args.group[:80]!r}")])
        user = _find_user(d, args.user)
        members = group.members | {user.id} if args.action == "add" else group.members - {user.id}
        return [PutGroup(stamp(replace(group, members=members), group, now()))]

    verb = "adding" if args.action == "add" else "removing"
    return _change(args.config, plan, Source.CLI, f"{verb} {args.user} in group {args.group}")
