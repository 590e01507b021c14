"""Time windows: the request must fall on an allowed day and between two clock times.

The zone is resolved at config load (``zoneinfo`` reads tz data then), so the
check itself stays pure. A window whose end is before its start wraps midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from glassgate.core.criteria.base import Check, Context, Verdict
from glassgate.core.reasons import Reason

__all__ = ["DAYS", "TimeWindowConfig", "compile_time_window"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class TimeWindowConfig:
    days: frozenset[int]
    start_minute: int
    end_minute: int
    zone: tzinfo


def _inside(config: TimeWindowConfig, weekday: int, minute: int) -> bool:
    start, end = config.start_minute, config.end_minute
    if start <= end:
        return weekday in config.days and start <= minute < end
    if minute >= start:
        return weekday in config.days
    return (weekday - 1) % 7 in config.days and minute < end


def compile_time_window(config: TimeWindowConfig | None) -> Check | None:
    if config is None:
        return None

    def check(ctx: Context) -> Verdict:
        local = datetime.fromtimestamp(ctx.now, config.zone)
        minute = local.hour * 60 + local.minute
        when = f"{DAYS[local.weekday()]} {local:%H:%M}"
        if _inside(config, local.weekday(), minute):
            return Verdict.ok(Reason.TIME_WINDOW_OK, f"{when} is inside the window")
        return Verdict.deny(Reason.TIME_WINDOW_DENIED, f"{when} is outside the window")

    return check
