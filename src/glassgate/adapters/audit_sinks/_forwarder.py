"""Forwarder: a bounded queue drained by one task, for every live audit sink.

``ForwardingSink`` is what the sinks share on top of it: the event-type
filter, the counters, and ``offer`` / ``offer_checkpoint`` feeding the queue
with the bytes each sink's ``_encode`` / ``_encode_checkpoint`` makes.

``offer`` never blocks and never raises: when the queue is full the item is
dropped and counted (back-pressure must never reach the request path). The
task delivers in batches; a failed batch is retried with exponential backoff
(capped), then given up and counted. Delivery is at-least-once: a retry after
a partial send may repeat messages, which receivers de-duplicate by ``seq``.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence

from glassgate.audit.checkpoints import Checkpoint
from glassgate.audit.records import AuditRecord
from glassgate.errors import AlertDeliveryError, PermanentDeliveryError

__all__ = ["Forwarder", "ForwardingSink", "wanted"]

_log = logging.getLogger("glassgate.audit.sinks")


def wanted(event_type: str, prefixes: Sequence[str]) -> bool:
    """No prefixes means every type; ``breakglass`` covers ``breakglass.activate``."""
    return not prefixes or any(
        event_type == prefix or event_type.startswith(prefix + ".") for prefix in prefixes
    )


class Forwarder:
    def __init__(
        self,
        deliver: Callable[[list[bytes]], Awaitable[None]],
        *,
        name: str,
        queue_size: int = 10_000,
        batch_size: int = 100,
        max_attempts: int = 5,
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
    ) -> None:
        if queue_size < 1 or batch_size < 1 or max_attempts < 1:
            raise ValueError("queue_size, batch_size and max_attempts must be at least 1")
        self._deliver = deliver
        self._name = name
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(queue_size)
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._backoff = (backoff_initial, backoff_max)
        self._task: asyncio.Task[None] | None = None
        self._inflight = 0
        self.dropped = 0
        self.delivered = 0
        self.failures = 0

    def offer(self, item: bytes) -> bool:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"glassgate-sink-{self._name}")

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._inflight = len(batch)
            await self._send(batch)
            self._inflight = 0
            for _ in batch:
                self._queue.task_done()

    async def _send(self, batch: list[bytes]) -> None:
        delay, cap = self._backoff
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._deliver(batch)
            except PermanentDeliveryError as exc:
                _log.error("%s refused %d audit items: %s", self._name, len(batch), exc)
                break
            except AlertDeliveryError as exc:
                self.failures += 1
                if attempt == self._max_attempts:
                    _log.error("%s: giving up on %d audit items: %s", self._name, len(batch), exc)
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, cap)
            else:
                self.delivered += len(batch)
                return
        self.dropped += len(batch)

    async def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (up to ``timeout``), then stop; the rest counts as dropped."""
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            self.dropped += self._queue.qsize() + self._inflight
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None


class ForwardingSink(ABC):
    """An ``AuditSink`` whose records of the wanted ``event_types`` go through a ``Forwarder``.

    Checkpoints are always forwarded. Subclasses say how a record and a
    checkpoint become bytes, and start and close the forwarder with their own
    connection.
    """

    def __init__(
        self,
        deliver: Callable[[list[bytes]], Awaitable[None]],
        *,
        name: str,
        event_types: Sequence[str],
        queue_size: int,
        backoff_initial: float,
    ) -> None:
        self._types = tuple(event_types)
        self._forwarder = Forwarder(
            deliver, name=name, queue_size=queue_size, backoff_initial=backoff_initial
        )

    @property
    def dropped(self) -> int:
        return self._forwarder.dropped

    @property
    def delivered(self) -> int:
        return self._forwarder.delivered

    def offer(self, record: AuditRecord) -> bool:
        if not wanted(record.type, self._types):
            return True
        return self._forwarder.offer(self._encode(record))

    def offer_checkpoint(self, checkpoint: Checkpoint) -> bool:
        return self._forwarder.offer(self._encode_checkpoint(checkpoint))

    @abstractmethod
    def _encode(self, record: AuditRecord) -> bytes: ...

    @abstractmethod
    def _encode_checkpoint(self, checkpoint: Checkpoint) -> bytes: ...
