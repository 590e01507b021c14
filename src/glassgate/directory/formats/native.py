"""glassgate's own directory JSON: what ``directory export --json`` writes and import reads.

    {"format": "glassgate-directory/1",
     "users":  [{"id": "u1", "userName": "ana@example.com", "status": "active",
                 "externalId": "00u1", "attributes": {"department": "IT"}}],
     "groups": [{"id": "g1", "name": "Admins", "externalId": null, "members": ["u1"]}],
     "rules":  [{"id": "...", "expression": "...", "assign": ["Admins"]}]}

``id`` may be left out on import (users are then matched by userName, groups
by name); ``rules`` may be left out (the rule set stays as it is). Members
are user ids. Exported membership is *direct* membership: rule-derived
members are recomputed from the rules on import.
"""

from __future__ import annotations

import json
from typing import Any

from glassgate.directory.formats._json import load_json
from glassgate.directory.formats.batch import ImportBatch, ImportedGroup, ImportedUser
from glassgate.directory.formats.rules_file import rule_from_mapping
from glassgate.directory.models import AttrValue, UserStatus, attributes_json
from glassgate.directory.rules import GroupRule
from glassgate.directory.state import Directory
from glassgate.errors import ImportInvalidError, Problem
from glassgate.types import JSONValue

__all__ = ["FORMAT", "export_json", "parse_json"]

FORMAT = "glassgate-directory/1"
_TOP = frozenset({"format", "users", "groups", "rules"})
_USER_KEYS = frozenset({"id", "userName", "status", "externalId", "attributes"})
_GROUP_KEYS = frozenset({"id", "name", "externalId", "members"})


def export_json(directory: Directory) -> str:
    users: list[JSONValue] = [
        {
            "id": user.id,
            "userName": user.user_name,
            "status": user.status.value,
            "externalId": user.external_id,
            "attributes": attributes_json(user.attributes),
        }
        for user in sorted(directory.users.values(), key=lambda u: u.key)
    ]
    groups: list[JSONValue] = [
        {
            "id": group.id,
            "name": group.name,
            "externalId": group.external_id,
            "members": sorted(group.members),
        }
        for group in sorted(directory.groups.values(), key=lambda g: g.name.casefold())
    ]
    rules: list[JSONValue] = [_rule_json(rule) for rule in directory.rules.rules]
    document = {"format": FORMAT, "users": users, "groups": groups, "rules": rules}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _rule_json(rule: GroupRule) -> JSONValue:
    return {
        "id": rule.id,
        "name": rule.name,
        "expression": rule.expression,
        "assign": list(rule.assign),
        "exclude_users": sorted(rule.exclude_users),
        "enabled": rule.enabled,
    }


def parse_json(text: str | bytes, where: str = "import") -> ImportBatch:
    """An ``ImportBatch`` from glassgate JSON; ``ImportInvalidError`` lists every problem."""
    data = load_json(text, where)
    problems: list[Problem] = []
    if not isinstance(data, dict) or set(data) - _TOP or data.get("format", FORMAT) != FORMAT:
        raise ImportInvalidError(
            [Problem(where, f"expected an object with {sorted(_TOP)} and format {FORMAT!r}")]
        )
    users = _items(data, "users", _user, problems)
    groups = _items(data, "groups", _group, problems)
    rules = _items(data, "rules", rule_from_mapping, problems) if "rules" in data else None
    if problems:
        raise ImportInvalidError(problems)
    return ImportBatch(tuple(users), tuple(groups), None if rules is None else tuple(rules))


def _items(data: dict[str, Any], key: str, build: Any, problems: list[Problem]) -> list[Any]:
    items = data.get(key, [])
    if not isinstance(items, list):
        problems.append(Problem(key, "must be a list"))
        return []
    built: list[Any] = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise ValueError("must be an object")
            built.append(build(item))
        except ValueError as exc:
            problems.append(Problem(f"{key}[{index}]", str(exc)))
    return built


def _user(item: dict[str, Any]) -> ImportedUser:
    _only(item, _USER_KEYS)
    attributes = item.get("attributes", {})
    if not isinstance(attributes, dict):
        raise ValueError("attributes must be an object")
    return ImportedUser(
        user_name=_string(item.get("userName"), "userName"),
        status=UserStatus(item.get("status", "active")),
        attributes={k: _attribute(v) for k, v in attributes.items() if v is not None},
        id=_optional(item.get("id"), "id"),
        external_id=_optional(item.get("externalId"), "externalId"),
    )


def _group(item: dict[str, Any]) -> ImportedGroup:
    _only(item, _GROUP_KEYS)
    members = item.get("members", [])
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise ValueError("members must be a list of user ids")
    return ImportedGroup(
        name=_string(item.get("name"), "name"),
        member_ids=tuple(members),
        id=_optional(item.get("id"), "id"),
        external_id=_optional(item.get("externalId"), "externalId"),
    )


def _only(item: dict[str, Any], keys: frozenset[str]) -> None:
    unknown = sorted(set(item) - keys)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown}; allowed: {sorted(keys)}")


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _optional(value: Any, key: str) -> str | None:
    return None if value is None else _string(value, key)


def _attribute(value: Any) -> AttrValue:
    """JSON -> attribute value; lists become tuples (models checks the rest)."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        raise ValueError("attribute values cannot be objects")
    return value  # type: ignore[no-any-return]
