"""UTC timestamps as text, for audit records and log lines, without a datetime per call.

``datetime.fromtimestamp(...).strftime(...)`` costs microseconds and runs for
every audit record and every access line. The date and time of day change once
a second, so they are formatted once per second; only the fraction is
formatted per call. The fraction is rounded to microseconds half to even,
exactly as ``datetime.fromtimestamp`` rounds it, so the text is the same.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

__all__ = ["utc_parts"]

# (second, its "YYYY-MM-DDTHH:MM:SS"): replaced whole, so threads never see half of it.
_LAST: list[tuple[int, str]] = [(-1, "")]


def utc_parts(epoch: float) -> tuple[str, int]:
    """(``YYYY-MM-DDTHH:MM:SS`` in UTC, microseconds) of ``epoch`` (seconds, >= 0)."""
    frac, whole = math.modf(epoch)
    micros = round(frac * 1e6)
    if micros >= 1_000_000:
        micros -= 1_000_000
        whole += 1.0
    second = int(whole)
    last = _LAST[0]
    if last[0] != second:
        last = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
        _LAST[0] = last
    return last[1], micros
