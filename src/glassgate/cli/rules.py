"""``glassgate rules simulate | apply | show``: group rules, simulation first (SPEC C6).

- ``simulate --rules NEW.yaml`` shows, before anything changes, who gains and
  who loses which group and what each protected group's active membership
  becomes: a table, ``--json``, or ``--csv FILE`` (one row per change, for
  large directories). The directory is the gateway's (``--config`` or
  ``--db``), or an export (``--from``: glassgate JSON, CSV, an Okta export).
  Exit 0 if ``apply`` would pass the lockout guard, 1 if it would be refused.
- ``apply --rules NEW.yaml --config FILE`` replaces the rules only if the
  lockout guard passes, writing the privileged audit record
  (``admin.rules.apply``) before the change. A refusal is audited, alerted
  and exits 1; nothing changes.
- ``show`` prints the current rules as a rules file.

Protected groups come from ``directory.protected_groups`` in ``--config``;
with ``--db`` or ``--from``, give them with ``--protect "Admins>=2"``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glassgate.errors import ConfigError, Problem

if TYPE_CHECKING:
    from glassgate.directory.guard import LockoutGuard
    from glassgate.directory.rules import RuleSet
    from glassgate.directory.state import Directory

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "rules", help="simulate and apply group rules", description=__doc__
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    simulate = verbs.add_parser("simulate", help="who would gain and lose which group")
    simulate.add_argument("--rules", required=True, type=Path, metavar="FILE", help="new rules")
    add_directory_source(simulate, allow_export=True)
    output = simulate.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="the simulation as JSON")
    output.add_argument("--csv", type=Path, metavar="FILE", help="every change as CSV in FILE")
    simulate.set_defaults(handler=run_simulate)
    apply = verbs.add_parser("apply", help="replace the rules if the lockout guard allows it")
    apply.add_argument("--rules", required=True, type=Path, metavar="FILE", help="new rules")
    apply.add_argument("--config", required=True, metavar="FILE", help="the gateway config")
    apply.set_defaults(handler=run_apply)
    show = verbs.add_parser("show", help="the current rules, as a rules file")
    add_directory_source(show, allow_export=False)
    show.set_defaults(handler=run_show)


def add_directory_source(parser: argparse.ArgumentParser, *, allow_export: bool) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--config", metavar="FILE", help="the gateway's YAML configuration file")
    group.add_argument(
        "--db", metavar="URL", help="the database: sqlite:///path.db or postgresql://..."
    )
    if allow_export:
        group.add_argument(
            "--from", dest="source", type=Path, metavar="PATH", help="an export instead"
        )
        parser.add_argument("--format", choices=("json", "csv", "okta"), help="of --from")
    parser.add_argument(
        "--protect",
        action="append",
        default=[],
        metavar="GROUP>=N",
        help="a protected group, with --db or --from (repeatable)",
    )


def load_directory(args: argparse.Namespace) -> tuple[Directory, LockoutGuard]:
    """The directory and the guard a reading command works with."""
    from glassgate.app.directory import guard_of
    from glassgate.cli._storage import open_existing_directory_store
    from glassgate.config.load import load_config
    from glassgate.directory.changes import build
    from glassgate.directory.rules import RuleSet

    guard = _protect(args.protect)
    if getattr(args, "source", None) is not None:
        return _from_export(args.source, args.format), guard
    if args.config is not None:
        config = load_config(args.config).config
        target = _target(config=config)
        guard = guard_of(config) if not args.protect else guard
    else:
        target = _target(db=args.db)
    store = open_existing_directory_store(target)
    try:
        stored = store.load()
    finally:
        store.close()
    return build(stored.users, stored.groups, RuleSet.compile(stored.rules)), guard


def _target(config: Any = None, db: str | None = None) -> Any:
    from glassgate.adapters.storage.target import StorageTarget

    if config is not None:
        return StorageTarget.from_config(config.storage)
    try:
        return StorageTarget.parse(db or "")
    except ValueError as exc:
        raise ConfigError([Problem("--db", str(exc))]) from None


def _from_export(path: Path, fmt: str | None) -> Directory:
    import itertools

    from glassgate.cli._directory import read_batch
    from glassgate.directory.changes import apply
    from glassgate.directory.formats.batch import to_changes
    from glassgate.directory.state import Directory

    batch = read_batch(path, fmt)
    for item in batch.untranslated:
        print(f"note: rule {item.rule} left out: {item.reason}", file=sys.stderr)
    ids = itertools.count(1)
    empty = Directory.empty()
    return apply(empty, to_changes(batch, empty, lambda: f"export-{next(ids)}", 0.0))


def _protect(items: list[str]) -> LockoutGuard:
    from glassgate.directory.guard import LockoutGuard, ProtectedGroup

    try:
        return LockoutGuard(ProtectedGroup.parse(item) for item in items)
    except ValueError as exc:
        raise ConfigError([Problem("--protect", str(exc))]) from None


def _rules(path: Path) -> RuleSet:
    from glassgate.directory.formats.rules_file import load_rules

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), f"cannot be read: {exc}")]) from None
    return load_rules(text, str(path))


def run_simulate(args: argparse.Namespace) -> int:
    from glassgate.directory.report import simulation_csv, simulation_json, simulation_table
    from glassgate.directory.simulate import simulate

    rules = _rules(args.rules)
    directory, guard = load_directory(args)
    sim = simulate(directory, rules, guard)
    if args.json:
        sys.stdout.write(simulation_json(sim))
    else:
        sys.stdout.write(simulation_table(sim))
    if args.csv is not None:
        args.csv.write_text(simulation_csv(sim), encoding="utf-8")
        print(f"{len(sim.changes)} change(s) written to {args.csv}", file=sys.stderr)
    return 0 if sim.allowed else 1  # what `apply` would do: 1 = refused


def run_apply(args: argparse.Namespace) -> int:
    from glassgate.cli._directory import EXIT_REFUSED, guarded_change
    from glassgate.directory.changes import ReplaceRules
    from glassgate.workflows.directory import Source

    rules = _rules(args.rules)
    action = f"rules apply {args.rules.name}"
    outcome = guarded_change(args.config, lambda d: [ReplaceRules(rules)], Source.RULES, action)
    if outcome is None:
        return EXIT_REFUSED
    print(f"applied {len(rules)} rule(s) from {args.rules}")
    for rule_id, count in sorted(outcome.errors.counts.items()):
        print(f"warning: rule {rule_id} could not be evaluated for {count} user(s)")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from glassgate.directory.formats.rules_file import dump_rules

    directory, _ = load_directory(args)
    sys.stdout.write(dump_rules(directory.rules.rules))
    return 0
