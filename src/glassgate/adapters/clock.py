"""The wall clock: the only place glassgate reads the current time."""

from __future__ import annotations

import time

__all__ = ["SystemClock", "now"]


def now() -> float:
    return time.time()


class SystemClock:
    def now(self) -> float:
        return time.time()
