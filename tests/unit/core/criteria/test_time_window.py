"""criteria.time_window: allowed days and clock times in a time zone, from ``now`` only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from glassgate.core.criteria.base import Context, Effect
from glassgate.core.criteria.time_window import DAYS, TimeWindowConfig, compile_time_window
from glassgate.core.reasons import Reason

MakeContext = Callable[..., Context]

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = frozenset(range(5))


def _at(text: str, zone: ZoneInfo = UTC) -> float:
    """Seconds since the epoch of a local wall-clock time (2024-01-01 is a Monday)."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def _effect(make_context: MakeContext, config: TimeWindowConfig, when: float) -> Effect:
    check = compile_time_window(config)
    assert check is not None
    verdict = check(make_context(now=when))
    expected = Reason.TIME_WINDOW_OK if verdict.effect is Effect.PASS else Reason.TIME_WINDOW_DENIED
    assert verdict.reason is expected
    return verdict.effect


def test_no_window_compiles_to_no_check() -> None:
    assert compile_time_window(None) is None


def test_days_are_monday_first() -> None:
    assert DAYS[0] == "mon"
    assert DAYS[6] == "sun"
    assert datetime(2024, 1, 1).weekday() == 0  # the dates below rely on this


OFFICE = TimeWindowConfig(days=WEEKDAYS, start_minute=9 * 60, end_minute=17 * 60, zone=UTC)


@pytest.mark.parametrize(
    ("when", "effect"),
    [
        pytest.param("2024-01-01T09:00:00", Effect.PASS, id="case=start-inclusive"),
        pytest.param("2024-01-01T12:30:00", Effect.PASS, id="case=midday"),
        pytest.param("2024-01-01T16:59:59", Effect.PASS, id="case=last-second"),
        pytest.param("2024-01-01T17:00:00", Effect.DENY, id="case=end-exclusive"),
        pytest.param("2024-01-01T08:59:59", Effect.DENY, id="case=too-early"),
        pytest.param("2024-01-05T10:00:00", Effect.PASS, id="case=friday"),
        pytest.param("2024-01-06T10:00:00", Effect.DENY, id="case=saturday"),
        pytest.param("2024-01-07T10:00:00", Effect.DENY, id="case=sunday"),
    ],
)
def test_office_hours(make_context: MakeContext, when: str, effect: Effect) -> None:
    assert _effect(make_context, OFFICE, _at(when)) is effect


NIGHT = TimeWindowConfig(
    days=frozenset({DAYS.index("fri")}), start_minute=22 * 60, end_minute=6 * 60, zone=UTC
)


@pytest.mark.parametrize(
    ("when", "effect"),
    [
        pytest.param("2024-01-05T22:00:00", Effect.PASS, id="case=friday-night"),
        pytest.param("2024-01-05T23:59:00", Effect.PASS, id="case=before-midnight"),
        pytest.param(
            "2024-01-06T03:00:00", Effect.PASS, id="case=saturday-early-belongs-to-friday"
        ),
        pytest.param("2024-01-06T06:00:00", Effect.DENY, id="case=end-exclusive"),
        pytest.param(
            "2024-01-05T03:00:00", Effect.DENY, id="case=friday-early-belongs-to-thursday"
        ),
        pytest.param("2024-01-06T22:30:00", Effect.DENY, id="case=saturday-night"),
        pytest.param("2024-01-05T12:00:00", Effect.DENY, id="case=friday-noon"),
    ],
)
def test_window_wrapping_midnight(make_context: MakeContext, when: str, effect: Effect) -> None:
    assert _effect(make_context, NIGHT, _at(when)) is effect


def test_whole_day_window(make_context: MakeContext) -> None:
    config = TimeWindowConfig(
        days=frozenset(range(7)), start_minute=0, end_minute=24 * 60, zone=UTC
    )
    assert _effect(make_context, config, _at("2024-01-03T00:00:00")) is Effect.PASS
    assert _effect(make_context, config, _at("2024-01-03T23:59:59")) is Effect.PASS


def test_zone_is_applied(make_context: MakeContext) -> None:
    berlin = TimeWindowConfig(days=WEEKDAYS, start_minute=9 * 60, end_minute=17 * 60, zone=BERLIN)
    # 08:30 UTC in January is 09:30 in Berlin: inside there, outside in UTC.
    when = _at("2024-01-01T08:30:00", UTC)
    assert _effect(make_context, berlin, when) is Effect.PASS
    assert _effect(make_context, OFFICE, when) is Effect.DENY
    # 16:30 UTC is 17:30 in Berlin.
    assert _effect(make_context, berlin, _at("2024-01-01T16:30:00", UTC)) is Effect.DENY


def test_zone_follows_daylight_saving(make_context: MakeContext) -> None:
    berlin = TimeWindowConfig(days=WEEKDAYS, start_minute=9 * 60, end_minute=17 * 60, zone=BERLIN)
    # In July Berlin is UTC+2: 07:30 UTC is 09:30 local.
    assert _effect(make_context, berlin, _at("2024-07-01T07:30:00", UTC)) is Effect.PASS
    assert _effect(make_context, berlin, _at("2024-07-01T15:30:00", UTC)) is Effect.DENY


def test_day_boundary_uses_local_date(make_context: MakeContext) -> None:
    sunday_only = TimeWindowConfig(
        days=frozenset({DAYS.index("sun")}), start_minute=0, end_minute=24 * 60, zone=BERLIN
    )
    # Saturday 23:30 UTC is already Sunday 00:30 in Berlin.
    assert _effect(make_context, sunday_only, _at("2024-01-06T23:30:00", UTC)) is Effect.PASS


def test_detail_shows_local_time(make_context: MakeContext) -> None:
    check = compile_time_window(OFFICE)
    assert check is not None
    assert check(make_context(now=_at("2024-01-06T10:15:00"))).detail.startswith("sat 10:15")
