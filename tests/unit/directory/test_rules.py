"""directory.rules: CEL group rules compiled once, evaluated per user, failing to "no match"."""

from __future__ import annotations

import pytest

from glassgate.directory.models import User
from glassgate.directory.rules import GroupRule, RuleErrors, RuleSet, matching_rules, rule_input
from glassgate.errors import RulesInvalidError
from tests.unit.directory._build import IT_ADMINS, user


def _match(expression: str, subject: User, groups: tuple[str, ...] = ()) -> tuple[bool, RuleErrors]:
    errors = RuleErrors()
    rules = RuleSet.compile([GroupRule("r", expression, ("G",))])
    return "r" in matching_rules(rules, subject, groups, errors), errors


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("user.department ==", "does not parse"),
        ("user.title.lowerAscii() == 'x'", "unknown function"),
        ("request.path == '/'", "unknown variable"),
        ('"\ud800" == user.title', "does not parse"),
        ("user.department == 'IT' &&", "does not parse"),
    ],
)
def test_bad_expressions_are_refused_at_compile_time(expression: str, reason: str) -> None:
    with pytest.raises(RulesInvalidError, match=reason):
        RuleSet.compile([GroupRule("r", expression, ("G",))])


def test_every_problem_is_listed_and_ids_are_unique() -> None:
    with pytest.raises(RulesInvalidError) as info:
        RuleSet.compile(
            [
                GroupRule("a", "nope(", ("G",)),
                GroupRule("a", "true", ("G",)),
                GroupRule("b", "foo()", ("G",)),
            ]
        )
    assert len(info.value.problems) == 3
    assert "used twice" in info.value.problems[1].message


def test_macro_variables_are_not_mistaken_for_strays() -> None:
    RuleSet.compile([GroupRule("r", 'groups.exists(g, g.startsWith("IT-"))', ("G",))])


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "a/b"), ("expression", " "), ("expression", "x" * 5000), ("assign", ())],
)
def test_malformed_rules_are_refused(field: str, value: object) -> None:
    fields: dict[str, object] = {"id": "r", "expression": "true", "assign": ("G",)}
    fields[field] = value
    with pytest.raises(ValueError, match="rule"):
        GroupRule(**fields)  # type: ignore[arg-type]


def test_a_rule_matches_on_attributes() -> None:
    admin = user("a", department="IT", title="Admin")
    assert _match(IT_ADMINS, admin)[0]
    assert not _match(IT_ADMINS, user("b", department="Sales", title="Admin"))[0]


def test_an_absent_attribute_read_without_has_is_no_match_and_counted() -> None:
    matched, errors = _match('user.department == "IT"', user("a"))
    assert not matched
    assert errors.counts == {"r": 1}
    assert "department" in errors.first["r"]


def test_only_exactly_true_matches() -> None:
    assert not _match("user.userName", user("a"))[0]  # a string, not true
    assert not _match("1 == 1 ? 'yes' : 'no'", user("a"))[0]


def test_rules_see_direct_groups_and_the_users_own_fields() -> None:
    subject = User("u-1", "Ana@example.com", attributes={"tags": ("x",)}, external_id="00u1")
    assert rule_input(subject, ["B", "A"]) == {
        "user": {"tags": ["x"], "id": "u-1", "userName": "Ana@example.com", "externalId": "00u1"},
        "groups": ["A", "B"],
    }
    assert _match('"Oncall" in groups && "x" in user.tags', subject, ("Oncall",))[0]


def test_excluded_users_and_disabled_rules_never_match() -> None:
    rules = RuleSet.compile(
        [
            GroupRule("ex", "true", ("G",), exclude_users=frozenset({"a"})),
            GroupRule("off", "true", ("G",), enabled=False),
            GroupRule("on", "true", ("G",)),
        ]
    )
    assert matching_rules(rules, user("a"), (), RuleErrors()) == {"on"}


def test_changed_against_names_rules_whose_matching_differs() -> None:
    old = RuleSet.compile(
        [
            GroupRule("same", "true", ("G",)),
            GroupRule("edit", "true", ("G",)),
            GroupRule("gone", "true", ("G",)),
        ]
    )
    new = RuleSet.compile(
        [
            GroupRule(
                "same", "true", ("Other",)
            ),  # other groups, same users: not a matching change
            GroupRule("edit", "false", ("G",)),
            GroupRule("added", "true", ("G",)),
        ]
    )
    assert new.changed_against(old) == {"edit", "gone", "added"}
    assert new.assigning("G") == {"edit", "added"}
    assert new.groups_of(["same", "unknown"]) == {"Other"}
