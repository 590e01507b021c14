"""web.scim_patch: Entra ID's PATCH forms rewritten, everything else untouched."""

from __future__ import annotations

import json

import pytest

from glassgate.web.scim_patch import add_missing_typed_values, normalise_patch

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MANAGER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"


def _body(*operations: object) -> bytes:
    return json.dumps({"schemas": [PATCH], "Operations": list(operations)}).encode()


def test_entra_member_removals_become_filtered_removes() -> None:
    body = _body({"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": 'u"2'}]})
    assert json.loads(normalise_patch(body))["Operations"] == [
        {"op": "remove", "path": 'members[value eq "u1"]'},
        {"op": "remove", "path": 'members[value eq "u\\"2"]'},
    ]


def test_a_bare_manager_id_becomes_a_manager_object() -> None:
    body = _body({"op": "Replace", "path": MANAGER, "value": "u9"})
    assert json.loads(normalise_patch(body))["Operations"] == [
        {"op": "Replace", "path": MANAGER, "value": {"value": "u9"}}
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[" * 100_000,
        b"[]",
        b'{"Operations": "x"}',
        _body({"op": "remove", "path": 'members[value eq "u1"]'}),
        _body({"op": "remove", "path": "members"}),  # remove every member: standard
        _body({"op": "remove", "path": "members", "value": []}),
        _body({"op": "remove", "path": "members", "value": [{"value": "u1"}, {"display": "x"}]}),
        _body({"op": "remove", "path": "members", "value": [{"value": 5}]}),
        _body({"op": "remove", "path": "members", "value": "u1"}),
        _body({"op": "replace", "path": MANAGER, "value": {"value": "u9"}}),
        _body({"op": "replace", "value": {"active": False}}),
        _body("junk", 5, None),
        _body({"op": 1, "path": "members", "value": [{"value": "u1"}]}),
    ],
)
def test_anything_else_passes_through_untouched(body: bytes) -> None:
    assert normalise_patch(body) == body


def test_a_typed_value_the_user_lacks_is_added_not_targeted() -> None:
    operations = [
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": "a@b"},
        {"op": "replace", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1"},
        {"op": "replace", "path": 'emails[type eq "home"].value', "value": "h@b"},
        {"op": "remove", "path": 'emails[type eq "other"].value'},
        {"op": "add", "path": "title", "value": "x"},
    ]
    current = {"emails": [{"type": "home", "value": "old@b"}]}
    assert add_missing_typed_values(operations, current) == [
        {"op": "add", "path": "emails", "value": [{"type": "work", "value": "a@b"}]},
        {"op": "add", "path": "phoneNumbers", "value": [{"type": "mobile", "value": "+1"}]},
        operations[2],
        operations[3],
        operations[4],
    ]
