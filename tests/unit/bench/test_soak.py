"""bench/soak.py's verdicts: RSS limit, RSS growth and descriptor growth, from made-up slices."""

from __future__ import annotations

import pytest
from bench.soak import Slice, summarise, to_markdown


def _slices(rss: list[float], fds: list[int]) -> list[Slice]:
    return [
        Slice(at_s=30.0 * (i + 1), rps=4000.0, p99_ms=25.0, non_2xx=0, rss_mb=r, fds=f)
        for i, (r, f) in enumerate(zip(rss, fds, strict=True))
    ]


def test_a_steady_gateway_meets_every_target() -> None:
    summary = summarise(_slices([120, 122, 121, 121, 122, 121, 122], [70] * 7))
    assert summary.rss_within_limit
    assert summary.rss_growth_ok
    assert summary.fds_steady
    assert summary.rss_start_mb == 121
    assert summary.rss_end_mb == 122
    assert summary.seconds == 210


def test_growth_is_judged_on_medians_so_one_spike_neither_hides_nor_fakes_it() -> None:
    spike = summarise(_slices([120, 120, 120, 180, 120, 120, 120], [70] * 7))
    assert spike.rss_growth_ok  # one slice mid-collection
    assert not spike.rss_within_limit  # but the maximum is still reported against the limit
    leak = summarise(_slices([100, 101, 102, 104, 106, 108, 110], [70] * 7))
    assert not leak.rss_growth_ok
    assert leak.rss_growth == pytest.approx((108 - 101) / 101)


def test_descriptors_that_grow_are_a_miss() -> None:
    summary = summarise(_slices([120] * 6, [70, 70, 71, 90, 110, 130]))
    assert not summary.fds_steady
    assert summary.fds_max == 130


def test_the_report_names_each_verdict() -> None:
    slices = _slices([160, 170], [70, 75])
    text = to_markdown("row 5", summarise(slices), slices, {"started": "x", "connections": 64})
    assert text.count("MISSED") == 3  # over the limit, growing, descriptors up
    assert "| 60 | 4,000 | 25.0 | 170.0 | 75 |" in text


def test_a_soak_without_slices_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one slice"):
        summarise([])
