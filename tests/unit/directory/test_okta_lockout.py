"""The first seed's story on a realistic Okta export: a changed rule would remove every admin."""

from __future__ import annotations

import pytest

from glassgate.directory.changes import ReplaceRules
from glassgate.directory.formats.rules_file import dump_rules, load_rules
from glassgate.directory.guard import LockoutGuard, ProtectedGroup, check_change
from glassgate.directory.report import simulation_table
from glassgate.directory.simulate import Delta, simulate
from glassgate.errors import LockoutRefusedError
from tests.unit.directory.okta_fixture import ADMINS, RULES_CHANGED, okta_directory

GUARD = LockoutGuard([ProtectedGroup("Admins", 2)])


def test_the_changed_rules_differ_from_the_imported_ones_only_in_the_admins_rule() -> None:
    directory = okta_directory()
    changed = load_rules(RULES_CHANGED.read_text(), "rules-changed.yaml")
    assert changed.changed_against(directory.rules) == {"0prHXvkblsU498oDs0g7"}
    assert (
        "Information Technology" in (changed.get("0prHXvkblsU498oDs0g7") or changed).rule.expression
    )  # type: ignore[union-attr]
    assert (
        load_rules(dump_rules(directory.rules.rules), "x").changed_against(directory.rules)
        == frozenset()
    )


def test_simulation_shows_every_admin_losing_admins() -> None:
    directory = okta_directory()
    sim = simulate(directory, load_rules(RULES_CHANGED.read_text(), "rules-changed.yaml"), GUARD)
    losses = {c.user_name for c in sim.changes if c.delta is Delta.LOSS}
    assert losses == {*ADMINS, "sam.walsh@example.com"}
    assert {c.group for c in sim.changes} == {"Admins"}
    assert not sim.allowed
    table = simulation_table(sim)
    assert "Admins (minimum 2): 4 -> 0  SHORT  after: nobody" in table


def test_applying_the_changed_rules_is_refused_naming_group_minimum_and_who_remains() -> None:
    directory = okta_directory()
    changed = load_rules(RULES_CHANGED.read_text(), "rules-changed.yaml")
    with pytest.raises(LockoutRefusedError) as info:
        check_change(GUARD, directory, [ReplaceRules(changed)])
    error = info.value
    assert (error.code, error.group, error.minimum, error.remaining) == (
        "lockout_refused",
        "Admins",
        2,
        (),
    )
    assert (
        "protected group 'Admins' needs at least 2 active member(s) but would keep 0 (nobody)"
        in str(error)
    )
    assert "jun.tanaka@example.com" in str(error)
    assert directory.active_members("Admins") == ADMINS  # nothing changed
