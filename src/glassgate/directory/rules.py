"""Group rules: CEL expressions over a user's attributes that assign groups (SPEC C6).

A rule sees two variables: ``user`` (the flat profile, plus ``id``,
``userName`` and, when set, ``externalId``) and ``groups`` (the names of the
user's *direct* groups: never groups that rules assign, so rules cannot feed
each other and the result does not depend on their order). A rule matches
when its expression is exactly ``true``; ``false``, another value or an
evaluation error (an absent attribute read without ``has()``, a type clash)
is no match, and errors are counted so that simulation shows them.

Each expression is compiled once, when the rule set is built; functions
outside the CEL standard set are refused then, not discovered per user.
Only directory users are ever evaluated: break-glass accounts and custodians
are not users, so no rule can reach them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from glassgate.core.criteria.condition import compile_expression
from glassgate.directory.models import User, attributes_json, check_identifier, check_name
from glassgate.errors import Problem, RulesInvalidError

__all__ = ["CompiledRule", "GroupRule", "RuleErrors", "RuleSet", "compile_rule", "rule_input"]

MAX_EXPRESSION = 4096
MAX_RULES = 1000
_VARIABLES = frozenset({"user", "groups"})
# CEL's standard functions and operators as the evaluator names them; anything
# else (a typo such as ``lowerAscii``) would fail for every user at run time.
_FUNCTIONS = frozenset(
    {
        "!_", "-_", "@in", "@not_strictly_false", "_!=_", "_%_", "_&&_", "_*_", "_+_", "_-_",
        "_/_", "_<=_", "_<_", "_==_", "_>=_", "_>_", "_?_:_", "_[_]", "_||_", "bool",
        "contains", "double", "dyn", "endsWith", "int", "matches", "max", "min", "size",
        "startsWith", "string", "type", "uint",
    }
)  # fmt: skip
_TYPE_NAMES = frozenset({"bool", "bytes", "double", "int", "list", "map", "string", "type", "uint"})
_MACRO_VARIABLE = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)")


@dataclass(frozen=True, slots=True)
class GroupRule:
    """A rule as written: ``expression`` decides, ``assign`` names the groups it fills.

    ``exclude_users`` are user ids the rule never assigns (Okta's "except
    these users"); a disabled rule assigns nothing (Okta's INACTIVE).
    """

    id: str
    expression: str
    assign: tuple[str, ...]
    name: str = ""
    exclude_users: frozenset[str] = frozenset()
    enabled: bool = True

    def __post_init__(self) -> None:
        check_identifier(self.id, "rule id", limit=64)
        if not isinstance(self.expression, str) or not self.expression.strip():
            raise ValueError(f"rule {self.id}: expression must be a non-empty string")
        if len(self.expression) > MAX_EXPRESSION:
            raise ValueError(f"rule {self.id}: expression is longer than {MAX_EXPRESSION}")
        if not self.assign:
            raise ValueError(f"rule {self.id}: assign names no group")
        for group in self.assign:
            check_name(group, f"rule {self.id}: group")
        for user_id in self.exclude_users:
            check_identifier(user_id, f"rule {self.id}: excluded user id")
        object.__setattr__(self, "exclude_users", frozenset(self.exclude_users))

    @property
    def matching(self) -> tuple[str, frozenset[str], bool]:
        """What decides *who* matches; two rules equal here match the same users."""
        return (self.expression, self.exclude_users, self.enabled)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: GroupRule
    program: Any = field(repr=False, compare=False)  # cel.Program, opaque to mypy

    @property
    def id(self) -> str:
        return self.rule.id


def compile_rule(rule: GroupRule) -> CompiledRule:
    """Compile one rule, or raise ``RulesInvalidError`` saying why it cannot be used."""
    try:
        program = compile_expression(rule.expression).program
    except ValueError as exc:  # also UnicodeError: lone surrogates
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RulesInvalidError(
            [_problem(rule, f"CEL does not parse: {first_line[:300]}")]
        ) from exc
    unknown = set(program.functions()) - _FUNCTIONS
    if unknown:
        message = f"unknown function(s) {sorted(unknown)}; rules may use CEL's standard ones"
        raise RulesInvalidError([_problem(rule, message)])
    bound = set(_MACRO_VARIABLE.findall(rule.expression))
    strays = set(program.variables()) - _VARIABLES - _TYPE_NAMES - bound
    if strays:
        message = f"unknown variable(s) {sorted(strays)}; a rule sees only 'user' and 'groups'"
        raise RulesInvalidError([_problem(rule, message)])
    return CompiledRule(rule, program)


def _problem(rule: GroupRule, message: str) -> Problem:
    return Problem(location=f"rules[{rule.id}].expression", message=message)


class RuleSet:
    """Compiled rules in their written order, with lookups by id and by target group."""

    __slots__ = ("_by_id", "_rules")

    def __init__(self, rules: Sequence[CompiledRule] = ()) -> None:
        self._rules = tuple(rules)
        self._by_id = {compiled.id: compiled for compiled in self._rules}

    @classmethod
    def compile(cls, rules: Iterable[GroupRule]) -> RuleSet:
        """Compile every rule; ``RulesInvalidError`` lists every problem, not just the first."""
        compiled: list[CompiledRule] = []
        problems: list[Problem] = []
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                problems.append(_problem(rule, f"rule id {rule.id!r} is used twice"))
                continue
            seen.add(rule.id)
            try:
                compiled.append(compile_rule(rule))
            except RulesInvalidError as exc:
                problems.extend(exc.problems)
        if len(seen) > MAX_RULES:
            problems.append(Problem("rules", f"more than {MAX_RULES} rules"))
        if problems:
            raise RulesInvalidError(problems)
        return cls(compiled)

    def __iter__(self) -> Any:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def get(self, rule_id: str) -> CompiledRule | None:
        return self._by_id.get(rule_id)

    @property
    def rules(self) -> tuple[GroupRule, ...]:
        return tuple(compiled.rule for compiled in self._rules)

    def groups_of(self, rule_ids: Iterable[str]) -> frozenset[str]:
        """The group names that the rules ``rule_ids`` assign."""
        by_id = self._by_id
        return frozenset(g for rid in rule_ids if rid in by_id for g in by_id[rid].rule.assign)

    def assigning(self, group: str) -> frozenset[str]:
        """Ids of the rules that assign ``group``."""
        return frozenset(c.id for c in self._rules if group in c.rule.assign)

    def changed_against(self, other: RuleSet) -> frozenset[str]:
        """Ids whose matching differs between ``self`` and ``other`` (added and removed too)."""
        ids = set(self._by_id) | set(other._by_id)
        return frozenset(
            rid
            for rid in ids
            if rid not in self._by_id
            or rid not in other._by_id
            or self._by_id[rid].rule.matching != other._by_id[rid].rule.matching
        )


@dataclass
class RuleErrors:
    """Evaluation failures per rule: how many users, and the first message seen."""

    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, str] = field(default_factory=dict)

    def add(self, rule_id: str, exc: Exception) -> None:
        self.counts[rule_id] = self.counts.get(rule_id, 0) + 1
        if rule_id not in self.first:
            text = str(exc).splitlines()[0] if str(exc) else ""
            self.first[rule_id] = f"{type(exc).__name__}: {text[:200]}"


def rule_input(user: User, direct_groups: Iterable[str]) -> dict[str, Any]:
    """The variables a rule sees for ``user``."""
    profile: dict[str, Any] = attributes_json(user.attributes)
    profile["id"] = user.id
    profile["userName"] = user.user_name
    if user.external_id is not None:
        profile["externalId"] = user.external_id
    return {"user": profile, "groups": sorted(direct_groups)}


def matching_rules(
    rules: Iterable[CompiledRule],
    user: User,
    direct_groups: Iterable[str],
    errors: RuleErrors,
) -> frozenset[str]:
    """Ids of the ``rules`` that match ``user``; one CEL context serves them all."""
    import cel  # noqa: PLC0415 - see core.criteria.condition: cel pulls in a CLI

    context: Any = None
    matched: list[str] = []
    for compiled in rules:
        rule = compiled.rule
        if not rule.enabled or user.id in rule.exclude_users:
            continue
        if context is None:
            context = cel.Context(rule_input(user, direct_groups))
        try:
            result = compiled.program.execute(context)
        except Exception as exc:  # noqa: BLE001 - any evaluator failure is "no match", counted
            errors.add(rule.id, exc)
            continue
        if result is True:
            matched.append(rule.id)
    return frozenset(matched)
