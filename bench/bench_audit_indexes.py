"""What each audit search index costs the writer, per record, on SQLite.

    .venv/bin/python bench/bench_audit_indexes.py [--records 100000] [--batch 50 500]
        [--subjects 1000] [--rounds 3]

Creates the shipped schema (``open_audit_store``: every migration) in a
temporary file, then inserts ordinary decision rows in batches, one
transaction each, as the audit writer does (WAL, ``synchronous=NORMAL``), and
reports the writer thread's CPU per record for:

- ``shipped``: the schema as migrated (indexes on ts, subject, route and the
  partial index on the type of privileged records);
- ``full type index``: as before revision 0007 (every record in the type index);
- ``no subject index``: the shipped schema without ``ix_audit_records_subject``.

Only the SQL is timed: the rows are built before the clock starts, so the
figures isolate the database's work (pages touched, WAL frames, checkpoints)
from building records. Subjects cycle through ``--subjects`` distinct names,
the way a token pool spreads requests; a few privileged rows are written
first so that decisions do not land at the right edge of the type index.
The best of ``--rounds`` is kept per variant; rounds alternate the variants.
"""

from __future__ import annotations

import argparse
import secrets
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from glassgate.adapters.storage.audit import open_audit_store  # noqa: E402
from glassgate.adapters.storage.target import StorageTarget  # noqa: E402

_INSERT = (
    "INSERT INTO audit_records (seq, ts, type, outcome, subject, actor, route, request_id, "
    "hash, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_VARIANTS: dict[str, tuple[str, ...]] = {
    "shipped": (),
    "full type index": (
        "DROP INDEX ix_audit_records_privileged_type",
        "CREATE INDEX ix_audit_records_type ON audit_records (type)",
    ),
    "no subject index": ("DROP INDEX ix_audit_records_subject",),
}
Row = tuple[int, str, str, str, str, None, str, str, str, bytes]


def _rows(first: int, count: int, kind: str, subjects: int) -> list[Row]:
    return [
        (
            seq,
            f"2026-12-06T12:00:00.{seq % 1_000_000:06d}Z",
            kind,
            "allow",
            f"user-{seq * 7919 % subjects}@example.com",
            None,
            f"route-{seq % 2}",
            secrets.token_hex(16),
            secrets.token_hex(32),
            b"x" * 600,
        )
        for seq in range(first, first + count)
    ]


def cpu_per_record(variant: str, records: int, batch: int, subjects: int) -> float:
    """Writer-thread CPU µs per record for ``records`` inserts in batches of ``batch``."""
    with tempfile.TemporaryDirectory(prefix="gg-idx-") as workdir:
        path = str(Path(workdir) / "audit.db")
        open_audit_store(StorageTarget("sqlite", path)).close()
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=NORMAL")  # ordinary records, as the store sets it
            for statement in _VARIANTS[variant]:
                conn.execute(statement)
            conn.executemany(_INSERT, _rows(1, 5, "grant.issue", subjects))
            batches = [
                _rows(6 + start, batch, "decision", subjects) for start in range(0, records, batch)
            ]
            cpu = time.thread_time_ns()
            for rows in batches:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(_INSERT, rows)
                conn.execute("COMMIT")
            spent = time.thread_time_ns() - cpu
        finally:
            conn.close()
    return spent / (len(batches) * batch) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.records} records, {args.subjects} subjects; writer CPU µs per record (best)")
    print(f"{'variant':<18}" + "".join(f"{'batch ' + str(b):>12}" for b in args.batch))
    best: dict[tuple[str, int], float] = {}
    for _ in range(args.rounds):
        for variant in _VARIANTS:
            for batch in args.batch:
                cost = cpu_per_record(variant, args.records, batch, args.subjects)
                key = (variant, batch)
                best[key] = min(best.get(key, cost), cost)
    for variant in _VARIANTS:
        print(f"{variant:<18}" + "".join(f"{best[(variant, b)]:>12.1f}" for b in args.batch))


if __name__ == "__main__":
    main()
