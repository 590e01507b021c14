"""The DirectoryStore contract, run against every implementation: memory, SQLite, PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from glassgate.adapters.storage.directory import MemoryDirectoryStore, open_directory_store
from glassgate.adapters.storage.target import StorageTarget
from glassgate.directory.changes import (
    DeleteGroup,
    DeleteUser,
    PutGroup,
    PutUser,
    ReplaceRules,
    apply,
    build,
)
from glassgate.directory.models import Group, User, UserStatus
from glassgate.directory.records import DirectoryWrites, diff
from glassgate.directory.rules import GroupRule, RuleSet
from glassgate.errors import DirectoryConflictError, StorageUnavailableError
from glassgate.ports import DirectoryStore, ScimTokenStore
from glassgate.tokens.api_keys import ApiKeyRecord, hash_secret
from tests.support.stores import BACKEND_IDS, BACKENDS, open_stores

ANA = User(
    "u-ana",
    "Ana@Example.com",
    UserStatus.ACTIVE,
    {
        "department": "IT",
        "title": "Admin",
        "tags": ("a", "b"),
        "level": 3,
        "ratio": 0.5,
        "flag": True,
    },
    external_id="00u1",
    extra={"phoneNumbers": [{"value": "+1", "type": "work"}]},
    version=3,
    created=10.0,
    modified=20.0,
)
BEN = User("u-ben", "ben@example.com", UserStatus.SUSPENDED)
ADMINS = Group(
    "g-admins",
    "Admins",
    frozenset({"u-ana", "u-ben"}),
    "00gA",
    {"glassgate:memberDisplay": {"u-ana": "Ana"}},
    2,
    1.0,
    2.0,
)
RULES = (
    GroupRule(
        "it",
        'has(user.department) && user.department == "IT"',
        ("Admins",),
        name="IT",
        exclude_users=frozenset({"u-ben"}),
    ),
    GroupRule("off", "true", ("Legal", "Admins"), enabled=False),
)


@pytest.fixture(params=BACKENDS, ids=BACKEND_IDS)
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    yield from open_stores(
        request, tmp_path, "directory.db", MemoryDirectoryStore, open_directory_store
    )


@pytest.fixture
def store(opener: Callable[[], Any]) -> Any:
    return opener()


def test_implements_the_ports(store: Any) -> None:
    assert isinstance(store, DirectoryStore)
    assert isinstance(store, ScimTokenStore)


def _seed(store: Any) -> int:
    return int(
        store.commit(
            DirectoryWrites(put_users=(ANA, BEN), put_groups=(ADMINS,), rules=RULES),
            store.revision(),
        )
    )


def test_a_new_store_is_empty_at_revision_zero(store: Any) -> None:
    loaded = store.load()
    assert (loaded.users, loaded.groups, loaded.rules, loaded.revision) == ((), (), (), 0)


def test_what_is_committed_loads_back_exactly(store: Any) -> None:
    assert _seed(store) == 1
    loaded = store.load()
    assert loaded.revision == 1
    users = {u.id: u for u in loaded.users}
    assert users == {"u-ana": ANA, "u-ben": BEN}
    ana = users["u-ana"]
    assert dict(ana.attributes) == dict(ANA.attributes)
    assert dict(ana.extra) == dict(ANA.extra)
    assert (ana.version, ana.created, ana.modified) == (3, 10.0, 20.0)
    (group,) = loaded.groups
    assert group == ADMINS
    assert group.members == ADMINS.members
    assert dict(group.extra) == dict(ADMINS.extra)
    assert loaded.rules == RULES


def test_a_commit_planned_on_an_old_revision_writes_nothing(opener: Callable[[], Any]) -> None:
    first, second = opener(), opener()
    _seed(first)
    with pytest.raises(DirectoryConflictError):
        second.commit(DirectoryWrites(delete_users=("u-ana",)), 0)
    assert {u.id for u in second.load().users} == {"u-ana", "u-ben"}
    assert second.revision() == 1


def test_diffs_of_snapshots_apply_through_the_store(store: Any) -> None:
    _seed(store)
    before = build(store.load().users, store.load().groups, RuleSet.compile(store.load().rules))
    swapped_names = [
        PutUser(replace(ANA, user_name="tmp@example.com")),
        PutUser(replace(BEN, user_name="ana@example.com")),
        PutUser(replace(ANA, user_name="ben@example.com")),
    ]
    after = apply(
        before,
        [*swapped_names, PutGroup(replace(ADMINS, members=frozenset({"u-ben"}), name="Admins2"))],
    )
    store.commit(diff(before, after), 1)
    loaded = store.load()
    assert {u.id: u.user_name for u in loaded.users} == {
        "u-ana": "ben@example.com",
        "u-ben": "ana@example.com",
    }
    assert [(g.name, g.members) for g in loaded.groups] == [("Admins2", frozenset({"u-ben"}))]
    final = apply(after, [DeleteUser("u-ben"), DeleteGroup("g-admins"), ReplaceRules(RuleSet())])
    store.commit(diff(after, final), 2)
    loaded = store.load()
    assert [u.id for u in loaded.users] == ["u-ana"]
    assert (loaded.groups, loaded.rules, loaded.revision) == ((), (), 3)


def test_a_change_by_one_store_is_seen_by_another(opener: Callable[[], Any]) -> None:
    writer, reader = opener(), opener()
    assert reader.revision() == 0
    _seed(writer)
    assert reader.revision() == 1
    assert len(reader.load().users) == 2


def _token(index: int, at: float) -> ApiKeyRecord:
    key_id = "scimtoken" + chr(ord("a") + index) * 3
    return ApiKeyRecord(
        key_id=key_id,
        name=f"okta-{index}",
        subject="scim",
        secret_hash=hash_secret(key_id, "s"),
        created_at=at,
        created_by="cli:ops",
    )


def test_scim_tokens_are_added_once_and_revoked_one_way(store: Any) -> None:
    assert store.add_scim_token(_token(1, 100.0))
    assert not store.add_scim_token(_token(1, 100.0))
    assert store.add_scim_token(_token(2, 200.0))
    assert store.revoke_scim_tokens(300.0, "cli:ops", keep="scimtokenccc") == 1
    first, second = store.scim_tokens()
    assert (first.key_id, first.revoked_at, first.revoked_by) == ("scimtokenbbb", 300.0, "cli:ops")
    assert (second.key_id, second.revoked_at) == ("scimtokenccc", None)
    assert second.subject == "scim"
    assert store.revoke_scim_tokens(400.0, None) == 1
    assert store.revoke_scim_tokens(500.0, None) == 0
    assert [t.revoked_at for t in store.scim_tokens()] == [300.0, 400.0]


def test_an_unreadable_row_is_an_error_never_a_guess(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "directory.db"
    store = open_directory_store(StorageTarget("sqlite", str(path)))
    _seed(store)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE directory_users SET status = 'godmode' WHERE id = 'u-ana'")
    with pytest.raises(StorageUnavailableError, match="unreadable"):
        store.load()
    store.close()
