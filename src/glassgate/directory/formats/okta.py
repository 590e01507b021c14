"""Okta API exports -> an ``ImportBatch``: users, groups with members, and group rules.

The input is what Okta's Management API returns, saved as files:

    users.json                   GET /api/v1/users            (a JSON array of users)
    groups.json                  GET /api/v1/groups           (a JSON array of groups)
    group-members/<groupId>.json GET /api/v1/groups/{id}/users (one file per group)
    rules.json                   GET /api/v1/groups/rules     (optional)

or the same four parts in one object: ``{"users": [...], "groups": [...],
"group_members": {"<groupId>": [...]}, "rules": [...]}``.

Statuses map to what can sign in: ACTIVE and PASSWORD_EXPIRED are active;
SUSPENDED, LOCKED_OUT, RECOVERY, STAGED and PROVISIONED are suspended (they
cannot sign in now); DEPROVISIONED is deprovisioned. Rule expressions are
translated by ``okta_el``; a rule that cannot be translated exactly is left
out and listed with the reason. Okta lists rule-assigned members among a
group's members: members that an imported rule matches become rule members
(so a changed rule can remove them, as in Okta); the others stay direct.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from glassgate.directory.formats._json import load_json
from glassgate.directory.formats.batch import ImportBatch, ImportedGroup, ImportedUser
from glassgate.directory.formats.okta_el import OKTA_ATTRIBUTES
from glassgate.directory.formats.okta_rules import split_members, translate_rules
from glassgate.directory.models import AttrValue, UserStatus, check_attribute_name
from glassgate.errors import ImportInvalidError, Problem

__all__ = ["OktaExport", "okta_from_bundle", "okta_from_files", "parse_okta"]

_STATUS = {
    "ACTIVE": UserStatus.ACTIVE,
    "PASSWORD_EXPIRED": UserStatus.ACTIVE,
    "SUSPENDED": UserStatus.SUSPENDED,
    "LOCKED_OUT": UserStatus.SUSPENDED,
    "RECOVERY": UserStatus.SUSPENDED,
    "STAGED": UserStatus.SUSPENDED,
    "PROVISIONED": UserStatus.SUSPENDED,
    "DEPROVISIONED": UserStatus.DEPROVISIONED,
}


@dataclass
class OktaExport:
    """The four parts of an export, as parsed JSON."""

    users: Any
    groups: Any
    members: Mapping[str, Any] = field(default_factory=dict)
    rules: Any = None


def okta_from_files(files: Mapping[str, str | bytes]) -> OktaExport:
    """From file names (relative to the export folder) to their contents."""
    for required in ("users.json", "groups.json"):
        if required not in files:
            raise ImportInvalidError([Problem(required, "missing from the Okta export")])
    members = {
        name.removeprefix("group-members/").removesuffix(".json"): load_json(text, name)
        for name, text in files.items()
        if name.startswith("group-members/") and name.endswith(".json")
    }
    rules = load_json(files["rules.json"], "rules.json") if "rules.json" in files else None
    users = load_json(files["users.json"], "users.json")
    return OktaExport(users, load_json(files["groups.json"], "groups.json"), members, rules)


def okta_from_bundle(text: str | bytes, where: str = "okta.json") -> OktaExport:
    data = load_json(text, where)
    allowed = {"users", "groups", "group_members", "rules"}
    if not isinstance(data, dict) or not {"users", "groups"} <= set(data) <= allowed:
        message = f"expected an object with users, groups and optionally {sorted(allowed)}"
        raise ImportInvalidError([Problem(where, message)])
    members = data.get("group_members", {})
    if not isinstance(members, dict):
        raise ImportInvalidError([Problem(f"{where}: group_members", "must be an object")])
    return OktaExport(data["users"], data["groups"], members, data.get("rules"))


def parse_okta(export: OktaExport) -> ImportBatch:
    """The batch for an Okta export; ``ImportInvalidError`` for a malformed one."""
    problems: list[Problem] = []
    notes: list[str] = []
    users = _users(export.users, problems, notes)
    names = _group_names(export.groups, problems)
    members = _members(export.members, names, {u.id for u in users if u.id}, problems, notes)
    if problems:
        raise ImportInvalidError(problems)
    outcome = translate_rules(export.rules, names, problems)
    if problems:
        raise ImportInvalidError(problems)
    direct, split_notes = split_members(users, names, members, outcome.rules)
    groups = tuple(
        ImportedGroup(name, tuple(sorted(direct.get(group_id, ()))), id=group_id)
        for group_id, name in names.items()
    )
    return ImportBatch(
        users=tuple(users),
        groups=groups,
        rules=None if export.rules is None else outcome.rules,
        untranslated=outcome.untranslated,
        notes=(*notes, *split_notes),
    )


def _list(value: Any, where: str, problems: list[Problem]) -> list[Any]:
    if not isinstance(value, list):
        problems.append(Problem(where, "must be a JSON array (the API response body)"))
        return []
    return value


def _users(data: Any, problems: list[Problem], notes: list[str]) -> list[ImportedUser]:
    users: list[ImportedUser] = []
    dropped: dict[str, int] = {}
    for index, item in enumerate(_list(data, "users.json", problems)):
        where = f"users.json[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("profile"), dict):
            problems.append(Problem(where, "not an Okta user (no profile object)"))
            continue
        status = _STATUS.get(item.get("status"))  # type: ignore[arg-type]
        login = item["profile"].get("login")
        if not isinstance(item.get("id"), str) or not isinstance(login, str) or status is None:
            problems.append(Problem(where, "needs a string id, profile.login and a known status"))
            continue
        attributes = _profile(item["profile"], dropped)
        users.append(ImportedUser(login, status, attributes, id=item["id"]))
    for name, count in sorted(dropped.items()):
        notes.append(f"profile attribute {name!r} left out on {count} user(s): not a usable value")
    return users


def _profile(profile: Mapping[str, Any], dropped: dict[str, int]) -> dict[str, AttrValue]:
    attributes: dict[str, AttrValue] = {}
    for okta_name, value in profile.items():
        if okta_name == "login" or value is None:
            continue
        name = OKTA_ATTRIBUTES.get(okta_name, okta_name)
        converted = _value(value)
        try:
            check_attribute_name(name)
        except ValueError:
            converted = None
        if converted is None:
            dropped[okta_name] = dropped.get(okta_name, 0) + 1
        else:
            attributes[name] = converted
    return attributes


def _value(value: Any) -> AttrValue | None:
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def _group_names(data: Any, problems: list[Problem]) -> dict[str, str]:
    names: dict[str, str] = {}
    for index, raw in enumerate(_list(data, "groups.json", problems)):
        item = raw if isinstance(raw, dict) else {}
        profile = item.get("profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        if not isinstance(item.get("id"), str) or not isinstance(name, str):
            problems.append(Problem(f"groups.json[{index}]", "needs a string id and profile.name"))
            continue
        names[item["id"]] = name
    return names


def _members(
    data: Mapping[str, Any],
    groups: Mapping[str, str],
    user_ids: set[str],
    problems: list[Problem],
    notes: list[str],
) -> dict[str, set[str]]:
    members: dict[str, set[str]] = {}
    for group_id, items in data.items():
        where = f"group-members/{group_id}.json"
        if group_id not in groups:
            problems.append(Problem(where, "names a group that is not in groups.json"))
            continue
        listed = _list(items, where, problems)
        found = [item.get("id") if isinstance(item, dict) else item for item in listed]
        ids = {member for member in found if isinstance(member, str)}
        if len(ids) != len(set(map(repr, found))):
            problems.append(Problem(where, "members must be user objects or user ids"))
            continue
        unknown = ids - user_ids
        if unknown:
            notes.append(
                f"group {groups[group_id]!r}: {len(unknown)} member(s) not in users.json "
                "left out (Okta lists no DEPROVISIONED users by default)"
            )
        members[group_id] = ids & user_ids
    return members
