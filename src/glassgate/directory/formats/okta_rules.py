"""Okta group rules (``/api/v1/groups/rules``) -> glassgate rules, and whose membership is whose.

A rule is translated only if all of it is: its expression (``okta_el``),
its target groups and its excluded groups must be known, and its status
must be ACTIVE or INACTIVE (an INVALID rule does nothing in Okta either).
Excluded users become ``exclude_users``; excluded groups become a
``!("Group" in groups)`` term. Groups that any ACTIVE rule fills count as
rule-filled for the translator, whether or not that rule translates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from glassgate.directory.formats.batch import ImportedUser, Untranslated
from glassgate.directory.formats.okta_el import GroupContext, cel_string, translate
from glassgate.directory.models import User
from glassgate.directory.rules import GroupRule, RuleErrors, RuleSet, matching_rules
from glassgate.errors import Problem, RulesInvalidError, UntranslatableRuleError

__all__ = ["RuleTranslation", "split_members", "translate_rules"]

_EXPRESSION_TYPE = "urn:okta:expression:1.0"


@dataclass(frozen=True)
class RuleTranslation:
    rules: tuple[GroupRule, ...]
    untranslated: tuple[Untranslated, ...]


def translate_rules(
    data: Any, groups: Mapping[str, str], problems: list[Problem]
) -> RuleTranslation:
    if data is None:
        return RuleTranslation((), ())
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        problems.append(Problem("rules.json", "must be a JSON array of group rules"))
        return RuleTranslation((), ())
    filled = frozenset(
        groups[gid]
        for item in data
        if item.get("status") == "ACTIVE"
        for gid in _get(item, "actions", "assignUserToGroups", "groupIds") or ()
        if isinstance(gid, str) and gid in groups
    )
    context = GroupContext(groups, filled)
    rules: list[GroupRule] = []
    untranslated: list[Untranslated] = []
    for item in data:
        label = f"{item.get('id')} ({item.get('name')})"
        expression = _get(item, "conditions", "expression", "value")
        try:
            rules.append(_rule(item, context))
        except (UntranslatableRuleError, RulesInvalidError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, UntranslatableRuleError) else str(exc)
            text = expression if isinstance(expression, str) else ""
            untranslated.append(Untranslated(label, text[:1000], reason[:500]))
    return RuleTranslation(tuple(rules), tuple(untranslated))


def _get(item: Any, *path: str) -> Any:
    for key in path:
        item = item.get(key) if isinstance(item, dict) else None
    return item


def _rule(item: Mapping[str, Any], context: GroupContext) -> GroupRule:
    status = item.get("status")
    if status not in ("ACTIVE", "INACTIVE"):
        raise UntranslatableRuleError(f"status {status!r}: only ACTIVE and INACTIVE rules act")
    expression = _get(item, "conditions", "expression")
    if _get(expression, "type") not in (_EXPRESSION_TYPE, None):
        raise UntranslatableRuleError(f"expression type {_get(expression, 'type')!r} is unknown")
    source = _get(expression, "value")
    if not isinstance(source, str):
        raise UntranslatableRuleError("the rule has no expression")
    cel = translate(source, context)
    excluded_groups = _ids(_get(item, "conditions", "people", "groups", "exclude"), "groups")
    names = [context.name_of(gid) for gid in excluded_groups]
    context.require_direct(set(names))
    if names:
        cel = f"({cel}) && " + " && ".join(f"!({cel_string(n)} in groups)" for n in names)
    targets = _ids(_get(item, "actions", "assignUserToGroups", "groupIds"), "target groups")
    rule = GroupRule(
        id=str(item.get("id")),
        expression=cel,
        assign=tuple(context.name_of(gid) for gid in targets),
        name=str(item.get("name") or ""),
        exclude_users=frozenset(
            _ids(_get(item, "conditions", "people", "users", "exclude"), "users")
        ),
        enabled=status == "ACTIVE",
    )
    RuleSet.compile([rule])  # raises RulesInvalidError if the translation is not valid CEL
    return rule


def _ids(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UntranslatableRuleError(f"excluded or assigned {what} are not a list of ids")
    return value


def split_members(
    users: Sequence[ImportedUser],
    groups: Mapping[str, str],
    members: Mapping[str, set[str]],
    rules: Sequence[GroupRule],
) -> tuple[dict[str, set[str]], list[str]]:
    """Direct members per group id: listed members that no enabled rule explains.

    Rules read only groups that no rule fills, whose listed members are all
    direct, so evaluating them once on the listed memberships is exact.
    """
    compiled = RuleSet.compile(rules)
    by_name = {name: gid for gid, name in groups.items()}
    direct_of: dict[str, set[str]] = {}
    for gid, ids in members.items():
        for uid in ids:
            direct_of.setdefault(uid, set()).add(groups[gid])
    matched: dict[str, set[str]] = {}  # group id -> user ids some enabled rule assigns it
    errors = RuleErrors()
    for item in users:
        user = User(item.id or "", item.user_name, item.status, item.attributes)
        hits = matching_rules(compiled, user, direct_of.get(user.id, ()), errors)
        for name in compiled.groups_of(hits):
            matched.setdefault(by_name[name], set()).add(user.id)
    direct = {gid: ids - matched.get(gid, set()) for gid, ids in members.items()}
    notes = [
        f"group {groups[gid]!r}: {len(members.get(gid, set()) & ids)} listed member(s) "
        f"kept as rule members, {len(direct.get(gid, set()))} as direct members; rules also "
        f"match {len(ids - members.get(gid, set()))} user(s) Okta does not list"
        for gid, ids in sorted(matched.items())
    ]
    notes += [
        f"rule {rid}: could not be evaluated for {n} user(s)" for rid, n in errors.counts.items()
    ]
    return direct, notes
