"""A separate writer process for the concurrency and crash tests.

``python -m tests.support.audit_writer --db URL --count N`` appends N records
through the store (random batch sizes, so transactions interleave with other
writers); ``--via-log`` writes through ``AuditLog`` instead (privileged appends
plus queued traffic, checkpoints to ``--checkpoints`` signed with ``--key``),
and ``--count 0`` means until killed. Prints ``ready`` once the first write
is committed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

from glassgate.adapters.storage.audit import open_audit_store
from glassgate.adapters.storage.audit.checkpoint_file import (
    CheckpointFile,
    load_or_create_signing_key,
)
from glassgate.adapters.storage.target import StorageTarget
from glassgate.audit.checkpoints import CheckpointSchedule
from glassgate.audit.records import AuditEvent
from glassgate.audit.service import AuditLog, AuditSettings, CheckpointPlan


def _event(tag: str, index: int, **overrides: object) -> AuditEvent:
    fields: dict[str, object] = {
        "type": "decision",
        "outcome": "allow" if index % 5 else "deny",
        "at": time.time(),
        "subject": f"{tag}-user-{index % 7}",
        "route": f"route-{index % 3}",
        "request_id": f"{tag}-{index}",
        "details": {"writer": tag, "n": index, "padding": "x" * (index % 200)},
    }
    fields.update(overrides)
    return AuditEvent(**fields)  # type: ignore[arg-type]


def _ready() -> None:
    print("ready", flush=True)


def _wait_for(go: str | None) -> None:
    """Start together: print ``open`` and wait for the ``go`` file, so the writers overlap."""
    if go is None:
        return
    print("open", flush=True)
    deadline = time.monotonic() + 30
    while not Path(go).exists():
        if time.monotonic() > deadline:
            raise SystemExit("no go signal")
        time.sleep(0.005)


def write_store(db: str, tag: str, count: int, max_batch: int, go: str | None) -> None:
    store = open_audit_store(StorageTarget.parse(db))
    rng = random.Random(tag)
    written = 0
    try:
        _wait_for(go)
        while count == 0 or written < count:
            size = rng.randint(1, max_batch)
            if count:
                size = min(size, count - written)
            store.append([_event(tag, written + i) for i in range(size)])
            if not written:
                _ready()
            written += size
            time.sleep(0.0005)  # a request gap: lets the other writer take the lock
    finally:
        store.close()


async def write_log(db: str, tag: str, count: int, checkpoints: str, key: str) -> None:
    store = open_audit_store(StorageTarget.parse(db))
    plan = CheckpointPlan(
        load_or_create_signing_key(key),
        CheckpointSchedule(every_records=50, every_seconds=0.2),
        (CheckpointFile(checkpoints), store),
    )
    audit = AuditLog(
        store, clock=time.time, settings=AuditSettings(batch_size=64), checkpoints=plan
    )
    await audit.start()
    index = 0
    while count == 0 or index < count:
        if index % 10 == 0:
            await audit.append(_event(tag, index, type="admin.test", outcome="ok"))
            if index == 0:
                _ready()
        else:
            audit.record(_event(tag, index))
            await asyncio.sleep(0)
        index += 1
    await audit.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--tag", default="w")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--max-batch", type=int, default=8)
    parser.add_argument("--via-log", action="store_true")
    parser.add_argument("--checkpoints", default="checkpoints.jsonl")
    parser.add_argument("--key", default="audit.key")
    parser.add_argument("--go", help="wait for this file to exist before writing")
    args = parser.parse_args(argv)
    if args.via_log:
        asyncio.run(write_log(args.db, args.tag, args.count, args.checkpoints, args.key))
    else:
        write_store(args.db, args.tag, args.count, args.max_batch, args.go)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
