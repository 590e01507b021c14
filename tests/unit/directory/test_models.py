"""directory.models: users and groups refuse bad values when built."""

from __future__ import annotations

import pytest

from glassgate.directory.models import Group, User, UserStatus, stamp


@pytest.mark.parametrize(
    "uid",
    ["", " ", "a/b", "a\x00b", "a\nb", " lead", "x" * 129, 5, None],
    ids=lambda v: f"case={v!r}"[:30],
)
def test_user_ids_are_safe_path_segments(uid: object) -> None:
    with pytest.raises(ValueError, match="user id"):
        User(uid, "ana@example.com")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("attributes", "match"),
    [
        ({"1bad": "x"}, "not an identifier"),
        ({"a-b": "x"}, "not an identifier"),
        ({"userName": "x"}, "reserved"),
        ({"id": "x"}, "reserved"),
        ({"a": float("nan")}, "finite"),
        ({"a": float("inf")}, "finite"),
        ({"a": "x" * 1025}, "longer"),
        ({"a": "a\x00b"}, "NUL"),
        ({"a": {"nested": 1}}, "must be a string"),
        ({"a": ("x",) * 101}, "must be a string"),
        ({"a": (1, 2)}, "list of short strings"),
        ({f"a{i}": "x" for i in range(129)}, "at most 128"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_hostile_attributes_are_refused(attributes: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        User("u1", "ana@example.com", attributes=attributes)  # type: ignore[arg-type]


def test_attributes_are_frozen_and_userName_compares_without_case() -> None:
    user = User("u1", "Ana@Example.com", attributes={"department": "IT", "tags": ("a", "b")})
    assert user.key == "ana@example.com"
    with pytest.raises(TypeError):
        user.attributes["department"] = "HR"  # type: ignore[index]
    assert user.active
    assert not User("u2", "b@example.com", UserStatus.SUSPENDED).active


def test_status_must_be_a_status() -> None:
    with pytest.raises(ValueError, match="status"):
        User("u1", "ana@example.com", "active")  # type: ignore[arg-type]


def test_group_members_are_checked_ids() -> None:
    with pytest.raises(ValueError, match="member id"):
        Group("g1", "Admins", frozenset({"ok", "bad/id"}))
    with pytest.raises(ValueError, match="group name"):
        Group("g1", "Admins\n")


def test_stamp_counts_versions_and_keeps_creation_time() -> None:
    first = stamp(User("u1", "ana@example.com"), None, 10.0)
    assert (first.version, first.created, first.modified) == (1, 10.0, 10.0)
    second = stamp(User("u1", "ana@example.com", UserStatus.SUSPENDED), first, 20.0)
    assert (second.version, second.created, second.modified) == (2, 10.0, 20.0)
