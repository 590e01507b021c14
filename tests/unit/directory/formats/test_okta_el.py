"""directory.formats.okta_el: Okta EL group-rule forms -> CEL, exactly or refused with a reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import cel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgate.directory.formats.okta_el import GroupContext, translate
from glassgate.errors import UntranslatableRuleError

GROUPS = GroupContext(
    {"00gAdmins": "Admins", "00gEng": "Engineering", "00gRoster": "Oncall Roster"},
    rule_filled=frozenset({"Engineering"}),
)


@pytest.mark.parametrize(
    ("okta", "expected"),
    [
        ('user.department == "IT"', '(has(user.department) && user.department == "IT")'),
        ("user.city=='San Francisco'", '(has(user.city) && user.city == "San Francisco")'),
        ('"IT" == user.department', '(has(user.department) && user.department == "IT")'),
        ('user.department != "IT"', '(!has(user.department) || user.department != "IT")'),
        ("user.managerId != null", "has(user.manager)"),
        ("user.managerId == null", "!has(user.manager)"),
        ('user.login == "a@b.c"', '(has(user.userName) && user.userName == "a@b.c")'),
        ("user.salary >= 1000000", "(has(user.salary) && user.salary >= 1000000)"),
        ("5 < user.level", "(has(user.level) && user.level > 5)"),
        ("!user.isContractor", "!((has(user.isContractor) && user.isContractor == true))"),
        (
            'String.stringContains(user.title, "Admin")',
            '(has(user.title) && user.title.contains("Admin"))',
        ),
        (
            'String.startsWith(user.firstName,"andy")',
            '(has(user.givenName) && user.givenName.startsWith("andy"))',
        ),
        ('isMemberOfGroupName("Oncall Roster")', '"Oncall Roster" in groups'),
        ('isMemberOfGroup("00gAdmins")', '"Admins" in groups'),
        (
            'isMemberOfAnyGroup("00gAdmins", "00gRoster")',
            '("Admins" in groups || "Oncall Roster" in groups)',
        ),
        ('isMemberOfGroupNameStartsWith("Oncall")', 'groups.exists(g, g.startsWith("Oncall"))'),
        (
            'user.a == "x" AND (user.b == "y" or NOT user.c == "z")',
            '((has(user.a) && user.a == "x") && ((has(user.b) && user.b == "y")'
            ' || !((has(user.c) && user.c == "z"))))',
        ),
        ("user.x == \"it''s\" or user.x == 'it''s'", None),  # SpEL doubled quotes
        ('user.in == "x"', '(("in" in user) && user["in"] == "x")'),
        ("TRUE", "true"),
    ],
)
def test_documented_forms_translate(okta: str, expected: str | None) -> None:
    translated = translate(okta, GROUPS)
    if expected is not None:
        assert translated == expected
    cel.compile(translated)


@pytest.mark.parametrize(
    ("okta", "reason"),
    [
        ('String.stringContains(toLowerCase(user.role),"testing")', "translated only as"),
        ("user.isMemberOf({'group.profile.name': 'Sales'})", "'{' is not translated"),
        ("user.a == user.b", "between user.<attribute> and a literal"),
        ('user.a ? "x" : "y"', "'?' is not translated"),
        ('user.firstName + "x" == "y"', "'+' is not translated"),
        ('isMemberOfGroup("00gMissing")', "not in the export's groups"),
        ('isMemberOfGroupName("Engineering")', "filled by group rules"),
        ('isMemberOfGroupNameContains("ngineer")', "filled by group rules"),
        ('isMemberOfGroupNameRegex("/.*admin.*")', "not translated"),
        ('user.title > "M"', "numbers only"),
        ("user.a < null", "has no meaning"),
        ('user.x == "a\\"b"', "backslashes"),
        ("hasWorkdayUser()", "hasWorkdayUser() is not translated"),
        ("appuser.role == 'x'", "only user.<attribute>"),
        ("user.profile.department == 'x'", "only user.<attribute>"),
        ("isMemberOfAnyGroup()", "one or more"),
        ('isMemberOfGroupName("a", "b")', "exactly one"),
        ("user.a == -1", "'-' is not translated"),
        ('"just a string"', "not a condition"),
        ("user.a == ", "expected more"),
        ("(user.a == 'x'", "expected )"),
        ("user.a == 'x')", "not translated"),
        ("user.a == 'x' #", "unexpected character"),
        ("", "empty"),
        ("(" * 60 + "true" + ")" * 60, "nests deeper"),
        ("user.a == '" + "x" * 5000 + "'", "longer than"),
        ("user.a == '\ud800'", "not valid text"),
        ("user.a == 'x\x00'", "not valid text"),
    ],
)
def test_other_forms_are_refused_with_the_reason(okta: str, reason: str) -> None:
    with pytest.raises(UntranslatableRuleError, match=re.escape(reason)):
        translate(okta, GROUPS)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_translates_or_is_refused_never_crashes(text: str) -> None:
    try:
        translated = translate(text, GROUPS)
    except UntranslatableRuleError:
        return
    cel.compile(translated)


# --- exactness: translated rules decide like Okta's semantics on random users ----------

Evaluator = Callable[[dict[str, Any], list[str]], bool]
_STRING_ATTRS = ("department", "title")


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


_words = st.sampled_from(["IT", "Sales", "Admin", "it", "", "Sr Admin", 'say "hi"'])


@st.composite
def _leaf(draw: st.DrawFn) -> tuple[str, Evaluator]:
    kind = draw(
        st.sampled_from(
            ["eq", "ne", "null", "notnull", "contains", "starts", "ge", "flag", "group"]
        )
    )
    attr = draw(st.sampled_from(_STRING_ATTRS))
    word = draw(_words)
    number = draw(st.integers(-3, 3).map(abs))
    if kind == "eq":
        return f"user.{attr} == {_quote(word)}", lambda u, g: u.get(attr) == word
    if kind == "ne":
        return f"user.{attr} != {_quote(word)}", lambda u, g: u.get(attr) != word
    if kind == "null":
        return f"user.{attr} == null", lambda u, g: attr not in u
    if kind == "notnull":
        return f"user.{attr} != null", lambda u, g: attr in u
    if kind == "contains":
        return (
            f"String.stringContains(user.{attr}, {_quote(word)})",
            lambda u, g: attr in u and word in u[attr],
        )
    if kind == "starts":
        return (
            f"String.startsWith(user.{attr}, {_quote(word)})",
            lambda u, g: attr in u and u[attr].startswith(word),
        )
    if kind == "ge":
        return f"user.level >= {number}", lambda u, g: "level" in u and u["level"] >= number
    if kind == "flag":
        return "user.contractor", lambda u, g: u.get("contractor") is True
    return f"isMemberOfGroupName({_quote(word)})", lambda u, g: word in g


def _combine(
    children: st.SearchStrategy[tuple[str, Evaluator]],
) -> st.SearchStrategy[tuple[str, Evaluator]]:
    def both(op: str, a: tuple[str, Evaluator], b: tuple[str, Evaluator]) -> tuple[str, Evaluator]:
        (sa, fa), (sb, fb) = a, b
        if op in ("AND", "&&", "and"):
            return f"({sa} {op} {sb})", lambda u, g: fa(u, g) and fb(u, g)
        return f"({sa} {op} {sb})", lambda u, g: fa(u, g) or fb(u, g)

    def negate(op: str, a: tuple[str, Evaluator]) -> tuple[str, Evaluator]:
        return f"{op} ({a[0]})", lambda u, g: not a[1](u, g)

    return st.one_of(
        st.builds(
            both, st.sampled_from(["AND", "OR", "&&", "||", "and", "or"]), children, children
        ),
        st.builds(negate, st.sampled_from(["!", "NOT ", "not "]), children),
    )


_expressions = st.recursive(_leaf(), _combine, max_leaves=8)
_users = st.fixed_dictionaries(
    {},
    optional={
        "department": _words,
        "title": _words,
        "level": st.integers(0, 4),
        "contractor": st.booleans(),
    },
)


@settings(max_examples=400, deadline=None)
@given(_expressions, _users, st.lists(_words, max_size=3))
def test_translations_decide_exactly_like_okta(
    expression: tuple[str, Evaluator], user: dict[str, Any], groups: list[str]
) -> None:
    source, expected = expression
    program = cel.compile(translate(source, GROUPS))
    assert program.execute({"user": user, "groups": groups}) is expected(user, groups)
