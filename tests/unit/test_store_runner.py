"""StoreRunner: one worker thread, calls in order, cancellation never cuts a call in half."""

from __future__ import annotations

import asyncio
import threading

import pytest

from glassgate.errors import StorageUnavailableError
from glassgate.store_runner import StoreRunner


def test_calls_run_in_order_on_one_named_thread() -> None:
    runner = StoreRunner("unit")
    seen: list[tuple[int, str]] = []

    def call(index: int) -> int:
        seen.append((index, threading.current_thread().name))
        return index * 2

    async def main() -> list[int]:
        return list(await asyncio.gather(*(runner.run(call, i) for i in range(20))))

    try:
        assert asyncio.run(main()) == [i * 2 for i in range(20)]
    finally:
        runner.close()
    assert [index for index, _ in seen] == list(range(20))
    names = {name for _, name in seen}
    assert len(names) == 1
    assert names.pop().startswith("glassgate-unit")
    assert threading.current_thread().name not in {name for _, name in seen}


def test_the_call_s_exception_reaches_the_caller() -> None:
    runner = StoreRunner("unit")

    def fail() -> None:
        raise StorageUnavailableError("down")

    try:
        with pytest.raises(StorageUnavailableError, match="down"):
            asyncio.run(runner.run(fail))
    finally:
        runner.close()


def test_cancelling_the_caller_lets_a_started_call_finish_and_skips_a_queued_one() -> None:
    runner = StoreRunner("unit")
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def slow() -> None:
        started.set()
        release.wait(10)
        finished.append("slow")

    def queued() -> None:
        finished.append("queued")

    async def main() -> None:
        first = asyncio.ensure_future(runner.run(slow))
        second = asyncio.ensure_future(runner.run(queued))
        while not started.is_set():
            await asyncio.sleep(0.001)
        first.cancel()
        second.cancel()
        await asyncio.gather(first, second, return_exceptions=True)
        assert first.cancelled()
        assert second.cancelled()
        release.set()

    try:
        asyncio.run(main())
    finally:
        runner.close()  # waits for the started call
    assert finished == ["slow"]


def test_repr_names_the_runner() -> None:
    runner = StoreRunner("audit")
    runner.close()
    assert repr(runner) == "StoreRunner('audit')"
