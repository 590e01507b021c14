"""AuditLog: durable and fail-closed for privileged events, queued and never-blocking otherwise."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glassgate.adapters.storage.audit.checkpoint_file import CheckpointFile
from glassgate.adapters.storage.audit.memory import MemoryAuditStore
from glassgate.audit.chain import verify
from glassgate.audit.checkpoints import Checkpoint, CheckpointSchedule, key_id
from glassgate.audit.query import AuditQuery
from glassgate.audit.records import AuditEvent, AuditRecord
from glassgate.audit.service import Admission, AuditLog, AuditSettings, CheckpointPlan
from glassgate.audit.verification import collect_checkpoints, iter_stored
from glassgate.errors import AuditUnavailableError, StorageUnavailableError
from tests.support.audit import T0, event
from tests.support.clock import FrozenClock
from tests.support.polling import eventually_async

KEY = Ed25519PrivateKey.generate()
KEYS = {key_id(KEY.public_key()): KEY.public_key()}


class FlakyStore(MemoryAuditStore):
    """A memory store that can be 'down' or slow, like a database."""

    def __init__(self) -> None:
        super().__init__()
        self.down = threading.Event()
        self.delay = 0.0
        self.calls = 0

    def append(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        self.calls += 1
        time.sleep(self.delay)
        if self.down.is_set():
            raise StorageUnavailableError("sqlite: cannot append audit records: disk I/O error")
        return super().append(events)

    def search_all(self) -> list[AuditRecord]:
        return self.search(AuditQuery(ascending=True, limit=10_000))


class RecordingSink:
    def __init__(self) -> None:
        self.records: list[AuditRecord] = []
        self.checkpoints: list[Checkpoint] = []
        self.started = self.closed = False

    @property
    def dropped(self) -> int:
        return 0

    def offer(self, record: AuditRecord) -> bool:
        self.records.append(record)
        return True

    def offer_checkpoint(self, checkpoint: Checkpoint) -> bool:
        self.checkpoints.append(checkpoint)
        return True

    async def start(self) -> None:
        self.started = True

    async def close(self) -> None:
        self.closed = True


def _run(
    store: FlakyStore,
    body: Callable[[AuditLog], Awaitable[None]],
    **options: object,
) -> AuditLog:
    async def main() -> AuditLog:
        audit = AuditLog(store, clock=lambda: T0, **options)  # type: ignore[arg-type]
        await audit.start()
        try:
            await body(audit)
        finally:
            await audit.close()
        return audit

    return asyncio.run(main())


PRIVILEGED = event(0, type="breakglass.activate", outcome="ok", actor="custodian-1")


def test_privileged_append_is_written_before_it_returns() -> None:
    store = FlakyStore()

    async def body(audit: AuditLog) -> None:
        record = await audit.append(PRIVILEGED)
        assert store.head().seq == record.seq == 1
        assert record.privileged

    _run(store, body)


def test_privileged_append_fails_closed_when_the_store_is_down() -> None:
    store = FlakyStore()
    store.down.set()

    async def body(audit: AuditLog) -> None:
        with pytest.raises(AuditUnavailableError, match="not carried out") as caught:
            await audit.append(PRIVILEGED)
        assert caught.value.code == "audit_unavailable"
        assert "disk I/O" not in str(caught.value)  # detail goes to the log, not the caller
        assert not audit.healthy
        assert audit.counters.refused == 1

    _run(store, body)


def test_privileged_append_fails_closed_on_timeout() -> None:
    store = FlakyStore()
    store.delay = 0.3

    async def body(audit: AuditLog) -> None:
        with pytest.raises(AuditUnavailableError, match="timed out"):
            await audit.append(PRIVILEGED)

    _run(store, body, settings=AuditSettings(write_timeout=0.05))


def test_ordinary_events_are_queued_and_written_in_batches() -> None:
    store = FlakyStore()

    async def body(audit: AuditLog) -> None:
        started = time.perf_counter()
        admissions = [audit.record(event(i)) for i in range(250)]
        assert time.perf_counter() - started < 0.5  # never waits for the store
        assert set(admissions) == {Admission.QUEUED}

    audit = _run(store, body, settings=AuditSettings(batch_size=100))
    assert audit.counters.written == 250
    assert store.calls <= 10  # batched, not one transaction per request
    assert verify(iter_stored(store)).records == 250


def test_submit_picks_the_path_by_privilege() -> None:
    store = FlakyStore()

    async def body(audit: AuditLog) -> None:
        assert await audit.submit(event(0)) is None
        record = await audit.submit(PRIVILEGED)
        assert record is not None
        assert record.type == "breakglass.activate"

    _run(store, body)
    assert store.head().seq == 2


def test_privileged_events_cannot_take_the_lossy_path() -> None:
    async def body(audit: AuditLog) -> None:
        with pytest.raises(ValueError, match=r"await audit\.append"):
            audit.record(PRIVILEGED)
        with pytest.raises(ValueError, match=r"await audit\.append"):
            audit.record(event(0, privileged=True))

    _run(FlakyStore(), body)


def test_sampling_drops_only_allowed_traffic() -> None:
    store = FlakyStore()

    async def body(audit: AuditLog) -> None:
        assert audit.record(event(0)) is Admission.SAMPLED_OUT  # allow
        assert audit.record(event(1)) is Admission.QUEUED  # deny: never sampled

    audit = _run(store, body, settings=AuditSettings(sample_rate=0.5), draw=lambda: 0.9)
    assert audit.counters.sampled_out == 1
    assert [r.outcome for r in store.search_all()] == ["deny"]


def test_full_queue_counts_the_loss_and_keeps_serving(caplog: pytest.LogCaptureFixture) -> None:
    store = FlakyStore()
    store.delay = 0.05

    async def body(audit: AuditLog) -> None:
        admissions = [audit.record(event(i)) for i in range(20)]
        assert admissions.count(Admission.LOST) >= 15
        assert audit.counters.lost == admissions.count(Admission.LOST)

    with caplog.at_level(logging.ERROR, logger="glassgate.audit"):
        _run(store, body, settings=AuditSettings(queue_size=3, batch_size=1))
    assert "being lost" in caplog.text


def test_full_queue_refuses_in_refuse_mode() -> None:
    store = FlakyStore()
    store.delay = 0.05

    async def body(audit: AuditLog) -> None:
        for index in range(3):
            assert audit.record(event(index)) is Admission.QUEUED
        with pytest.raises(AuditUnavailableError, match="refused"):
            audit.record(event(3))
        assert audit.counters.refused == 1

    _run(store, body, settings=AuditSettings(queue_size=3, batch_size=1, on_failure="refuse"))


def test_store_outage_refuses_ordinary_traffic_in_refuse_mode() -> None:
    store = FlakyStore()
    store.down.set()

    async def body(audit: AuditLog) -> None:
        with pytest.raises(AuditUnavailableError):
            await audit.append(PRIVILEGED)
        with pytest.raises(AuditUnavailableError, match="store is unavailable"):
            audit.record(event(1))

    _run(store, body, settings=AuditSettings(on_failure="refuse"))


def test_refuse_mode_serves_again_once_the_store_is_back() -> None:
    store = FlakyStore()
    store.down.set()

    async def body(audit: AuditLog) -> None:
        with pytest.raises(AuditUnavailableError):
            await audit.append(PRIVILEGED)
        with pytest.raises(AuditUnavailableError):
            audit.record(event(1))
        store.down.clear()  # nothing is queued: only the probe can notice
        await eventually_async(lambda: audit.healthy, what="the probe to find the store back")
        assert audit.record(event(1)) is Admission.QUEUED

    policy = AuditSettings(on_failure="refuse", retry_initial=0.01, retry_max=0.02)
    _run(store, body, settings=policy)
    assert store.head().seq == 1


def test_outage_then_recovery_writes_the_held_batch(caplog: pytest.LogCaptureFixture) -> None:
    store = FlakyStore()
    store.down.set()
    degraded: list[str] = []

    async def body(audit: AuditLog) -> None:
        for index in range(5):
            assert audit.record(event(index)) is Admission.QUEUED  # serve mode keeps queueing
        await eventually_async(lambda: not audit.healthy, what="the writer to hit the outage")
        store.down.clear()
        await eventually_async(lambda: audit.counters.written == 5, what="the held batch")
        assert audit.healthy

    policy = AuditSettings(retry_initial=0.01, retry_max=0.02)
    with caplog.at_level(logging.WARNING, logger="glassgate.audit"):
        audit = _run(store, body, settings=policy, on_degraded=degraded.append)
    assert audit.counters.written == 5
    assert audit.counters.lost == 0
    assert degraded
    assert "writable again" in caplog.text


def test_close_with_the_store_down_counts_what_could_not_be_written() -> None:
    store = FlakyStore()
    store.down.set()

    async def body(audit: AuditLog) -> None:
        for index in range(3):
            audit.record(event(index))

    audit = _run(store, body, settings=AuditSettings(retry_initial=0.01, write_timeout=0.5))
    assert audit.counters.lost == 3
    assert audit.record(event(9)) is Admission.LOST  # after close


def test_checkpoints_every_n_records_and_on_close(tmp_path: Path) -> None:
    store = FlakyStore()
    file = CheckpointFile(tmp_path / "checkpoints.jsonl")
    sink = RecordingSink()
    plan = CheckpointPlan(
        KEY, CheckpointSchedule(every_records=10, every_seconds=3600), (file, store)
    )

    async def body(audit: AuditLog) -> None:
        for index in range(25):
            await audit.append(event(index, type="admin.test", outcome="ok"))

    audit = _run(store, body, checkpoints=plan, sinks=[sink])
    seqs = [checkpoint.seq for checkpoint in file.checkpoints()]
    assert seqs == [10, 20, 25]  # every 10 records, and the tail on close
    assert [c.seq for c in store.checkpoints()] == seqs
    assert [c.seq for c in sink.checkpoints] == seqs
    assert len(sink.records) == 25
    assert sink.started
    assert sink.closed
    assert audit.counters.checkpoints == 3
    report = verify(iter_stored(store), collect_checkpoints([store, file]), KEYS)
    assert report.latest_checkpoint == 25


def test_checkpoints_every_t_seconds() -> None:
    store = FlakyStore()
    clock = FrozenClock(T0)
    plan = CheckpointPlan(KEY, CheckpointSchedule(every_records=1000, every_seconds=0.2), (store,))

    async def main() -> None:
        audit = AuditLog(store, clock=clock, checkpoints=plan)
        await audit.start()
        await audit.append(PRIVILEGED)
        assert store.checkpoints() == []
        clock.advance(1.0)
        await eventually_async(lambda: bool(store.checkpoints()), what="the timed checkpoint")
        assert [c.seq for c in store.checkpoints()] == [1]
        await audit.close()

    asyncio.run(main())


def test_checkpoint_file_failure_is_counted_not_fatal(tmp_path: Path) -> None:
    store = FlakyStore()
    broken = CheckpointFile(tmp_path / "missing-dir" / "checkpoints.jsonl")
    plan = CheckpointPlan(
        KEY, CheckpointSchedule(every_records=1, every_seconds=60), (broken, store)
    )

    async def body(audit: AuditLog) -> None:
        await audit.append(PRIVILEGED)

    audit = _run(store, body, checkpoints=plan)
    assert audit.counters.checkpoint_failures == 1
    assert [c.seq for c in store.checkpoints()] == [1]  # the other log still got it


def test_a_bug_in_the_store_does_not_stop_the_writer(caplog: pytest.LogCaptureFixture) -> None:
    class BuggyStore(FlakyStore):
        def append(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
            if events[0].request_id == "req-0":
                raise RuntimeError("boom")
            return super().append(events)

    store = BuggyStore()

    async def body(audit: AuditLog) -> None:
        audit.record(event(0))
        await eventually_async(lambda: audit.counters.lost == 1, what="the failed batch")
        audit.record(event(1))

    with caplog.at_level(logging.ERROR, logger="glassgate.audit"):
        audit = _run(store, body, settings=AuditSettings(batch_size=1))
    assert audit.counters.lost == 1
    assert audit.counters.written == 1
    assert "batch writer failed" in caplog.text
