"""What an import file says, before it touches the directory, and how it becomes changes.

Every import format (glassgate JSON, CSV, an Okta export) is parsed into an
``ImportBatch``; ``to_changes`` then resolves it against the current
directory: a user is matched by id, else by userName; a group by id, else by
name; members given by userName are looked up in the batch first, then in
the directory. A user in the file gets the file's status and attributes
(all of them: an attribute missing from the file is removed); an absent
externalId keeps the current one. Users and groups not in the file are left
alone. A batch that
carries rules replaces the whole rule set. The changes are applied and
guarded as one, so an import is refused whole or applied whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from glassgate.directory.changes import Change, PutGroup, PutUser, ReplaceRules
from glassgate.directory.models import AttrValue, Group, User, UserStatus, stamp
from glassgate.directory.rules import GroupRule, RuleSet
from glassgate.directory.state import Directory
from glassgate.errors import ImportInvalidError, Problem

__all__ = ["ImportBatch", "ImportedGroup", "ImportedUser", "Untranslated", "to_changes"]

_EMPTY: Mapping[str, AttrValue] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ImportedUser:
    user_name: str
    status: UserStatus = UserStatus.ACTIVE
    attributes: Mapping[str, AttrValue] = field(default_factory=lambda: _EMPTY)
    id: str | None = None
    external_id: str | None = None
    groups: tuple[str, ...] | None = None  # its complete direct groups by name; None: unchanged


@dataclass(frozen=True, slots=True)
class ImportedGroup:
    """A group and its complete list of direct members (it replaces the current one)."""

    name: str
    member_ids: tuple[str, ...] = ()
    member_names: tuple[str, ...] = ()  # userNames, for formats that have no ids
    id: str | None = None
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class Untranslated:
    """A rule from the source that was left out, and why (never guessed)."""

    rule: str  # the source's id and name
    expression: str
    reason: str


@dataclass(frozen=True)
class ImportBatch:
    users: tuple[ImportedUser, ...] = ()
    groups: tuple[ImportedGroup, ...] = ()
    rules: tuple[GroupRule, ...] | None = None  # None: the rule set is left as it is
    untranslated: tuple[Untranslated, ...] = ()
    notes: tuple[str, ...] = ()  # what a person should know about the translation


def to_changes(
    batch: ImportBatch, directory: Directory, new_id: Callable[[], str], now: float
) -> list[Change]:
    """The changes that apply ``batch`` to ``directory``; ``ImportInvalidError`` lists
    every user or group that cannot be resolved or is invalid."""
    problems: list[Problem] = []
    changes: list[Change] = []
    ids_by_name: dict[str, str] = {}
    for index, item in enumerate(batch.users):
        existing = directory.user(item.id) if item.id else directory.user_named(item.user_name)
        user_id = item.id or (existing.id if existing else new_id())
        external_id = item.external_id or (existing.external_id if existing else None)
        try:
            user = User(
                user_id, item.user_name, item.status, item.attributes, external_id,
                extra=existing.extra if existing else MappingProxyType({}),
            )  # fmt: skip
        except ValueError as exc:
            problems.append(Problem(f"users[{index}]", str(exc)))
            continue
        changes.append(PutUser(stamp(user, existing, now)))
        ids_by_name[user.key] = user_id
    groups = list(batch.groups) + _listed_groups(batch, directory, ids_by_name, problems)
    for index, group in enumerate(groups):
        change = _group_change(group, directory, ids_by_name, new_id, now)
        if isinstance(change, Problem):
            problems.append(Problem(f"groups[{index}]", change.message))
        else:
            changes.append(change)
    if batch.rules is not None:
        changes.append(ReplaceRules(RuleSet.compile(batch.rules)))
    if problems:
        raise ImportInvalidError(problems)
    return changes


def _listed_groups(
    batch: ImportBatch,
    directory: Directory,
    ids_by_name: Mapping[str, str],
    problems: list[Problem],
) -> list[ImportedGroup]:
    """Groups whose members change because users list their groups (CSV's groups column)."""
    adds: dict[str, set[str]] = {}
    removes: dict[str, set[str]] = {}
    for item in batch.users:
        user_id = ids_by_name.get(item.user_name.casefold())
        if item.groups is None or user_id is None:
            continue
        wanted = set(item.groups)
        for name in wanted:
            adds.setdefault(name, set()).add(user_id)
        for name in directory.direct_groups(user_id) - wanted:
            removes.setdefault(name, set()).add(user_id)
    explicit = {group.name for group in batch.groups}
    clash = sorted(explicit & (adds.keys() | removes.keys()))
    if clash:
        problems.append(
            Problem("groups", f"group(s) {clash} are given both as groups and per user")
        )
        return []
    listed: list[ImportedGroup] = []
    for name in sorted(adds.keys() | removes.keys()):
        existing = directory.group_named(name)
        current = existing.members if existing else frozenset()
        members = (current - removes.get(name, set())) | adds.get(name, set())
        if existing is None:
            listed.append(ImportedGroup(name, tuple(sorted(members))))
        else:
            listed.append(
                ImportedGroup(name, tuple(sorted(members)), (), existing.id, existing.external_id)
            )
    return listed


def _group_change(
    item: ImportedGroup,
    directory: Directory,
    ids_by_name: Mapping[str, str],
    new_id: Callable[[], str],
    now: float,
) -> PutGroup | Problem:
    members = set(item.member_ids)
    for name in item.member_names:
        user_id = ids_by_name.get(name.casefold())
        if user_id is None:
            user = directory.user_named(name)
            if user is None:
                return Problem("", f"group {item.name!r}: member {name!r} is not a user")
            user_id = user.id
        members.add(user_id)
    existing = directory.group(item.id) if item.id else directory.group_named(item.name)
    try:
        group = Group(
            item.id or (existing.id if existing else new_id()),
            item.name,
            frozenset(members),
            item.external_id or (existing.external_id if existing else None),
        )
    except ValueError as exc:
        return Problem("", f"group {item.name!r}: {exc}")
    return PutGroup(stamp(group, existing, now))
