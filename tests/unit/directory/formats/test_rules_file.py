"""directory.formats.rules_file: the rules file, hostile YAML included."""

from __future__ import annotations

import pytest

from glassgate.directory.formats.rules_file import dump_rules, load_rules, parse_rules
from glassgate.directory.rules import GroupRule
from glassgate.errors import RulesInvalidError

GOOD = """\
rules:
  - id: admins-from-it
    name: IT administrators
    expression: 'has(user.department) && user.department == "IT"'
    assign: [Admins]
    exclude_users: [u-9]
  - id: legal-draft
    expression: "true"
    assign: [Legal]
    enabled: false
"""


def test_a_rules_file_loads() -> None:
    rules = load_rules(GOOD, "rules.yaml")
    assert [r.id for r in rules] == ["admins-from-it", "legal-draft"]
    first = rules.rules[0]
    assert first.exclude_users == {"u-9"}
    assert first.name == "IT administrators"
    assert not rules.rules[1].enabled


def test_dump_reads_back_to_the_same_rules() -> None:
    rules = [
        GroupRule("a", 'user.costCenter == "$5 ${HOME} $$"', ("G",), name="dollars"),
        GroupRule("b", "true", ("G", "H"), exclude_users=frozenset({"x", "y"}), enabled=False),
    ]
    assert parse_rules(dump_rules(rules), "f") == rules


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "one key, 'rules'"),
        ("rules: 3", "one key, 'rules'"),
        ("rules: []\nextra: 1", "one key, 'rules'"),
        ("rules:\n  - 3", "must be a mapping"),
        (
            "rules:\n  - id: a\n    expression: 'true'\n    assign: [G]\n    exclude_user: [x]",
            "unknown key",
        ),
        ("rules:\n  - id: a\n    expression: 'true'\n    assign: G", "list of strings"),
        (
            "rules:\n  - id: a\n    expression: 'true'\n    assign: [G]\n    enabled: 'yes'",
            "true or false",
        ),
        ("rules:\n  - id: a\n    expression: 5\n    assign: [G]", "non-empty string"),
        ("rules:\n  - id: a\n    id: b\n    expression: 'true'\n    assign: [G]", "duplicate key"),
        ("rules: [", "not valid YAML"),
        ("rules:\n  - id: !!python/name:os.system x", "unsupported"),
        (
            "rules:\n  - id: off\n    expression: 'true'\n    assign: [G]",
            "'id' must be a non-empty string",
        ),
        ("a: &x [*x]", "too large or too deeply nested"),
        ("rules:\n  - id: a\n    expression: '${UNSET_FOR_SURE}'\n    assign: [G]", "not set"),
        (
            "rules:" + "\n  - id: x\n    expression: 'true'\n    assign: [G]" * 1001,
            "more than 1000",
        ),
        ("[" * 200 + "]" * 200, "nested"),
    ],
)
def test_hostile_files_are_refused_with_a_location(text: str, message: str) -> None:
    with pytest.raises(RulesInvalidError) as info:
        load_rules(text, "rules.yaml")
    rendered = " ".join(p.render() for p in info.value.problems)
    assert message in rendered
    assert "rules.yaml" in rendered


def test_compile_problems_carry_the_line_of_the_rule() -> None:
    text = "rules:\n  - id: a\n    expression: 'user.x =='\n    assign: [G]\n  - id: a\n    expression: 'true'\n    assign: [G]\n"
    with pytest.raises(RulesInvalidError) as info:
        load_rules(text, "rules.yaml")
    rendered = [p.render() for p in info.value.problems]
    assert rendered[0].startswith("rules.yaml:3: rules[0].expression: CEL does not parse")
    assert rendered[1].startswith("rules.yaml:5: rules[1].id: rule id 'a' is used twice")


def test_files_over_the_size_limit_are_refused() -> None:
    with pytest.raises(RulesInvalidError, match="larger than"):
        load_rules("#" * (3 * 1024 * 1024), "big.yaml")
