"""directory.simulate and report: who gains, who loses, and what the guard would say."""

from __future__ import annotations

import csv
import io
import json

from glassgate.directory.changes import build
from glassgate.directory.guard import LockoutGuard
from glassgate.directory.models import Group, User, UserStatus
from glassgate.directory.report import simulation_csv, simulation_json, simulation_table
from glassgate.directory.rules import GroupRule, RuleSet
from glassgate.directory.simulate import simulate
from tests.unit.directory._build import GUARD, IT_ADMINS, admins_by_rule, rules, user


def test_an_unchanged_rule_set_changes_nothing() -> None:
    before = admins_by_rule(3)
    sim = simulate(before, before.rules, GUARD)
    assert sim.changes == ()
    assert sim.allowed
    assert sim.changed_rules == ()
    assert "No user gains or loses a group." in simulation_table(sim)


def test_losses_gains_and_the_protected_outcome() -> None:
    before = admins_by_rule(3, others=2)
    new = rules(
        ("it-admins", 'has(user.department) && user.department == "Sales"', "Admins"),
        ("sales", "true", "Sales"),
    )
    sim = simulate(before, new, GUARD)
    assert sim.per_group()["Admins"] == (
        ["sales0@example.com", "sales1@example.com"],
        ["admin0@example.com", "admin1@example.com", "admin2@example.com"],
    )
    # sales people are direct members of Sales already: only the admins gain it
    assert sim.per_group()["Sales"][0] == [
        "admin0@example.com",
        "admin1@example.com",
        "admin2@example.com",
    ]
    (outcome,) = sim.protected
    assert (len(outcome.before), len(outcome.after), outcome.short) == (3, 2, False)
    assert sim.allowed


def test_a_rule_that_empties_admins_is_shown_as_refused() -> None:
    before = admins_by_rule(3)
    sim = simulate(before, rules(("it-admins", 'user.title == "Root"', "Admins")), GUARD)
    assert not sim.allowed
    table = simulation_table(sim)
    assert "Admins (minimum 2): 3 -> 0  SHORT  after: nobody" in table
    assert "Verdict: REFUSED" in table
    document = json.loads(simulation_json(sim))
    assert document["allowed"] is False
    assert document["refused"] == [{"group": "Admins", "minimum": 2, "remaining": []}]
    assert document["groups"]["Admins"]["lose"] == [f"admin{i}@example.com" for i in range(3)]


def test_errors_missing_groups_and_inactive_users_are_reported() -> None:
    people = [
        user("a", department="IT", title="Admin"),
        User("s", "s@example.com", UserStatus.SUSPENDED, {"department": "IT", "title": "Admin"}),
    ]
    before = build(people, [Group("g", "Admins")], rules(("it-admins", IT_ADMINS, "Admins")))
    new = RuleSet.compile(
        [
            GroupRule("it-admins", "user.nope == 1", ("Admins",)),
            GroupRule("x", "true", ("Nowhere",)),
        ]
    )
    sim = simulate(before, new, LockoutGuard())
    table = simulation_table(sim)
    assert "rule it-admins: could not be evaluated for 2 user(s)" in table
    assert "assigns group 'Nowhere', which does not exist" in table
    assert "s@example.com (suspended)" in table
    assert "none configured" in table


def test_csv_has_one_row_per_change_and_is_injection_safe() -> None:
    people = [User("u1", "=cmd|' /C calc'!A0", attributes={"department": "IT", "title": "Admin"})]
    before = build(people, [Group("g", "Admins")], rules(("it-admins", IT_ADMINS, "Admins")))
    sim = simulate(before, rules(("it-admins", "false", "Admins")), LockoutGuard())
    rows = list(csv.reader(io.StringIO(simulation_csv(sim))))
    assert rows == [
        ["group", "change", "userName", "id", "status"],
        ["Admins", "loss", "'=cmd|' /C calc'!A0", "u1", "active"],
    ]


def test_the_table_shortens_long_lists() -> None:
    before = admins_by_rule(20)
    table = simulation_table(simulate(before, rules(), LockoutGuard()), limit=3)
    assert "(+17 more)" in table
