"""The grants refresh loop fails closed: a stale index stops granting anything.

A grant revoked on another instance is seen here only through the shared
database; when that cannot be read for longer than ``stale_after`` (three
refresh intervals), no granted group may keep working on an old index.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import pytest

from glassgate.app.grants import GrantsRuntime
from glassgate.config.schema import Config
from glassgate.errors import StorageUnavailableError
from glassgate.workflows.grant_groups import GrantGroups
from glassgate.workflows.grant_service import GrantService
from glassgate.workflows.grants import Grant
from tests.unit.workflows.test_grant_groups import alice
from tests.unit.workflows.test_grants import _active

_CONFIG = cast(Config, object())  # the fake service below never reads it


class _Reads:
    """A grant service whose ``active()`` answers from a script: grants, or an exception."""

    def __init__(self) -> None:
        self.next: list[Grant] | BaseException = []

    async def active(self) -> list[Grant]:
        if isinstance(self.next, BaseException):
            raise self.next
        return self.next


class _Runtime(GrantsRuntime):
    reads: _Reads

    def service_for(self, config: Config) -> GrantService:
        return cast(GrantService, self.reads)


def _runtime(clock: list[float]) -> _Runtime:
    nothing = cast(Any, None)
    runtime = _Runtime(nothing, nothing, GrantGroups(), nothing, nothing, lambda: clock[0], 1.0)
    runtime.reads = _Reads()
    return runtime


@pytest.mark.parametrize(
    "failure", [StorageUnavailableError("database is locked"), OSError("disk gone")]
)
def test_a_failed_read_keeps_the_index_while_fresh_then_drops_every_grant(
    failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    clock = [1100.0]
    runtime = _runtime(clock)
    runtime.reads.next = [_active()]
    asyncio.run(runtime.follow_once(_CONFIG))
    assert runtime.index.enrich(alice(), clock[0]).groups == {"Engineers", "Admins"}

    runtime.reads.next = failure
    clock[0] += runtime.stale_after  # still within the bound: one failure takes nothing away
    asyncio.run(runtime.follow_once(_CONFIG))
    assert runtime.index.enrich(alice(), clock[0]).groups == {"Engineers", "Admins"}

    clock[0] += 0.5  # past it: the index may hide a revocation made elsewhere
    with caplog.at_level(logging.ERROR, logger="glassgate.grants"):
        asyncio.run(runtime.follow_once(_CONFIG))
    assert runtime.index.enrich(alice(), clock[0]).groups == {"Engineers"}
    assert len(runtime.index) == 0
    assert "no grant counts" in caplog.text

    runtime.reads.next = [_active()]  # the database is back: grants count again
    asyncio.run(runtime.follow_once(_CONFIG))
    assert runtime.index.enrich(alice(), clock[0]).groups == {"Engineers", "Admins"}


def test_a_process_that_never_read_the_database_grants_nothing() -> None:
    clock = [1100.0]
    runtime = _runtime(clock)
    runtime.index.put(_active(), clock[0])  # as if left from before; no refresh has worked
    runtime.reads.next = StorageUnavailableError("no such table")
    asyncio.run(runtime.follow_once(_CONFIG))
    assert len(runtime.index) == 0


def test_the_loop_goes_on_after_an_unexpected_exception() -> None:
    clock = [1100.0]
    runtime = _runtime(clock)
    runtime.refresh_interval = 0.01
    runtime.reads.next = RuntimeError("a bug in a codec")

    async def scenario() -> None:
        task = asyncio.create_task(runtime._follow(lambda: _CONFIG))
        await asyncio.sleep(0.05)
        runtime.reads.next = [_active()]
        await asyncio.sleep(0.05)
        assert not task.done()
        task.cancel()

    asyncio.run(scenario())
    assert runtime.index.enrich(alice(), clock[0]).groups == {"Engineers", "Admins"}
