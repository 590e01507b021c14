"""``glassgate audit prune --config FILE --before TIME --export FILE``: retention.

The oldest records written before TIME are removed, and the chain stays
verifiable. In order, each step only if the one before it worked:

1. the whole log is verified (a broken log is never pruned: exit 1);
2. the records to remove are exported, as JSON lines, to a new file (0600,
   never overwriting one), flushed to disk; its SHA-256 is taken;
3. a privileged ``audit.prune`` record says who removed what;
4. a prune checkpoint, signed with the checkpoint key, records the range, the
   hash of the last record removed and the export's digest; it is kept in the
   checkpoint file and the database and offered to the sinks;
5. the records are deleted, in one transaction.

``audit verify`` then reports "pruned up to record N". The newest record is
always kept. The export verifies on its own: each line is a record's
canonical bytes, the last line hashes to the checkpoint's head.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from glassgate.cli._storage import command_actor
from glassgate.cli.audit import all_checkpoints, parse_time, print_break, trusted_keys
from glassgate.errors import ChainBrokenError, ConfigError, Problem

if TYPE_CHECKING:
    from glassgate.audit.retention import PrunePlan
    from glassgate.config.schema import Config
    from glassgate.ports import AuditStore

__all__ = ["register_prune", "run_prune"]

EXIT_BROKEN = 1


def register_prune(verbs: Any) -> None:
    prune: argparse.ArgumentParser = verbs.add_parser(
        "prune",
        help="remove the oldest records, after exporting them, keeping the chain verifiable",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    prune.add_argument("--config", required=True, metavar="FILE", help="the gateway's config")
    prune.add_argument("--before", required=True, metavar="TIME", help="remove records before")
    prune.add_argument(
        "--export", required=True, metavar="FILE", help="a new file for the removed records"
    )
    prune.set_defaults(handler=run_prune)


def run_prune(args: argparse.Namespace) -> int:
    from glassgate.adapters.clock import now
    from glassgate.adapters.storage.target import StorageTarget
    from glassgate.cli._storage import open_existing_store
    from glassgate.config.load import load_config

    config = load_config(args.config).config
    before = parse_time(args.before, now())
    store = open_existing_store(StorageTarget.from_config(config.storage))
    try:
        plan = _plan(store, config, before)
        if plan is None:
            print(f"nothing to prune: no record before {before} but the newest")
            return 0
        digest = _export(store, plan, args.export)
    except ChainBrokenError as exc:
        print_break(exc, store)
        print("  a broken log is never pruned: it is the evidence", flush=True)
        return EXIT_BROKEN
    finally:
        store.close()
    asyncio.run(_prune(config, plan, digest))
    print(
        f"pruned records {plan.first}..{plan.last} ({plan.count}) written before {before}; "
        f"exported to {args.export} (sha256 {digest}); `audit verify` now reports "
        f"'pruned up to record {plan.last}'"
    )
    return 0


def _plan(store: AuditStore, config: Config, before: str) -> PrunePlan | None:
    """Verify the whole log (raises ``ChainBrokenError``), then choose what goes."""
    from glassgate.audit.chain import verify
    from glassgate.audit.records import parse_record
    from glassgate.audit.retention import plan_prune
    from glassgate.audit.verification import iter_stored

    settings = config.audit.checkpoint
    checkpoints = all_checkpoints(store, [settings.file])
    report = verify(iter_stored(store), checkpoints, trusted_keys([settings.key_file]))
    records = (parse_record(item.body) for item in iter_stored(store))
    return plan_prune(records, before, report.head.seq)


def _records(store: AuditStore, plan: PrunePlan) -> Iterator[bytes]:
    from glassgate.audit.verification import iter_stored

    for item in iter_stored(store):
        if item.row is not None and item.row > plan.last:
            return
        yield item.body


def _export(store: AuditStore, plan: PrunePlan, path: str) -> str:
    """Write the records to go to a new file, on disk before anything else; its SHA-256."""
    from glassgate.adapters.private_files import open_owner_only

    digest = hashlib.sha256()
    try:
        out = open_owner_only(path, exclusive=True)
    except FileExistsError:
        hint = "name a new file: an archive is never overwritten"
        raise ConfigError([Problem("--export", f"{path} exists", hint)]) from None
    except OSError as exc:
        raise ConfigError([Problem("--export", f"cannot write {path}: {exc.strerror}")]) from None
    try:
        with out:
            for body in _records(store, plan):
                line = body + b"\n"
                out.write(line)
                digest.update(line)
            out.flush()
            os.fsync(out.fileno())
    except BaseException as exc:
        os.unlink(path)  # half an export is no archive; nothing was removed
        if isinstance(exc, OSError):
            problem = Problem("--export", f"cannot write {path}: {exc.strerror}")
            raise ConfigError([problem]) from None
        raise
    return digest.hexdigest()


async def _prune(config: Config, plan: PrunePlan, digest: str) -> None:
    from glassgate.app.compose import open_audit_log

    audit = open_audit_log(config.storage, config.audit)
    await audit.start()
    try:
        await audit.prune(plan, export_sha256=digest, actor=command_actor())
    finally:
        await audit.close()
