"""audit.retention: which records a prune removes (issue 11 audit 4)."""

from __future__ import annotations

from glassgate.audit.chain import GENESIS, link
from glassgate.audit.records import format_ts
from glassgate.audit.retention import plan_prune, prune_event
from tests.support.audit import T0, event, make_chain

RECORDS = make_chain(10)  # record n has ts T0 + n - 1


def test_the_oldest_records_before_the_time_go() -> None:
    plan = plan_prune(RECORDS, format_ts(T0 + 4), newest=10)
    assert plan is not None
    assert (plan.first, plan.last, plan.head, plan.count) == (1, 4, RECORDS[3].hash, 4)


def test_nothing_before_the_time_is_no_plan() -> None:
    assert plan_prune(RECORDS, format_ts(T0), newest=10) is None
    assert plan_prune([], format_ts(T0 + 100), newest=0) is None


def test_the_newest_record_is_always_kept() -> None:
    plan = plan_prune(RECORDS, format_ts(T0 + 1000), newest=10)
    assert plan is not None
    assert plan.last == 9


def test_a_late_record_ends_the_run() -> None:
    events = [event(0), event(1), event(2, at=T0 + 500), event(3)]
    records = link(GENESIS, events)
    plan = plan_prune(records, format_ts(T0 + 100), newest=4)
    assert plan is not None
    assert (plan.first, plan.last) == (1, 2)


def test_a_plan_after_an_earlier_prune_starts_where_the_log_does() -> None:
    plan = plan_prune(RECORDS[4:], format_ts(T0 + 7), newest=10)
    assert plan is not None
    assert (plan.first, plan.last) == (5, 7)


def test_the_prune_event_is_privileged_and_names_the_range() -> None:
    plan = plan_prune(RECORDS, format_ts(T0 + 4), newest=10)
    assert plan is not None
    pruned = prune_event(plan, "ab" * 32, "cli:ops", T0 + 99)
    assert pruned.is_privileged
    assert (pruned.type, pruned.actor) == ("audit.prune", "cli:ops")
    assert dict(pruned.details) == {
        "pruned_from": 1,
        "pruned_to": 4,
        "records": 4,
        "before": format_ts(T0 + 4),
        "export_sha256": "ab" * 32,
    }
