"""The ApiKeyStore contract, run against every implementation: memory, SQLite, PostgreSQL."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from glassgate.adapters.storage.api_keys import (
    PostgresApiKeyStore,
    SqliteApiKeyStore,
    open_api_key_store,
)
from glassgate.adapters.storage.api_keys.memory import MemoryApiKeyStore
from glassgate.adapters.storage.target import StorageTarget
from glassgate.errors import StorageUnavailableError
from glassgate.ports import ApiKeyStore
from glassgate.tokens.api_keys import ApiKeyRecord, hash_secret
from tests.support.stores import BACKEND_IDS, BACKENDS, open_stores

T0 = 1_790_000_000.0


def record(index: int, **changes: object) -> ApiKeyRecord:
    key_id = f"{index:012d}".translate(str.maketrans("0123456789", "abcdefghij"))
    fields: dict[str, object] = {
        "key_id": key_id,
        "name": f"bot-{index}",
        "subject": f"svc:bot-{index}",
        "secret_hash": hash_secret(key_id, f"secret-{index}"),
        "groups": frozenset({"robots", f"team-{index}"}),
        "routes": frozenset({"machine", "reports"}),
        "quota_tier": "small",
        "created_at": T0 + index,
        "expires_at": T0 + 86_400,
        "created_by": "cli:ops",
    }
    fields.update(changes)
    return ApiKeyRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture(params=BACKENDS, ids=BACKEND_IDS)
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], ApiKeyStore]]:
    yield from open_stores(request, tmp_path, "keys.db", MemoryApiKeyStore, open_api_key_store)


@pytest.fixture
def store(opener: Callable[[], ApiKeyStore]) -> ApiKeyStore:
    return opener()


def test_implements_the_port(store: ApiKeyStore) -> None:
    assert isinstance(store, ApiKeyStore)


def test_empty_store(store: ApiKeyStore) -> None:
    assert store.records() == []
    assert store.get("aaaaaaaaaaaa") is None
    assert store.revoke("aaaaaaaaaaaa", T0) is None


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="case=full"),
        pytest.param(
            {"routes": None, "quota_tier": None, "expires_at": None, "created_by": None},
            id="case=no-scope-no-tier-never-expires",
        ),
        pytest.param({"groups": frozenset()}, id="case=no-groups"),
        pytest.param(
            {"subject": "spiffe://prod/ns/ci/sa/déploy ✓", "groups": frozenset({"Ａdmins"})},
            id="case=unicode-kept-exactly",
        ),
        pytest.param({"created_at": T0 + 0.123456}, id="case=sub-second-times"),
    ],
)
def test_round_trip(store: ApiKeyStore, changes: dict[str, object]) -> None:
    original = record(1, **changes)
    assert store.add(original) is True
    assert store.get(original.key_id) == original
    assert store.records() == [original]


def test_a_taken_key_id_is_refused_and_nothing_changes(store: ApiKeyStore) -> None:
    first = record(1)
    assert store.add(first)
    assert store.add(dataclasses.replace(first, subject="svc:intruder")) is False
    assert store.get(first.key_id) == first


def test_records_are_oldest_first(store: ApiKeyStore) -> None:
    for index in (3, 1, 2):
        store.add(record(index))
    assert [item.name for item in store.records()] == ["bot-1", "bot-2", "bot-3"]


def test_revoke_is_one_way_and_idempotent(store: ApiKeyStore) -> None:
    store.add(record(1))
    store.add(record(2))
    revoked = store.revoke(record(1).key_id, T0 + 50, "cli:ops")
    assert revoked == dataclasses.replace(record(1), revoked_at=T0 + 50, revoked_by="cli:ops")
    again = store.revoke(record(1).key_id, T0 + 99, "cli:someone-else")
    assert again == revoked  # the first revocation stands
    assert store.get(record(2).key_id) == record(2)  # only that key


def test_values_are_data(store: ApiKeyStore) -> None:
    store.add(record(1))
    assert store.get("x' OR '1'='1") is None
    assert store.revoke("x' OR '1'='1", T0) is None
    assert store.get(record(1).key_id) == record(1)


def test_a_change_through_one_store_is_seen_by_another(
    opener: Callable[[], ApiKeyStore],
) -> None:
    """The CLI and the gateway hold separate connections to one database."""
    cli, gateway = opener(), opener()
    cli.add(record(1))
    assert gateway.get(record(1).key_id) == record(1)
    cli.revoke(record(1).key_id, T0 + 5)
    found = gateway.get(record(1).key_id)
    assert found is not None
    assert found.revoked_at == T0 + 5


def test_threads_share_one_store(store: ApiKeyStore) -> None:
    def work(offset: int) -> None:
        for index in range(10):
            store.add(record(offset + index))
            store.get(record(offset + index).key_id)

    threads = [threading.Thread(target=work, args=(n * 100,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.records()) == 40


# --- database backends only ----------------------------------------------------------


def _sqlite(path: str, statement: str) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


_TAMPERING = [
    pytest.param("UPDATE api_keys SET revoked_at = NULL", id="case=un-revoke"),
    pytest.param("UPDATE api_keys SET group_names = '[\"admins\"]'", id="case=widen-groups"),
    pytest.param("UPDATE api_keys SET route_ids = NULL", id="case=drop-scope"),
    pytest.param("UPDATE api_keys SET expires_at = NULL", id="case=never-expire"),
    pytest.param("UPDATE api_keys SET secret_hash = 'x'", id="case=swap-digest"),
]


@pytest.mark.parametrize("statement", _TAMPERING)
def test_sqlite_rows_change_only_by_revocation(tmp_path: Path, statement: str) -> None:
    path = str(tmp_path / "keys.db")
    store = open_api_key_store(StorageTarget("sqlite", path))
    store.add(record(1))
    store.revoke(record(1).key_id, T0 + 1)
    store.close()
    with pytest.raises(sqlite3.IntegrityError, match="only by revocation"):
        _sqlite(path, statement)


@pytest.mark.parametrize("statement", _TAMPERING)
def test_postgres_rows_change_only_by_revocation(
    glassgate_postgres_dsn: str, statement: str
) -> None:
    store = open_api_key_store(StorageTarget("postgres", glassgate_postgres_dsn))
    store.add(record(1))
    store.revoke(record(1).key_id, T0 + 1)
    store.close()
    with (
        psycopg.connect(glassgate_postgres_dsn) as conn,
        pytest.raises(psycopg.errors.RaiseException, match="only by revocation"),
    ):
        conn.execute(statement.encode())


def test_an_unreadable_row_is_refused_not_guessed(tmp_path: Path) -> None:
    path = str(tmp_path / "keys.db")
    store = open_api_key_store(StorageTarget("sqlite", path))
    try:
        conn = sqlite3.connect(path)
        conn.execute(
            "INSERT INTO api_keys (key_id, name, subject, secret_hash, group_names, created_at, "
            "expires_at) VALUES ('aaaaaaaaaaaa', 'x', 's', ?, '{\"not\": \"a list\"}', 1, 'NaN')",
            (hash_secret("aaaaaaaaaaaa", "s"),),
        )
        conn.commit()
        conn.close()
        with pytest.raises(StorageUnavailableError, match="unreadable"):
            store.get("aaaaaaaaaaaa")
    finally:
        store.close()


def test_old_schema_is_refused_with_a_hint(tmp_path: Path, postgres_dsn: str) -> None:
    with pytest.raises(StorageUnavailableError, match="glassgate db upgrade"):
        SqliteApiKeyStore.open(str(tmp_path / "empty.db"))
    with pytest.raises(StorageUnavailableError, match="glassgate db upgrade"):
        PostgresApiKeyStore.open(postgres_dsn)


def test_a_0001_database_is_upgraded_to_add_the_table(tmp_path: Path) -> None:
    from alembic import command

    from glassgate.adapters.storage.migrate import _alembic_config, _engine

    target = StorageTarget("sqlite", str(tmp_path / "old.db"))
    engine = _engine(target)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0001")
    engine.dispose()
    store = open_api_key_store(target)  # migrates 0001 -> head
    try:
        assert store.add(record(1))
    finally:
        store.close()


def test_unreachable_database_raises_storage_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailableError):
        open_api_key_store(StorageTarget("sqlite", str(tmp_path / "no" / "such" / "x.db")))
    dsn = "host=127.0.0.1 port=1 user=glassgate password=hunter2 dbname=x"
    with pytest.raises(StorageUnavailableError) as caught:
        open_api_key_store(StorageTarget("postgres", dsn, timeout=1))
    assert "hunter2" not in str(caught.value)


def test_repr_never_shows_the_dsn() -> None:
    store = PostgresApiKeyStore("host=x password=hunter2", name="postgres://x/")
    assert "hunter2" not in repr(store)
