"""AuditLog: the one object the gateway writes audit records through (SPEC C8).

Two paths, chosen by the event:

- **Privileged** (every non-``decision`` event, and decisions made with
  elevated access): ``await append(event)`` returns only once the record is
  committed. If it cannot be written within ``write_timeout`` it raises
  ``AuditUnavailableError`` and the caller must not carry out the action
  (fail closed). If the write lands after the timeout the log over-reports an
  action that was refused, never the reverse.
- **Ordinary traffic**: ``record(event)`` samples allowed decisions, puts the
  event on a bounded queue and returns at once; a background task writes
  batches. It never blocks the request path. When the queue is full or the
  store is down, ``on_failure="serve"`` keeps serving and counts the loss in
  ``counters.lost`` (and logs an alert once), ``"refuse"`` raises
  ``AuditUnavailableError`` so the gate can answer 503.

``submit(event)`` picks the path. Every store call runs through the log's
``StoreRunner`` (one worker thread): a slow disk never stalls the event loop
and a cancelled task never cuts a transaction in half. After writes, records go to the sinks and a
signed checkpoint is written when due (every N records or T seconds, and on
``close``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TypeVar

from glassgate.audit.chain import ChainHead
from glassgate.audit.checkpoint_writer import CheckpointWriter
from glassgate.audit.checkpoints import Checkpoint
from glassgate.audit.events import PendingDecision, build_decision
from glassgate.audit.records import AuditEvent, AuditRecord
from glassgate.audit.retention import PrunePlan, prune_event
from glassgate.audit.sampling import sample
from glassgate.audit.settings import AuditSettings, CheckpointPlan
from glassgate.errors import AuditUnavailableError, StorageUnavailableError
from glassgate.ports import AuditSink, AuditStore
from glassgate.store_runner import StoreRunner
from glassgate.types import Clock

__all__ = ["Admission", "AuditCounters", "AuditLog", "AuditSettings", "CheckpointPlan"]

_LINGER = 0.02  # seconds an ordinary record may wait to share a transaction
# An ordinary record waiting in the queue: an event, or a decision's typed fields that the
# writer builds into one (``record_decision``).
_Queued = AuditEvent | PendingDecision

_log = logging.getLogger("glassgate.audit")
_T = TypeVar("_T")


class Admission(StrEnum):
    """What ``record`` did with an ordinary event."""

    QUEUED = "queued"
    SAMPLED_OUT = "sampled-out"
    LOST = "lost"


@dataclass(slots=True)
class AuditCounters:
    """Plain counters for metrics; only ever increased."""

    written: int = 0
    lost: int = 0
    sampled_out: int = 0
    refused: int = 0
    checkpoints: int = 0
    checkpoint_failures: int = 0
    minimal: int = 0


class AuditLog:
    """The gateway's audit log. Create once, ``await start()``, ``await close()`` on shutdown.

    Per request: ``await audit.submit(event)`` (or ``audit.record(event)`` when
    the event is known to be ordinary). For a privileged action:
    ``await audit.append(event)`` *before* carrying it out, and let
    ``AuditUnavailableError`` stop it. ``record`` must be called from the
    event loop's thread.
    """

    def __init__(
        self,
        store: AuditStore,
        *,
        clock: Clock,
        settings: AuditSettings | None = None,
        checkpoints: CheckpointPlan | None = None,
        sinks: Sequence[AuditSink] = (),
        draw: Callable[[], float] = random.random,
        on_degraded: Callable[[str], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings or AuditSettings()
        self._sinks = tuple(sinks)
        self._draw = draw
        self._on_degraded = on_degraded
        self.counters = AuditCounters()
        self._queue: asyncio.Queue[_Queued | None] = asyncio.Queue(self._settings.queue_size)
        self._runner = StoreRunner("audit")
        self._tasks: list[asyncio.Task[None]] = []
        self._probe: asyncio.Task[None] | None = None
        self._inflight = 0
        self._healthy = True
        self._loss_reported = False
        self._closing = False
        self._checkpoint_writer = (
            None
            if checkpoints is None
            else CheckpointWriter(checkpoints, clock=clock, run=self._call, sinks=self._sinks)
        )

    @property
    def healthy(self) -> bool:
        """False while the store refuses writes (until the next successful write)."""
        return self._healthy

    async def start(self) -> None:
        """Start the batch writer, the checkpoint timer and the sinks."""
        if self._tasks:
            return
        for sink in self._sinks:
            await sink.start()
        self._tasks.append(asyncio.create_task(self._write_loop(), name="glassgate-audit-writer"))
        if self._checkpoint_writer is not None:
            ticker = self._checkpoint_writer.tick(self._count_checkpoint)
            self._tasks.append(asyncio.create_task(ticker, name="glassgate-audit-ticker"))

    async def submit(self, event: AuditEvent) -> AuditRecord | None:
        """Durable ``append`` for privileged events, queued ``record`` for the rest."""
        if event.is_privileged:
            return await self.append(event)
        self.record(event)
        return None

    async def append(self, event: AuditEvent) -> AuditRecord:
        """Write ``event`` durably before returning; ``AuditUnavailableError`` if impossible."""
        try:
            records = await asyncio.wait_for(
                self._call(self._store.append, [event]), self._settings.write_timeout
            )
        except (StorageUnavailableError, TimeoutError) as exc:
            why = "timed out" if isinstance(exc, TimeoutError) else "storage unavailable"
            self._set_healthy(False, f"durable write failed: {why}")
            self.counters.refused += 1
            raise AuditUnavailableError(
                f"the audit record for '{event.type}' could not be written ({why}), so the "
                "action was not carried out; check the audit database and retry"
            ) from exc
        self._set_healthy(True)
        await self._after_write(records)
        return records[0]

    async def prune(self, plan: PrunePlan, *, export_sha256: str, actor: str) -> Checkpoint:
        """Remove records ``plan.first``..``plan.last`` (``audit prune``), fail-closed at each step.

        First the privileged ``audit.prune`` record (nothing happens if it
        cannot be written), then the signed prune checkpoint, kept in every
        checkpoint log and offered to the sinks (nothing is removed if a log
        refuses it), then the removal itself, in one store transaction.
        """
        if self._checkpoint_writer is None:
            raise ValueError("pruning needs the audit checkpoint key (audit.checkpoint.key_file)")
        await self.append(prune_event(plan, export_sha256, actor, self._clock()))
        checkpoint = await self._checkpoint_writer.keep_prune(plan, export_sha256)
        await self._call(self._store.prune, checkpoint)
        return checkpoint

    def keeps_allowed_decision(self) -> bool:
        """Draw the sample for an allowed, unprivileged decision *before* its event exists.

        A request that sampling drops then costs no event at all (building and
        screening one is the expensive part); pass ``drawn=True`` to ``record``
        for the ones kept, so they are not drawn twice.
        """
        rate = self._settings.sample_rate
        if rate >= 1.0 or self._draw() < rate:
            return True
        self.counters.sampled_out += 1
        return False

    @property
    def sample_rate(self) -> float:
        """The rate an allowed decision kept by ``keeps_allowed_decision`` is recorded at."""
        return min(self._settings.sample_rate, 1.0)

    def record_decision(self, pending: PendingDecision) -> Admission:
        """Queue an ordinary decision as typed fields; the writer builds its event.

        The request side pays for one tuple and one queue slot: the event, its
        cleaning and its canonical bytes are made by the writer, in the store's
        thread (``build_decision``). Sampling was decided before
        (``keeps_allowed_decision``); the rest is as ``record``.
        """
        return self._admit(pending)

    def count_minimal(self) -> None:
        """A decision's full event could not be built; its minimal record stands in for it."""
        self.counters.minimal += 1
        if self.counters.minimal == 1:
            _log.warning(
                "an audit event could not be built from the request and was recorded with "
                "typed fields only (details.minimal); counted in glassgate_audit_records"
                '{fate="minimal"}'
            )

    def record(self, event: AuditEvent, *, drawn: bool = False) -> Admission:
        """Queue an ordinary event without waiting; never blocks."""
        if event.is_privileged:
            raise ValueError(
                f"'{event.type}' is privileged: write it with `await audit.append(event)`"
            )
        rate = self._settings.sample_rate
        if drawn:
            kept: AuditEvent | None = event if rate >= 1.0 else replace(event, sample_rate=rate)
        else:
            kept = sample(event, rate, self._draw())
        if kept is None:
            self.counters.sampled_out += 1
            return Admission.SAMPLED_OUT
        return self._admit(kept)

    def _admit(self, kept: _Queued) -> Admission:
        if self._settings.on_failure == "refuse" and not self._healthy:
            return self._refuse("the audit store is unavailable")
        if self._closing:
            return self._lose("the audit log is shutting down")
        try:
            self._queue.put_nowait(kept)
        except asyncio.QueueFull:
            if self._settings.on_failure == "refuse":
                return self._refuse("the audit queue is full")
            return self._lose("the audit queue is full")
        return Admission.QUEUED

    def _refuse(self, why: str) -> Admission:
        self.counters.refused += 1
        raise AuditUnavailableError(
            f"{why} and audit.on_failure is 'refuse', so the request was refused"
        )

    def _lose(self, why: str) -> Admission:
        self.counters.lost += 1
        if not self._loss_reported:
            self._loss_reported = True
            _log.error("audit records are being lost: %s (counted in lost)", why)
        return Admission.LOST

    def _set_healthy(self, healthy: bool, why: str = "") -> None:
        if healthy == self._healthy:
            return
        self._healthy = healthy
        if healthy:
            _log.warning("audit store is writable again")
            return
        _log.error("audit store unavailable: %s", why)
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._probe_store(), name="glassgate-audit-probe")
        if self._on_degraded is not None:
            self._on_degraded(why)

    async def _probe_store(self) -> None:
        """Find out when the store is back even if nothing is waiting to be written."""
        delay = self._settings.retry_initial
        while not self._healthy and not self._closing:
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._settings.retry_max)
            try:
                await self._call(self._store.head)
            except StorageUnavailableError:
                continue
            self._set_healthy(True)

    async def _call(self, function: Callable[..., _T], *args: object) -> _T:
        return await self._runner.run(function, *args)

    async def _write_loop(self) -> None:
        stop = False
        while not stop:
            batch: list[_Queued] = []
            item: _Queued | None = await self._queue.get()
            if item is not None and self._queue.qsize() + 1 < self._settings.batch_size:
                # Linger briefly so a busy gateway writes (and fsyncs) hundreds of ordinary
                # records per transaction, not a handful; privileged appends never wait here.
                await asyncio.sleep(_LINGER)
            while item is not None:
                batch.append(item)
                if len(batch) >= self._settings.batch_size:
                    break
                try:
                    item = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
            stop = item is None
            if batch:
                await self._write_batch(batch)

    async def _write_batch(self, batch: list[_Queued]) -> None:
        self._inflight = len(batch)
        try:
            try:  # built and, usually, written in one trip to the store's thread
                attempt = await self._call(_build_and_append, self._store, batch)
            except Exception:  # noqa: BLE001 - a bug must not stop the writer; count the batch lost
                _log.exception("audit batch could not be built; %d records lost", len(batch))
                self.counters.lost += len(batch)
                return
            for _ in range(attempt.minimal):
                self.count_minimal()
            await self._write_with_retry(attempt)
        finally:
            self._inflight = 0

    async def _write_with_retry(self, first: _Attempt) -> None:
        """Settle the first attempt (made with the build); retry it while the store is down."""
        batch = first.events
        delay = self._settings.retry_initial
        while True:
            try:
                if first.failure is not None:
                    raise first.failure
                records = first.records
                if records is None:
                    records = await self._call(self._store.append, batch)
            except StorageUnavailableError as exc:
                self._set_healthy(False, str(exc))
                if self._closing:
                    self.counters.lost += len(batch)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._settings.retry_max)
                first = _Attempt(batch, first.minimal)  # from now on: append again
                continue
            except Exception:  # noqa: BLE001 - a bug must not stop the writer; count the batch lost
                _log.exception("audit batch writer failed; %d records lost", len(batch))
                self.counters.lost += len(batch)
                return
            self._set_healthy(True)
            self._loss_reported = False
            await self._after_write(records)
            return

    async def _after_write(self, records: list[AuditRecord]) -> None:
        self.counters.written += len(records)
        for sink in self._sinks:
            for record in records:
                sink.offer(record)
        if self._checkpoint_writer is not None:
            self._checkpoint_writer.advance(ChainHead(records[-1].seq, records[-1].hash))
        await self._checkpoint()

    def _count_checkpoint(self, result: bool | None) -> None:
        if result is True:
            self.counters.checkpoints += 1
        elif result is False:
            self.counters.checkpoint_failures += 1

    async def _checkpoint(self, *, force: bool = False) -> None:
        if self._checkpoint_writer is not None:
            self._count_checkpoint(await self._checkpoint_writer.maybe(force=force))

    async def close(self) -> None:
        """Drain the queue, write a final checkpoint, close the sinks and the store."""
        if self._closing:
            return
        self._closing = True
        timeout = self._settings.write_timeout
        if self._tasks:
            writer, *others = self._tasks
            try:
                await asyncio.wait_for(self._queue.put(None), timeout)
                await asyncio.wait_for(asyncio.shield(writer), timeout)
            except TimeoutError:
                writer.cancel()
                pending = [item for item in _drain(self._queue) if item is not None]
                self.counters.lost += len(pending) + self._inflight
            probes = [self._probe] if self._probe is not None else []
            for task in (*others, *probes):
                task.cancel()
            await asyncio.gather(*self._tasks, *probes, return_exceptions=True)
            await self._checkpoint(force=True)
        else:
            self.counters.lost += self._queue.qsize()
        for sink in self._sinks:
            await sink.close()
        await self._call(self._store.close)
        self._runner.close()


