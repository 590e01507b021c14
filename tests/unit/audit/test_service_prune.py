"""AuditLog.prune: recorded first, signed and kept outside, then removed (issue 11 audit 4)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glassgate.adapters.storage.audit.checkpoint_file import CheckpointFile
from glassgate.audit.chain import verify
from glassgate.audit.checkpoints import CheckpointSchedule, key_id
from glassgate.audit.records import format_ts, parse_record
from glassgate.audit.retention import PrunePlan, plan_prune
from glassgate.audit.service import AuditLog, CheckpointPlan
from glassgate.audit.verification import collect_checkpoints, iter_stored
from glassgate.errors import AuditUnavailableError, StorageUnavailableError
from tests.support.audit import T0, event
from tests.unit.audit.test_service import FlakyStore, RecordingSink

KEY = Ed25519PrivateKey.generate()
KEYS = {key_id(KEY.public_key()): KEY.public_key()}
DIGEST = "ab" * 32


def _plan(path: Path, store: FlakyStore) -> CheckpointPlan:
    return CheckpointPlan(KEY, CheckpointSchedule(1000, 3600.0), (CheckpointFile(path), store))


def _prune(
    store: FlakyStore, checkpoint_plan: CheckpointPlan | None, sink: RecordingSink | None = None
) -> PrunePlan:
    async def main() -> PrunePlan:
        audit = AuditLog(
            store, clock=lambda: T0 + 100, checkpoints=checkpoint_plan, sinks=[sink] if sink else []
        )
        await audit.start()
        try:
            for i in range(6):
                await audit.append(event(i, type="config.reload", outcome="ok"))
            records = [parse_record(item.body) for item in store.scan()]
            plan = plan_prune(records, format_ts(T0 + 3), store.head().seq)
            assert plan is not None
            await audit.prune(plan, export_sha256=DIGEST, actor="cli:ops")
            return plan
        finally:
            await audit.close()

    return asyncio.run(main())


def test_prune_records_itself_then_signs_keeps_and_removes(tmp_path: Path) -> None:
    store, sink = FlakyStore(), RecordingSink()
    plan = _prune(store, _plan(tmp_path / "c.jsonl", store), sink)
    assert (plan.first, plan.last) == (1, 3)
    kept = [parse_record(item.body) for item in store.scan()]
    assert [r.seq for r in kept] == [4, 5, 6, 7]
    assert kept[-1].type == "audit.prune"  # written before the removal
    assert kept[-1].details["pruned_to"] == 3
    [prune] = [c for c in CheckpointFile(tmp_path / "c.jsonl").checkpoints() if c.is_prune]
    assert (prune.seq, prune.pruned_from, prune.export_sha256) == (3, 1, DIGEST)
    assert prune in store.checkpoints()
    assert prune in sink.checkpoints
    checkpoints = collect_checkpoints([store, CheckpointFile(tmp_path / "c.jsonl")])
    assert verify(iter_stored(store), checkpoints, KEYS).pruned_to == 3


def test_nothing_is_removed_when_the_record_cannot_be_written(tmp_path: Path) -> None:
    store = FlakyStore()

    async def main() -> None:
        audit = AuditLog(store, clock=lambda: T0, checkpoints=_plan(tmp_path / "c.jsonl", store))
        await audit.start()
        try:
            await audit.append(event(0, type="config.reload", outcome="ok"))
            await audit.append(event(1, type="config.reload", outcome="ok"))
            store.down.set()
            with pytest.raises(AuditUnavailableError):
                await audit.prune(PrunePlan(1, 1, "x", "t"), export_sha256=DIGEST, actor="a")
            store.down.clear()
        finally:
            await audit.close()

    asyncio.run(main())
    assert len(store.scan()) == 2
    assert not any(c.is_prune for c in store.checkpoints())


def test_nothing_is_removed_when_the_checkpoint_cannot_be_kept(tmp_path: Path) -> None:
    store = FlakyStore()
    with pytest.raises(StorageUnavailableError, match="checkpoint file"):
        _prune(store, _plan(tmp_path / "missing" / "c.jsonl", store))
    assert len(store.scan()) == 7  # six records and the audit.prune record: nothing removed
    # The database may have kept the prune checkpoint: with the records still there it is
    # one more signed statement about record 3, and the log verifies.
    assert verify(iter_stored(store), store.checkpoints(), KEYS).pruned_to is None


def test_prune_needs_the_checkpoint_key() -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        _prune(FlakyStore(), None)
