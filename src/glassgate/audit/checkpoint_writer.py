"""CheckpointWriter: sign this process's newest chain head when due, and keep it everywhere.

Due means every N records or T seconds (``CheckpointSchedule``), and always on
shutdown; a prune checkpoint (``keep_prune``) whenever ``audit prune`` cuts the
log. A checkpoint is kept in every ``CheckpointLog`` of the plan (the
append-only file, the database) and offered to the sinks (syslog, webhook), so
that a deleted or rewritten tail is caught by ``audit verify``. Several
processes sharing one database each checkpoint the heads they wrote; all are
points of the same chain.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from glassgate.audit.chain import ChainHead
from glassgate.audit.checkpoints import Checkpoint, sign_checkpoint
from glassgate.audit.retention import PrunePlan
from glassgate.audit.settings import CheckpointPlan
from glassgate.errors import StorageUnavailableError
from glassgate.ports import AuditSink, CheckpointLog
from glassgate.types import Clock

__all__ = ["CheckpointWriter"]

_log = logging.getLogger("glassgate.audit")

# How blocking work is run: the AuditLog passes its worker-thread runner.
Runner = Callable[..., Awaitable[None]]


class CheckpointWriter:
    """One per AuditLog; ``run`` executes the blocking writes off the event loop."""

    def __init__(
        self,
        plan: CheckpointPlan,
        *,
        clock: Clock,
        run: Runner,
        sinks: Sequence[AuditSink] = (),
    ) -> None:
        self._plan = plan
        self._clock = clock
        self._run = run
        self._sinks = tuple(sinks) if plan.to_sinks else ()
        self._head: ChainHead | None = None
        self._seq = 0
        self._time = clock()

    def advance(self, head: ChainHead) -> None:
        """Note a head this process wrote; heads only move forward."""
        if self._head is None or head.seq > self._head.seq:
            self._head = head

    async def maybe(self, *, force: bool = False) -> bool | None:
        """Checkpoint if due (or ``force``d): ``None`` if not, else whether every log kept it."""
        head = self._head
        if head is None or head.seq <= self._seq:
            return None
        now = self._clock()
        if not force and not self._plan.schedule.due(head.seq, self._seq, self._time, now):
            return None
        self._seq, self._time = head.seq, now
        checkpoint = sign_checkpoint(head.seq, head.hash, now, self._plan.key)
        for sink in self._sinks:
            sink.offer_checkpoint(checkpoint)
        try:
            await self._run(_keep, self._plan.logs, checkpoint)
        except StorageUnavailableError as exc:
            _log.error("audit checkpoint at record %d not kept everywhere: %s", head.seq, exc)
            return False
        return True

    async def keep_prune(self, plan: PrunePlan, export_sha256: str) -> Checkpoint:
        """Sign ``plan`` as a prune checkpoint and keep it everywhere, before anything goes.

        Raises ``StorageUnavailableError`` if any log could not keep it: then
        nothing may be removed, or ``verify`` could not tell the prune from a
        deletion.
        """
        checkpoint = sign_checkpoint(
            plan.last,
            plan.head,
            self._clock(),
            self._plan.key,
            pruned_from=plan.first,
            export_sha256=export_sha256,
        )
        for sink in self._sinks:
            sink.offer_checkpoint(checkpoint)
        await self._run(_keep, self._plan.logs, checkpoint)
        return checkpoint

    async def tick(self, on_result: Callable[[bool | None], None]) -> None:
        """Run forever: catch the T-seconds deadline even when no record arrives."""
        interval = min(max(self._plan.schedule.every_seconds / 4, 0.05), 5.0)
        while True:
            await asyncio.sleep(interval)
            on_result(await self.maybe())


def _keep(logs: tuple[CheckpointLog, ...], checkpoint: Checkpoint) -> None:
    """Keep ``checkpoint`` in every log; try them all, then report the first failure."""
    failure: StorageUnavailableError | None = None
    for log in logs:
        try:
            log.add_checkpoint(checkpoint)
        except StorageUnavailableError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
