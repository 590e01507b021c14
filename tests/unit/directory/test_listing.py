"""directory.listing: users, groups and show, as tables and JSON."""

from __future__ import annotations

import json

from glassgate.directory.listing import groups_table, show, users_table
from tests.unit.directory._build import GUARD
from tests.unit.directory.okta_fixture import okta_directory


def test_groups_show_direct_rule_and_active_members_with_the_minimum() -> None:
    table = groups_table(okta_directory(), GUARD)
    header, *rows = table.splitlines()
    assert header.split() == ["GROUP", "ID", "DIRECT", "BY", "RULE", "ACTIVE", "PROTECTED"]
    admins = next(row for row in rows if row.startswith("Admins "))
    assert admins.split()[2:] == ["0", "5", "4", ">=", "2"]


def test_show_explains_where_each_group_comes_from() -> None:
    d = okta_directory()
    text = show(d, "lena.ortiz@example.com", GUARD, as_json=False)
    assert text is not None
    assert "Admins  (rule 0prHXvkblsU498oDs0g7)" in text
    assert "Everyone  (direct)" in text
    document = json.loads(show(d, "lena.ortiz@example.com", GUARD, as_json=True) or "{}")
    assert document["groups"]["Admins"] == {"direct": False, "rules": ["0prHXvkblsU498oDs0g7"]}
    group = json.loads(show(d, "Admins", GUARD, as_json=True) or "{}")
    assert group["protected_minimum"] == 2
    assert group["active_members"] == 4
    assert group["filled_by_rules"] == ["0prHXvkblsU498oDs0g7"]
    assert show(d, "nobody-here", GUARD, as_json=False) is None


def test_users_table_lists_everyone_with_their_groups() -> None:
    lines = users_table(okta_directory()).splitlines()
    assert len(lines) == 320
    lena = next(line for line in lines if line.startswith("lena.ortiz@example.com"))
    assert "Admins" in lena
    assert "active" in lena
