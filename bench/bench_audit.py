"""Audit append throughput on SQLite and PostgreSQL (records per second), and hot-path cost.

    .venv/bin/python bench/bench_audit.py [--privileged 500] [--ordinary 20000]

Measures, per backend, through the real ``AuditLog``:

- privileged: ``await append(event)`` one by one; each returns only after its
  own durable commit (SQLite ``synchronous=FULL``; PostgreSQL with fsync and
  ``synchronous_commit`` on, like production);
- ordinary: ``record(event)`` for every request, written by the background
  batch writer; timed from the first call until the queue is drained;
- request-path cost: building the ``AuditEvent`` (validation, secret screening)
  and ``record()`` (sampling + enqueue), in microseconds per request.

PostgreSQL is a throwaway server started here (needs the binaries; see
RECIPES.md section 7). Numbers depend heavily on the disk's fsync latency.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.postgres import ThrowawayPostgres, find_postgres_bindir  # noqa: E402

from glassgate.adapters.storage.audit import open_audit_store  # noqa: E402
from glassgate.adapters.storage.target import StorageTarget  # noqa: E402
from glassgate.audit.records import AuditEvent  # noqa: E402
from glassgate.audit.service import AuditLog, AuditSettings  # noqa: E402


def _event(index: int, *, privileged: bool) -> AuditEvent:
    return AuditEvent(
        type="admin.bench" if privileged else "decision",
        outcome="ok" if privileged else ("deny" if index % 10 == 0 else "allow"),
        at=time.time(),
        subject=f"user-{index % 1000}@example.com",
        route=f"route-{index % 20}",
        reasons=("groups-ok", "auth-strength-ok"),
        token_hash="ab" * 32,
        jti=f"jti-{index}",
        request_id=f"req-{index:012d}",
        details={"method": "GET", "path": f"/api/v1/items/{index}", "status": 200},
    )


async def _privileged(target: StorageTarget, count: int) -> float:
    audit = AuditLog(open_audit_store(target), clock=time.time)
    await audit.start()
    started = time.perf_counter()
    for index in range(count):
        await audit.append(_event(index, privileged=True))
    elapsed = time.perf_counter() - started
    await audit.close()
    return count / elapsed


async def _ordinary(target: StorageTarget, count: int) -> tuple[float, float, float]:
    policy = AuditSettings(queue_size=count + 1, batch_size=500)
    audit = AuditLog(open_audit_store(target), clock=time.time, settings=policy)
    await audit.start()
    built = time.perf_counter()
    events = [_event(index, privileged=False) for index in range(count)]
    build = (time.perf_counter() - built) / count * 1e6
    started = time.perf_counter()
    for event in events:
        audit.record(event)
    enqueued = time.perf_counter() - started
    while audit.counters.written < count:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    await audit.close()
    assert audit.counters.lost == 0
    return count / elapsed, build, enqueued / count * 1e6


def _measure(name: str, target: StorageTarget, args: argparse.Namespace) -> list[str]:
    privileged = asyncio.run(_privileged(target, args.privileged))
    ordinary, build, cost = asyncio.run(_ordinary(target, args.ordinary))
    return [name, f"{privileged:,.0f}", f"{ordinary:,.0f}", f"{build:.1f}", f"{cost:.1f}"]


def _table(rows: list[list[str]]) -> str:
    header = ["backend", "privileged rec/s", "ordinary rec/s", "AuditEvent() µs", "record() µs"]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    rule = "  ".join("-" * w for w in widths)
    return "\n".join(
        ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)), rule, *lines]
    )


def _with_postgres(run: Callable[[StorageTarget], list[str]]) -> list[str] | None:
    bindir = find_postgres_bindir()
    if bindir is None:
        print("PostgreSQL binaries not found: skipping PostgreSQL", file=sys.stderr)
        return None
    with ThrowawayPostgres(bindir, durable=True) as server:
        return run(StorageTarget("postgres", server.create_database()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--privileged", type=int, default=500, help="durable appends to time")
    parser.add_argument("--ordinary", type=int, default=20_000, help="queued records to time")
    parser.add_argument("--dir", default=".", help="where the SQLite file goes (a real disk)")
    args = parser.parse_args()
    rows: list[list[str]] = []
    workdir = Path(tempfile.mkdtemp(prefix="glassgate-bench-", dir=args.dir))
    try:
        rows.append(_measure("sqlite", StorageTarget("sqlite", str(workdir / "audit.db")), args))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    postgres = _with_postgres(lambda target: _measure("postgres", target, args))
    if postgres is not None:
        rows.append(postgres)
    print(_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
