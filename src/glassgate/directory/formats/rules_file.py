"""The group-rules file (YAML or JSON): read for ``rules simulate`` / ``rules apply``.

    rules:
      - id: admins-from-it                    # unique; letters, digits, . _ -
        name: IT administrators               # optional label
        expression: 'has(user.department) && user.department == "IT"'
        assign: [Admins]                      # group names
        exclude_users: [00u1a2b3c4]           # optional user ids
        enabled: true                         # optional; false assigns nothing

Unknown keys are errors (a misspelt ``exclude_user`` must not silently
exclude nobody). Every problem is reported with its line; a file with any
problem is refused whole. ``${VAR}`` would be expanded like the main config,
so a literal ``${`` is written ``$${``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from glassgate.config.source import Located, Path, format_path, parse_yaml
from glassgate.directory.rules import MAX_RULES, CompiledRule, GroupRule, RuleSet, compile_rule
from glassgate.errors import Problem, RulesInvalidError

__all__ = ["dump_rules", "load_rules", "parse_rules", "rule_from_mapping"]

MAX_FILE_BYTES = 2 * 1024 * 1024
_KEYS = frozenset({"id", "name", "expression", "assign", "exclude_users", "enabled"})


def load_rules(text: str, filename: str) -> RuleSet:
    """Parse and compile; ``RulesInvalidError`` lists every problem with its line."""
    reader = _reader(text, filename)
    compiled: list[CompiledRule] = []
    seen: set[str] = set()
    for index, rule in reader.read():
        path: Path = ("rules", index)
        if rule.id in seen:
            reader.add((*path, "id"), f"rule id {rule.id!r} is used twice")
            continue
        seen.add(rule.id)
        try:
            compiled.append(compile_rule(rule))
        except RulesInvalidError as exc:
            for problem in exc.problems:
                reader.add((*path, "expression"), problem.message)
    if reader.problems:
        raise RulesInvalidError(reader.problems)
    return RuleSet(compiled)


def parse_rules(text: str, filename: str) -> list[GroupRule]:
    """The rules as written, not compiled (``RulesInvalidError`` for a malformed file)."""
    reader = _reader(text, filename)
    rules = [rule for _, rule in reader.read()]
    if reader.problems:
        raise RulesInvalidError(reader.problems)
    return rules


def _reader(text: str, filename: str) -> _Reader:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        problem = Problem(
            "", f"the rules file is larger than {MAX_FILE_BYTES} bytes", file=filename
        )
        raise RulesInvalidError([problem])
    return _Reader(parse_yaml(text, filename, env={}), filename)


class _Reader:
    def __init__(self, located: Located, filename: str) -> None:
        self.located = located
        self.filename = filename
        self.problems = list(located.problems)

    def add(self, path: Path, message: str) -> None:
        line = self.located.line_of(path)
        self.problems.append(Problem(format_path(path), message, file=self.filename, line=line))

    def read(self) -> list[tuple[int, GroupRule]]:
        """(index, rule) for every well-formed rule; problems for the others."""
        data = self.located.data
        if self.problems:
            return []
        items = data.get("rules") if isinstance(data, dict) else None
        if not isinstance(items, list) or set(data) != {"rules"}:
            self.add((), "expected a mapping with one key, 'rules': a list of rules")
            return []
        if len(items) > MAX_RULES:
            self.add(("rules",), f"more than {MAX_RULES} rules")
            return []
        rules = ((index, self.rule(("rules", index), item)) for index, item in enumerate(items))
        return [(index, rule) for index, rule in rules if rule is not None]

    def rule(self, path: Path, item: Any) -> GroupRule | None:
        if not isinstance(item, dict):
            self.add(path, "a rule must be a mapping")
            return None
        try:
            return rule_from_mapping(item)
        except ValueError as exc:
            self.add(path, str(exc))
            return None


def rule_from_mapping(item: dict[str, Any]) -> GroupRule:
    """One rule from its mapping form (YAML or JSON); ``ValueError`` says what is wrong."""
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown}; allowed: {sorted(_KEYS)}")
    return GroupRule(
        id=_text(item.get("id"), "id"),
        expression=_text(item.get("expression"), "expression"),
        assign=tuple(_texts(item.get("assign"), "assign")),
        name=_text(item.get("name", ""), "name", allow_empty=True),
        exclude_users=frozenset(_texts(item.get("exclude_users", []), "exclude_users")),
        enabled=_flag(item.get("enabled", True)),
    )


def _text(value: Any, key: str, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not allow_empty):
        raise ValueError(f"'{key}' must be a non-empty string")
    return value


def _texts(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"'{key}' must be a list of strings")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("'enabled' must be true or false")
    return value


def dump_rules(rules: Sequence[GroupRule]) -> str:
    """The rules as a rules file that ``load_rules`` reads back to the same rules."""
    items: list[dict[str, Any]] = []
    for rule in rules:
        item: dict[str, Any] = {"id": rule.id}
        if rule.name:
            item["name"] = rule.name
        item["expression"] = rule.expression
        item["assign"] = list(rule.assign)
        if rule.exclude_users:
            item["exclude_users"] = sorted(rule.exclude_users)
        if not rule.enabled:
            item["enabled"] = False
        items.append(item)
    body = yaml.safe_dump({"rules": items}, sort_keys=False, allow_unicode=True, width=10_000)
    return body.replace("$", "$$")  # read back through the ${VAR} expansion unchanged