@dataclass(slots=True)
class _Attempt:
    """A batch built in the store's thread, and what its first append did."""

    events: list[AuditEvent]
    minimal: int
    records: list[AuditRecord] | None = None
    failure: Exception | None = None


def _build_and_append(store: AuditStore, batch: list[_Queued]) -> _Attempt:
    """Build the batch (a failure here raises: the batch is lost) and try to append it once.

    One hop to the store's thread per batch instead of two; an append that
    fails is handed back, not raised, so the caller retries the built events
    (or counts them lost) exactly as for a later attempt.
    """
    events, minimal = _built(batch)
    attempt = _Attempt(events, minimal)
    try:
        attempt.records = store.append(events)
    except Exception as exc:  # noqa: BLE001 - settled by _write_with_retry, in the loop's thread
        attempt.failure = exc
    return attempt


def _built(batch: list[_Queued]) -> tuple[list[AuditEvent], int]:
    """The batch as events, and how many of them are minimal stand-ins (``build_decision``)."""
    events: list[AuditEvent] = []
    minimal = 0
    for item in batch:
        if isinstance(item, AuditEvent):
            events.append(item)
            continue
        event, stand_in = build_decision(item)
        events.append(event)
        minimal += stand_in
    return events, minimal


def _drain(queue: asyncio.Queue[_Queued | None]) -> list[_Queued | None]:
    items: list[_Queued | None] = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items
