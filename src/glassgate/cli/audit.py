"""``glassgate audit verify | export | search``: check, ship and query the audit log.

- ``verify`` walks the whole chain and every signed checkpoint (from the
  database and the checkpoint file, and with ``--anchor FILE|-`` those an
  outside system holds, so a log cut below them is caught). Exit 0 only when
  intact; otherwise it prints the first broken record and the kind of break,
  and exits 1.
- ``export --format jsonl|syslog [--since TIME]`` writes records for a SIEM.
- ``prune --before TIME --export FILE`` removes the oldest records after
  exporting them (``cli.audit_prune``).
- ``rotate-key`` changes the checkpoint signing key on purpose (``cli.audit_keys``).
- ``search`` filters by time, subject, actor, route, outcome and event type;
  a table by default, ``--json`` for machines. A matching record whose
  columns disagree with its hashed body is never shown: exit 1, as ``verify``.

TIME is RFC 3339 (``2026-11-01T08:00:00Z``), a date (``2026-11-01``, UTC), or
an age (``90m``, ``24h``, ``7d``) counted back from now.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from glassgate.audit.chain import ChainReport
from glassgate.audit.checkpoints import Checkpoint
from glassgate.audit.query import AuditQuery
from glassgate.audit.records import AuditRecord, format_ts, parse_ts
from glassgate.cli._storage import add_source_arguments, open_existing_store, resolve_source
from glassgate.errors import ChainBrokenError, ConfigError, Problem
from glassgate.ports import AuditStore

__all__ = ["all_checkpoints", "parse_time", "print_break", "register", "trusted_keys"]

EXIT_BROKEN = 1
EXIT_USAGE = 2
_PAGE = 1000
_ANCHOR_HINT = (
    "give the checkpoints your SIEM, syslog server or webhook receiver kept "
    "(glassgate forwards each one to the audit sinks as it is made)"
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "audit", help="verify, export and search the audit log", description=__doc__
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    _register_verify(verbs)
    _register_export(verbs)
    _register_search(verbs)
    from glassgate.cli.audit_keys import register_rotate_key
    from glassgate.cli.audit_prune import register_prune

    register_prune(verbs)
    register_rotate_key(verbs)


def _register_verify(verbs: Any) -> None:
    verify = verbs.add_parser("verify", help="check the hash chain and signed checkpoints")
    add_source_arguments(verify)
    verify.add_argument(
        "--checkpoints",
        action="append",
        default=[],
        metavar="FILE",
        help="a checkpoint file (repeatable); default: audit.checkpoint.file of --config",
    )
    verify.add_argument(
        "--public-key",
        action="append",
        default=[],
        metavar="FILE",
        help="a trusted checkpoint key, public or private PEM (repeatable, e.g. after rotation); "
        "default: audit.checkpoint.key_file of --config and the retired keys' public halves "
        "beside it",
    )
    verify.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="FILE",
        help="checkpoints an outside system holds (a SIEM or syslog capture, webhook bodies, "
        "a copy of the checkpoint file; '-' reads stdin): a log cut below the newest of them "
        "is reported as truncated (repeatable)",
    )
    verify.set_defaults(handler=run_verify)


def _register_export(verbs: Any) -> None:
    export = verbs.add_parser("export", help="write records as JSON lines or RFC 5424 syslog")
    add_source_arguments(export)
    export.add_argument("--format", choices=("jsonl", "syslog"), default="jsonl")
    export.add_argument("--since", metavar="TIME", help="only records at or after TIME")
    export.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    export.add_argument("--hostname", help="HOSTNAME field of syslog messages (default: this host)")
    export.set_defaults(handler=run_export)


def _register_search(verbs: Any) -> None:
    search = verbs.add_parser("search", help="find records by time, subject, route, ...")
    add_source_arguments(search)
    search.add_argument("--since", metavar="TIME")
    search.add_argument("--until", metavar="TIME")
    for name in ("subject", "actor", "route", "outcome"):
        search.add_argument(f"--{name}")
    search.add_argument("--type", help="event type, or a prefix such as 'breakglass'")
    search.add_argument("--limit", type=int, default=50, help="at most this many (newest first)")
    search.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    search.set_defaults(handler=run_search)


def parse_time(text: str, now: float) -> str:
    """A stored-format timestamp from RFC 3339, a date, or an age such as ``24h``."""
    from glassgate.config._units import parse_duration

    try:
        return format_ts(now - parse_duration(text))
    except ValueError:
        pass
    try:
        return format_ts(parse_ts(text))
    except ValueError:
        raise ConfigError(
            [Problem("TIME", f"cannot read {text!r} as a time", "use 2026-11-01T08:00:00Z or 24h")]
        ) from None


def _now() -> float:
    from glassgate.adapters.clock import now

    return now()


def _trusted_keys(args: argparse.Namespace, source_audit: Any) -> dict[str, Any]:
    from glassgate.adapters.storage.audit.checkpoint_file import retired_public_keys

    paths: list[str] = list(args.public_key)
    if not paths and source_audit is not None:
        key_file = source_audit.checkpoint.key_file
        paths += [key_file, *map(str, retired_public_keys(key_file))]  # rotate-key keeps these
    return trusted_keys(paths)


def trusted_keys(paths: Sequence[str]) -> dict[str, Any]:
    """The checkpoint keys in ``paths`` (public or private PEM), by key id."""
    from glassgate.adapters.storage.audit.checkpoint_file import load_public_key
    from glassgate.audit.checkpoints import key_id

    keys = [load_public_key(path) for path in paths]
    return {key_id(key): key for key in keys}


def _read_anchors(paths: Sequence[str]) -> list[Checkpoint]:
    """The checkpoints in each ``--anchor``; a file holding none is a usage error."""
    from glassgate.audit.anchors import checkpoints_in

    found: list[Checkpoint] = []
    for path in paths:
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(
                [Problem("--anchor", f"cannot read {path}: {exc.strerror}")]
            ) from None
        anchors = checkpoints_in(data, source="stdin" if path == "-" else path)
        if not anchors:
            raise ConfigError(
                [Problem("--anchor", f"{path} holds no glassgate checkpoint", _ANCHOR_HINT)]
            )
        found.extend(anchors)
    return found


def all_checkpoints(
    store: AuditStore, files: Sequence[str], anchors: Sequence[Checkpoint] = ()
) -> list[Checkpoint]:
    """The checkpoints in the database, the checkpoint ``files`` and the ``anchors``, once each."""
    from glassgate.adapters.storage.audit.checkpoint_file import CheckpointFile
    from glassgate.audit.verification import collect_checkpoints

    found = collect_checkpoints([store, *(CheckpointFile(path) for path in files)])
    return sorted({*found, *anchors}, key=lambda item: (item.seq, item.ts))


def run_verify(args: argparse.Namespace) -> int:
    from glassgate.audit.chain import verify
    from glassgate.audit.verification import iter_stored

    source = resolve_source(args)
    files = list(args.checkpoints)
    if not files and source.audit is not None:
        files.append(source.audit.checkpoint.file)
    anchors = _read_anchors(args.anchor)
    store = open_existing_store(source.target)
    try:
        checkpoints = all_checkpoints(store, files, anchors)
        if checkpoints and not args.public_key and source.audit is None:
            print(
                "glassgate: checkpoints exist but no key to check them: pass --public-key FILE "
                "or --config FILE",
                file=sys.stderr,
            )
            return EXIT_USAGE
        keys = _trusted_keys(args, source.audit) if checkpoints else {}
        try:
            report = verify(iter_stored(store), checkpoints, keys)
        except ChainBrokenError as exc:
            print_break(exc, store)
            return EXIT_BROKEN
    finally:
        store.close()
    _print_report(report, files, anchors)
    return 0


def print_break(exc: ChainBrokenError, store: AuditStore | None = None) -> None:
    """What broke and where; with ``store``, also what is stored at that position."""
    print(f"audit log BROKEN at record {exc.index}: {exc.kind}")
    print(f"  {str(exc).split(': ', 1)[-1]}")
    if store is None:
        return
    found = store.scan(max(exc.index - 1, 0), 1) if exc.index > 0 else []
    if found:
        print(f"  stored at that position: {found[0].body.decode('utf-8', 'replace')}")


def _print_report(report: ChainReport, files: Sequence[str], anchors: Sequence[Checkpoint]) -> None:
    head = report.head
    print(
        f"audit log intact: {report.records} record(s), head {head.seq} {head.hash[:16]}, "
        f"{report.checkpoints} signed checkpoint(s) verified"
        + (f", latest at record {report.latest_checkpoint}" if report.latest_checkpoint else "")
    )
    if report.pruned_to is not None:
        print(f"pruned up to record {report.pruned_to} (a signed prune checkpoint says so)")
    if anchors:
        newest = max(anchor.seq for anchor in anchors)
        print(f"anchored: the log reaches the newest outside checkpoint (record {newest})")
    if not report.checkpoints:
        where = ", ".join(files) or "none given"
        print(
            f"warning: no signed checkpoints (files: {where}); a deleted tail cannot be detected",
            file=sys.stderr,
        )
    elif not anchors:
        print(
            "note: without --anchor, records after the newest checkpoint kept outside this "
            "host could have been cut undetected",
            file=sys.stderr,
        )


def _pages(store: AuditStore, since: str | None) -> Iterator[AuditRecord]:
    after = 0
    while True:
        page = store.search(AuditQuery(since=since, after_seq=after, ascending=True, limit=_PAGE))
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1].seq


def run_export(args: argparse.Namespace) -> int:
    from glassgate.audit.export import to_rfc5424

    since = parse_time(args.since, _now()) if args.since else None
    hostname = args.hostname or socket.gethostname()
    store = open_existing_store(resolve_source(args).target)
    try:
        with _output(args.output) as out:
            for record in _pages(store, since):
                if args.format == "jsonl":
                    out.write(record.body + b"\n")
                else:
                    out.write(to_rfc5424(record, hostname=hostname) + b"\n")
    finally:
        store.close()
    return 0


@contextmanager
def _output(path: str | None) -> Iterator[BinaryIO]:
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    from glassgate.adapters.private_files import open_owner_only

    try:
        out = open_owner_only(path)
    except OSError as exc:
        raise ConfigError([Problem("--output", f"cannot write {path}: {exc.strerror}")]) from None
    with out:
        yield out


def run_search(args: argparse.Namespace) -> int:
    now = _now()
    try:
        query = AuditQuery(
            since=parse_time(args.since, now) if args.since else None,
            until=parse_time(args.until, now) if args.until else None,
            subject=args.subject,
            actor=args.actor,
            route=args.route,
            outcome=args.outcome,
            type=args.type,
            limit=args.limit,
        )
    except ValueError as exc:
        raise ConfigError([Problem("--limit", str(exc))]) from None
    store = open_existing_store(resolve_source(args).target)
    try:
        records = store.search(query)
    except ChainBrokenError as exc:  # a record that no longer says what was signed: no result
        print_break(exc)
        print("  run `glassgate audit verify` on this log", file=sys.stderr)
        return EXIT_BROKEN
    finally:
        store.close()
    if args.json:
        print(json.dumps([record.as_dict() | {"hash": record.hash} for record in records]))
    else:
        print(_table(records))
    return 0


_COLUMNS = ("SEQ", "TIME", "TYPE", "OUTCOME", "SUBJECT", "ROUTE", "REASONS")


def _cells(record: AuditRecord) -> tuple[str, ...]:
    return (
        str(record.seq),
        record.ts[:19].replace("T", " "),
        record.type,
        record.outcome,
        record.subject or "-",
        record.route or "-",
        ",".join(record.reasons) or "-",
    )


def _table(records: Sequence[AuditRecord]) -> str:
    if not records:
        return "no matching records"
    rows = [_COLUMNS, *(tuple(cell[:40] for cell in _cells(record)) for record in records)]
    widths = [max(len(row[index]) for row in rows) for index in range(len(_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
