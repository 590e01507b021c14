"""StoreRunner: the one way async code calls a blocking storage port.

Storage ports are blocking and each call is one transaction (``ports.py``).
A service that holds a store (the audit log, the API-key cache, the API-key
workflow, and the break-glass, grant and directory stores to come) runs every
call through its own ``StoreRunner``:

- one worker thread per runner, so a store's calls run one at a time, in the
  order they were made, and its connection is never used from two threads;
- the event loop only waits: a slow disk or database never stalls it;
- cancellation-safe: cancelling the awaiting task never cuts a call in half.
  A call that has started runs to its end on the thread (its transaction
  commits or rolls back whole) and only the waiting is abandoned; a call that
  has not started yet does not start at all.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["StoreRunner"]

_T = TypeVar("_T")


class StoreRunner:
    """Runs blocking store calls on one dedicated thread named ``glassgate-<name>``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"glassgate-{name}")

    async def run(self, function: Callable[..., _T], *args: object) -> _T:
        """``function(*args)`` on the worker thread; its result, or its exception."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args))

    def close(self, *, wait: bool = True) -> None:
        """Stop the thread once queued calls are done (``wait``: block until then)."""
        self._executor.shutdown(wait=wait)

    def __repr__(self) -> str:
        return f"StoreRunner({self.name!r})"
