"""directory.formats.okta: an Okta API export becomes users, groups and translated rules."""

from __future__ import annotations

import json

import pytest

from glassgate.directory.formats.okta import okta_from_bundle, okta_from_files, parse_okta
from glassgate.directory.models import UserStatus
from glassgate.errors import ImportInvalidError
from tests.unit.directory.okta_fixture import ADMINS, export_files, okta_batch, okta_directory


def test_the_export_imports_with_its_rules_translated_or_listed() -> None:
    batch = okta_batch()
    assert len(batch.users) == 319
    assert {u.rule.split(" ", 1)[1] for u in batch.untranslated} == {
        "(Corporate mailbox)",
        "(SREs)",
        "(Security via Identity Engine)",
    }
    reasons = " | ".join(u.reason for u in batch.untranslated)
    assert "filled by group rules" in reasons
    assert "translated only as" in reasons
    assert batch.rules is not None
    assert len(batch.rules) == 8
    assert any("not in users.json" in note for note in batch.notes)


def test_admins_are_rule_members_exactly_as_okta_lists_them() -> None:
    directory = okta_directory()
    admins = directory.group_named("Admins")
    assert admins is not None
    assert admins.members == frozenset()
    assert directory.active_members("Admins") == ADMINS
    members = {directory.users[uid].user_name for uid in directory.effective_members("Admins")}
    assert members == {*ADMINS, "sam.walsh@example.com"}


def test_groups_of_untranslated_rules_keep_their_members_as_direct_members() -> None:
    directory = okta_directory()
    corp = directory.group_named("Corp-Email")
    assert corp is not None
    assert len(corp.members) == 319
    sre = directory.group_named("SRE")
    assert sre is not None
    assert sre.members


def test_statuses_map_to_who_can_sign_in() -> None:
    statuses = {}
    for item in json.loads(export_files()["users.json"]):
        statuses[item["profile"]["login"]] = item["status"]
    users = {u.user_name: u.status for u in okta_batch().users}
    for login, okta_status in statuses.items():
        active = okta_status in ("ACTIVE", "PASSWORD_EXPIRED")
        assert (users[login] is UserStatus.ACTIVE) is active, (login, okta_status)


def test_profile_names_become_directory_names() -> None:
    user = next(u for u in okta_batch().users if u.user_name == "lena.ortiz@example.com")
    assert user.attributes["givenName"] == "Lena"
    assert user.attributes["familyName"] == "Ortiz"
    assert "login" not in user.attributes
    assert "firstName" not in user.attributes
    assert "mobilePhone" not in user.attributes  # null in Okta: absent here


def test_a_bundle_is_the_same_export_in_one_file() -> None:
    files = export_files()
    members = {
        name.removeprefix("group-members/").removesuffix(".json"): json.loads(text)
        for name, text in files.items()
        if name.startswith("group-members/")
    }
    bundle = {
        "users": json.loads(files["users.json"]),
        "groups": json.loads(files["groups.json"]),
        "group_members": members,
        "rules": json.loads(files["rules.json"]),
    }
    from_bundle = parse_okta(okta_from_bundle(json.dumps(bundle)))
    assert from_bundle.users == okta_batch().users
    assert from_bundle.rules == okta_batch().rules


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"groups.json": "[]"}, "missing"),
        ({"users.json": "{}", "groups.json": "[]"}, "JSON array"),
        ({"users.json": "[1]", "groups.json": "[]"}, "not an Okta user"),
        (
            {
                "users.json": '[{"id": "u", "status": "WEIRD", "profile": {"login": "a"}}]',
                "groups.json": "[]",
            },
            "known status",
        ),
        (
            {
                "users.json": '[{"id": 1, "status": "ACTIVE", "profile": {"login": "a"}}]',
                "groups.json": "[]",
            },
            "string id",
        ),
        ({"users.json": "[]", "groups.json": '[{"id": "g"}]'}, "profile.name"),
        (
            {"users.json": "[]", "groups.json": "[]", "group-members/x.json": "[]"},
            "not in groups.json",
        ),
        (
            {
                "users.json": "[]",
                "groups.json": '[{"id": "g", "profile": {"name": "G"}}]',
                "group-members/g.json": "[[1]]",
            },
            "user objects or user ids",
        ),
        ({"users.json": "[", "groups.json": "[]"}, "not valid JSON"),
        ({"users.json": "[NaN]", "groups.json": "[]"}, "not usable JSON"),
        ({"users.json": "[" * 100_000 + "]" * 100_000, "groups.json": "[]"}, "not usable JSON"),
        ({"users.json": b"\xff\xfe[]", "groups.json": "[]"}, "not UTF-8"),
        ({"users.json": "[1" + "0" * 5000 + "]", "groups.json": "[]"}, "not usable JSON"),
        ({"users.json": "[]", "groups.json": "[]", "rules.json": "{}"}, "array of group rules"),
    ],
)
def test_hostile_exports_are_refused_whole(files: dict[str, str | bytes], message: str) -> None:
    with pytest.raises(ImportInvalidError, match=message):
        parse_okta(okta_from_files(files))


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ({"status": "INVALID"}, "only ACTIVE and INACTIVE"),
        ({"conditions": {"expression": {"type": "urn:other", "value": "true"}}}, "type"),
        ({"conditions": {}}, "no expression"),
        ({"actions": {"assignUserToGroups": {"groupIds": ["00gNope"]}}}, "not in the export"),
        ({"actions": {"assignUserToGroups": {"groupIds": "00gA"}}}, "not a list"),
        (
            {
                "conditions": {
                    "expression": {"value": "true"},
                    "people": {"groups": {"exclude": ["00gA"]}},
                }
            },
            "filled by group rules",
        ),
        ({"id": "bad/id"}, "rule id"),
    ],
)
def test_rules_that_cannot_be_used_are_listed_not_guessed(
    rule: dict[str, object], reason: str
) -> None:
    base: dict[str, object] = {
        "id": "0pr1",
        "name": "r",
        "status": "ACTIVE",
        "conditions": {"expression": {"type": "urn:okta:expression:1.0", "value": "true"}},
        "actions": {"assignUserToGroups": {"groupIds": ["00gA"]}},
    }
    files = {
        "users.json": "[]",
        "groups.json": json.dumps([{"id": "00gA", "profile": {"name": "A"}}]),
        "rules.json": json.dumps([{**base, **rule}]),
    }
    batch = parse_okta(okta_from_files(files))
    assert batch.rules == ()
    assert len(batch.untranslated) == 1
    assert reason in batch.untranslated[0].reason


def test_excluded_groups_become_a_condition() -> None:
    files = {
        "users.json": "[]",
        "groups.json": json.dumps(
            [{"id": "00gA", "profile": {"name": "A"}}, {"id": "00gB", "profile": {"name": 'B "x"'}}]
        ),
        "rules.json": json.dumps(
            [
                {
                    "id": "0pr1",
                    "status": "INACTIVE",
                    "conditions": {
                        "expression": {"value": 'user.department == "IT"'},
                        "people": {"groups": {"exclude": ["00gB"]}, "users": {"exclude": ["00u1"]}},
                    },
                    "actions": {"assignUserToGroups": {"groupIds": ["00gA"]}},
                }
            ]
        ),
    }
    (rule,) = parse_okta(okta_from_files(files)).rules or ()
    assert rule.expression.endswith('&& !("B \\"x\\"" in groups)')
    assert rule.exclude_users == {"00u1"}
    assert not rule.enabled
