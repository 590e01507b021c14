"""The wall clock: the only place glassgate reads the current time.

``now`` has the ``glassgate.types.Clock`` shape (a callable returning Unix
seconds); everything that needs time takes such a callable, or ``now`` itself.
"""

from __future__ import annotations

import time

__all__ = ["now"]


def now() -> float:
    return time.time()
