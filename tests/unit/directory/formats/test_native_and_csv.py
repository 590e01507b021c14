"""directory.formats.native and csv_users: round trips, merging, hostile files."""

from __future__ import annotations

import itertools
import json

import pytest

from glassgate.directory.changes import apply
from glassgate.directory.formats.batch import to_changes
from glassgate.directory.formats.csv_users import export_csv, parse_csv
from glassgate.directory.formats.native import export_json, parse_json
from glassgate.directory.models import UserStatus
from glassgate.directory.state import Directory
from glassgate.errors import DirectoryNotFoundError, ImportInvalidError
from tests.unit.directory._build import admins_by_rule


def _load(directory: Directory, batch):  # type: ignore[no-untyped-def]
    counter = itertools.count()
    return apply(directory, to_changes(batch, directory, lambda: f"new{next(counter)}", 5.0))


def test_json_export_imports_back_to_the_same_directory() -> None:
    original = admins_by_rule(2, others=2)
    copy = _load(Directory.empty(), parse_json(export_json(original)))
    assert export_json(copy) == export_json(original)
    assert copy.active_members("Admins") == original.active_members("Admins")


def test_json_import_matches_users_by_userName_and_bumps_versions() -> None:
    start = admins_by_rule(1)
    document = {
        "users": [
            {
                "userName": "ADMIN0@example.com",
                "status": "suspended",
                "attributes": {"department": "IT"},
            }
        ]
    }
    after = _load(start, parse_json(json.dumps(document)))
    user = after.user("admin0")
    assert user is not None
    assert user.status is UserStatus.SUSPENDED
    assert user.version == 2
    assert user.modified == 5.0
    assert user.user_name == "ADMIN0@example.com"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "expected an object"),
        ('{"format": "other/1"}', "expected an object"),
        ('{"users": {}}', "must be a list"),
        ('{"users": [1]}', "must be an object"),
        ('{"users": [{"userName": "a", "password": "x"}]}', "unknown key"),
        ('{"users": [{"userName": 5}]}', "userName must be a string"),
        ('{"users": [{"userName": "a", "status": "gone"}]}', "not a valid UserStatus"),
        ('{"users": [{"userName": "a", "attributes": {"x": {"y": 1}}}]}', "objects"),
        ('{"users": [{"userName": "a", "attributes": []}]}', "attributes must be an object"),
        ('{"groups": [{"name": "G", "members": [1]}]}', "list of user ids"),
        ('{"rules": [{"id": "r"}]}', "non-empty string"),
    ],
)
def test_hostile_json_is_refused(text: str, message: str) -> None:
    with pytest.raises(ImportInvalidError) as info:
        parse_json(text)
    assert message in " ".join(p.message for p in info.value.problems)


def test_invalid_values_are_refused_when_resolved_and_nothing_applies() -> None:
    batch = parse_json(
        '{"users": [{"userName": "ok@x"}, {"userName": "bad\\u0000"}, {"userName": "x", "id": "a/b"}]}'
    )
    with pytest.raises(ImportInvalidError) as info:
        to_changes(batch, Directory.empty(), lambda: "id", 1.0)
    assert [p.location for p in info.value.problems] == ["users[1]", "users[2]"]


def test_unknown_members_are_refused() -> None:
    with pytest.raises(DirectoryNotFoundError):
        _load(Directory.empty(), parse_json('{"groups": [{"name": "G", "members": ["ghost"]}]}'))


CSV = """\ufeffuserName,status,groups,department,title
ana@example.com,active,Admins;Oncall,IT,Admin
ben@example.com,SUSPENDED,,Sales,
"""


def test_csv_users_with_their_groups() -> None:
    directory = _load(Directory.empty(), parse_csv(CSV))
    ana = directory.user_named("ana@example.com")
    ben = directory.user_named("ben@example.com")
    assert ana is not None
    assert ben is not None
    assert directory.direct_groups(ana.id) == {"Admins", "Oncall"}
    assert ben.status is UserStatus.SUSPENDED
    assert "title" not in ben.attributes
    moved = _load(directory, parse_csv("userName,groups\nana@example.com,Oncall\n"))
    assert moved.direct_groups(ana.id) == {"Oncall"}
    assert "department" not in (moved.user(ana.id) or ana).attributes  # the file is the profile


def test_csv_export_is_safe_for_spreadsheets_and_reads_back() -> None:
    directory = _load(
        Directory.empty(), parse_csv('userName,note\nana@example.com,=HYPERLINK("x")\n')
    )
    exported = export_csv(directory)
    assert "'=HYPERLINK" in exported
    again = _load(Directory.empty(), parse_csv(exported))
    assert export_csv(again).splitlines()[1:] != []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("id,status\n1,active\n", "no userName column"),
        ("userName,userName\na,b\n", "twice"),
        ("userName,bad-name\na,b\n", "not an identifier"),
        ("userName,password\na,b\n", "names a secret"),
        ("userName,api_token\na,b\n", "names a secret"),
        ("userName\na\nA\n", "twice"),
        ("userName,title\na\n", "cell(s) where the header has 2"),
        ("userName,status\na,gone\n", "is not active"),
        ("userName\na\x00\n", "NUL"),
        ("userName," + ",".join(f"c{i}" for i in range(201)) + "\n", "more than 200 columns"),
        ('userName\n"' + "x" * 200_000 + '"\n', "not readable as CSV"),
        ('userName\n"unterminated\n', "not readable as CSV"),
    ],
)
def test_hostile_csv_is_refused(text: str, message: str) -> None:
    with pytest.raises(ImportInvalidError) as info:
        parse_csv(text)
    assert message in " ".join(p.message for p in info.value.problems)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("userName\n\u2028\n", "userName"),
        ("userName,id\na,x/y\n", "user id"),
    ],
)
def test_csv_the_parser_accepts_is_still_refused_when_resolved(text: str, message: str) -> None:
    with pytest.raises(ImportInvalidError, match=message):
        to_changes(parse_csv(text), Directory.empty(), lambda: "id", 1.0)
