"""Waiting in tests: poll a condition against a deadline, never sleep a fixed time.

``eventually`` returns as soon as the condition holds (fast on a quiet
machine) and fails with ``what`` only when the deadline passes (patient on a
loaded one). ``holds_for`` is the negative form: the condition must stay true
for the whole window, and a violation fails at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["eventually", "eventually_async", "holds_for"]

DEFAULT_TIMEOUT = 15.0


def eventually(
    check: Callable[[], bool], *, what: str, timeout: float = DEFAULT_TIMEOUT, every: float = 0.02
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


async def eventually_async(
    check: Callable[[], bool], *, what: str, timeout: float = DEFAULT_TIMEOUT, every: float = 0.005
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(every)


def holds_for(check: Callable[[], bool], *, seconds: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not check():
            raise AssertionError(f"{what} stopped holding")
        time.sleep(every)
