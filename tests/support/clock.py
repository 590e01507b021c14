"""FrozenClock: the one test clock. It stands still until a test moves it.

glassgate's clock shape is a plain callable returning Unix seconds
(``glassgate.types.Clock``), so ``clock()`` is the current time; tests read
and move it through ``value`` / ``advance``.
"""

from __future__ import annotations

__all__ = ["NOW", "FrozenClock"]

NOW = 1_700_000_000.0


class FrozenClock:
    def __init__(self, now: float = NOW) -> None:
        self.value = float(now)

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> float:
        """Move forward (or, with a negative ``seconds``, back); return the new time."""
        self.value += seconds
        return self.value
