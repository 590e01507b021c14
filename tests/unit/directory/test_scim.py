"""directory.scim: SCIM documents <-> users and groups."""

from __future__ import annotations

import pytest

from glassgate.directory.models import Group, User, UserStatus
from glassgate.directory.scim import (
    ENTERPRISE_USER,
    group_document,
    group_from_document,
    user_document,
    user_from_document,
)

OKTA_CREATE = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER],
    "userName": "lena.ortiz@example.com",
    "name": {"givenName": "Lena", "familyName": "Ortiz"},
    "emails": [
        {"primary": False, "value": "lena@home.example", "type": "home"},
        {"primary": True, "value": "lena.ortiz@example.com", "type": "work"},
    ],
    "displayName": "Lena Ortiz",
    "title": "Identity Administrator",
    "active": True,
    "password": "hunter2-never-kept",
    "externalId": "00u1a2b3c4",
    "phoneNumbers": [{"value": "+49 30 1234", "type": "work"}],
    ENTERPRISE_USER: {
        "department": "IT",
        "manager": {"value": "u-boss"},
        "employeeNumber": "10042",
    },
}


def test_a_scim_user_becomes_a_flat_profile_without_its_password() -> None:
    user = user_from_document(OKTA_CREATE, "u-1", None)
    assert user.user_name == "lena.ortiz@example.com"
    assert user.external_id == "00u1a2b3c4"
    assert dict(user.attributes) == {
        "givenName": "Lena",
        "familyName": "Ortiz",
        "displayName": "Lena Ortiz",
        "title": "Identity Administrator",
        "department": "IT",
        "employeeNumber": "10042",
        "manager": "u-boss",
        "email": "lena.ortiz@example.com",
    }
    assert "password" not in str(user)
    assert "hunter2" not in repr(user.extra)


def test_the_document_reads_back_what_was_written() -> None:
    user = user_from_document(OKTA_CREATE, "u-1", None)
    doc = user_document(user, [("g2", "Admins", False), ("g1", "Engineering", True)])
    for key in ("userName", "name", "emails", "displayName", "title", "externalId", "phoneNumbers"):
        assert doc[key] == OKTA_CREATE[key]
    assert doc[ENTERPRISE_USER] == {
        "department": "IT",
        "employeeNumber": "10042",
        "manager": {"value": "u-boss", "$ref": "Users/u-boss"},
    }
    assert doc["groups"] == [
        {"value": "g2", "display": "Admins", "type": "indirect"},
        {"value": "g1", "display": "Engineering", "type": "direct"},
    ]
    assert doc["meta"]["version"] == 'W/"1"'  # type: ignore[index]
    assert "password" not in doc


def test_removed_active_reads_back_absent_and_keeps_the_status() -> None:
    existing = User("u-1", "a@example.com", UserStatus.SUSPENDED)
    user = user_from_document({"userName": "a@example.com"}, "u-1", existing)
    assert user.status is UserStatus.SUSPENDED
    assert "active" not in user_document(user)
    assert user_from_document({"userName": "b@example.com"}, "u-2", None).active


def test_member_display_names_and_the_manager_name_read_back() -> None:
    group = group_from_document(
        {"displayName": "A", "members": [{"value": "u1", "display": "Ana"}]}, "g"
    )
    assert group_document(group, {"u1": "a@example.com"})["members"][0]["display"] == "Ana"  # type: ignore[index]
    doc = {"userName": "a@x", ENTERPRISE_USER: {"manager": {"value": "u9", "displayName": "Boss"}}}
    enterprise = user_document(user_from_document(doc, "u-1", None))[ENTERPRISE_USER]
    assert enterprise == {"manager": {"displayName": "Boss", "value": "u9", "$ref": "Users/u9"}}


def test_imported_attributes_survive_and_scim_attributes_are_replaced() -> None:
    existing = User(
        "u-1", "a@example.com", attributes={"department": "IT", "costCenter": "C1", "badge": "7"}
    )
    user = user_from_document({"userName": "a@example.com", "active": True}, "u-1", existing)
    assert dict(user.attributes) == {"badge": "7"}


@pytest.mark.parametrize(
    ("active", "before", "after"),
    [
        (False, UserStatus.ACTIVE, UserStatus.SUSPENDED),
        (False, UserStatus.DEPROVISIONED, UserStatus.DEPROVISIONED),
        (True, UserStatus.DEPROVISIONED, UserStatus.ACTIVE),
        (True, UserStatus.SUSPENDED, UserStatus.ACTIVE),
    ],
)
def test_active_maps_onto_status(active: bool, before: UserStatus, after: UserStatus) -> None:
    existing = User("u-1", "a@example.com", before)
    assert (
        user_from_document({"userName": "a@example.com", "active": active}, "u-1", existing).status
        is after
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"userName": "a@example.com", "active": "yes"}, "active must be"),
        ({"userName": ""}, "userName"),
        ({"userName": 7}, "userName"),
        ({"userName": "a@example.com", "title": "x" * 2000}, "longer than"),
    ],
)
def test_bad_user_documents_are_refused(document: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        user_from_document(document, "u-1", None)


def test_groups_have_direct_user_members_only() -> None:
    group = group_from_document(
        {"displayName": "Admins", "members": [{"value": "u1"}, {"value": "u2", "type": "User"}]},
        "g1",
    )
    assert group.members == {"u1", "u2"}
    doc = group_document(group, {"u1": "a@example.com"})
    assert doc["members"] == [
        {"value": "u1", "$ref": "Users/u1", "type": "User", "display": "a@example.com"},
        {"value": "u2", "$ref": "Users/u2", "type": "User", "display": None},
    ]
    with pytest.raises(ValueError, match="do not nest"):
        group_from_document(
            {"displayName": "A", "members": [{"value": "g2", "type": "Group"}]}, "g1"
        )
    with pytest.raises(ValueError, match="needs a value"):
        group_from_document({"displayName": "A", "members": [{"display": "x"}]}, "g1")
    assert group_document(Group("g", "Empty"), {}).get("members") is None
