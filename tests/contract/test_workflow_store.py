"""The WorkflowStore contract, run against every implementation: memory, SQLite, PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from glassgate.adapters.storage.target import StorageTarget
from glassgate.adapters.storage.workflows import MemoryWorkflowStore, open_workflow_store
from glassgate.errors import ConcurrentChangeError, StorageUnavailableError
from glassgate.ports import WorkflowStore
from glassgate.workflows.stored import WorkflowRecord
from tests.support.stores import BACKEND_IDS, BACKENDS, open_stores


def rec(key: str, version: int = 1, **changes: object) -> WorkflowRecord:
    fields: dict[str, object] = {
        "kind": "bg-request",
        "key": key,
        "version": version,
        "document": {"id": key, "v": version, "nested": {"list": [1, "ü"]}},
        "a": "ops",
        "b": "pending",
    }
    fields.update(changes)
    return WorkflowRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture(params=BACKENDS, ids=BACKEND_IDS)
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], WorkflowStore]]:
    yield from open_stores(request, tmp_path, "wf.db", MemoryWorkflowStore, open_workflow_store)


@pytest.fixture
def store(opener: Callable[[], WorkflowStore]) -> WorkflowStore:
    return opener()


def test_insert_get_update(store: WorkflowStore) -> None:
    store.commit([rec("R1")])
    found = store.get("bg-request", "R1")
    assert found == rec("R1")
    store.commit([rec("R1", 2, b="approved", document={"id": "R1", "v": 2})])
    found = store.get("bg-request", "R1")
    assert found is not None
    assert (found.version, found.b, found.document) == (2, "approved", {"id": "R1", "v": 2})
    assert store.get("bg-request", "missing") is None
    assert store.get("bg-session", "R1") is None


def test_insert_twice_and_stale_update_conflict(store: WorkflowStore) -> None:
    store.commit([rec("R1")])
    with pytest.raises(ConcurrentChangeError):
        store.commit([rec("R1")])
    store.commit([rec("R1", 2)])
    with pytest.raises(ConcurrentChangeError):
        store.commit([rec("R1", 2)])  # someone else wrote version 2 already
    with pytest.raises(ConcurrentChangeError):
        store.commit([rec("R9", 2)])  # nothing to update


def test_a_batch_is_all_or_nothing(store: WorkflowStore) -> None:
    store.commit([rec("R1")])
    with pytest.raises(ConcurrentChangeError):
        store.commit([rec("R2"), rec("R1", 3)])
    assert store.get("bg-request", "R2") is None
    store.commit([rec("R2"), rec("R1", 2), rec("S1", kind="bg-session")])
    assert store.get("bg-session", "S1") is not None


def test_find_by_index_in_first_written_order(store: WorkflowStore) -> None:
    store.commit([rec("R3"), rec("R1", a="dr")])
    store.commit([rec("R2", b="approved")])
    store.commit([rec("R3", 2, b="approved")])  # updating keeps its place
    assert [r.key for r in store.find("bg-request")] == ["R3", "R1", "R2"]
    assert [r.key for r in store.find("bg-request", a="ops")] == ["R3", "R2"]
    assert [r.key for r in store.find("bg-request", b="approved")] == ["R3", "R2"]
    assert [r.key for r in store.find("bg-request", a="dr", b="pending")] == ["R1"]
    assert [r.key for r in store.find("bg-request", limit=1)] == ["R3"]
    assert store.find("bg-drill") == []


def test_purge_drops_only_expired_records_of_a_kind(store: WorkflowStore) -> None:
    store.commit(
        [
            rec("C1", kind="bg-challenge", expires_at=10.0),
            rec("C2", kind="bg-challenge", expires_at=30.0),
            rec("X1", kind="bg-console", expires_at=10.0),
            rec("R1"),
        ]
    )
    assert store.purge("bg-challenge", 20.0) == 1
    assert [r.key for r in store.find("bg-challenge")] == ["C2"]
    assert store.get("bg-console", "X1") is not None


def test_a_malformed_batch_is_a_programming_error(store: WorkflowStore) -> None:
    with pytest.raises(ValueError, match="twice"):
        store.commit([rec("R1"), rec("R1")])
    with pytest.raises(ValueError, match="start at 1"):
        store.commit([rec("R1", 0)])


def test_concurrent_writers_one_wins(opener: Callable[[], WorkflowStore]) -> None:
    first, second = opener(), opener()
    first.commit([rec("R1")])
    results: list[str] = []
    barrier = threading.Barrier(2)

    def write(store: WorkflowStore, name: str) -> None:
        barrier.wait()
        try:
            store.commit([rec("R1", 2, document={"by": name})])
            results.append(name)
        except ConcurrentChangeError:
            results.append("conflict")

    threads = [
        threading.Thread(target=write, args=(s, n)) for s, n in ((first, "a"), (second, "b"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("conflict") == 1
    final = first.get("bg-request", "R1")
    assert final is not None
    assert final.version == 2


def test_sql_rows_cannot_be_rewritten_behind_the_store(tmp_path: Path) -> None:
    path = tmp_path / "wf.db"
    store = open_workflow_store(StorageTarget("sqlite", str(path)))
    store.commit([rec("R1")])
    store.close()
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="next version"):
        conn.execute("UPDATE workflow_records SET document = '{}' WHERE key = 'R1'")
    conn.execute("UPDATE workflow_records SET document = 'not json', version = 2")
    conn.commit()
    conn.close()
    store = open_workflow_store(StorageTarget("sqlite", str(path)))
    with pytest.raises(StorageUnavailableError, match="unreadable"):
        store.get("bg-request", "R1")
    store.close()


def test_postgres_rows_cannot_be_rewritten(glassgate_postgres_dsn: str) -> None:
    store = open_workflow_store(StorageTarget("postgres", glassgate_postgres_dsn))
    store.commit([rec("P1")])
    store.close()
    with (
        psycopg.connect(glassgate_postgres_dsn, autocommit=True) as conn,
        pytest.raises(psycopg.Error, match="next version"),
    ):
        conn.execute("UPDATE workflow_records SET version = 7 WHERE key = 'P1'")


def test_grant_and_idp_sign_in_records_round_trip(store: WorkflowStore) -> None:
    """Grants (an approval inside, frozensets, floats) and IdP sign-in records, through
    the typed facade on every backend: found by person and by state, versions enforced."""
    import asyncio

    from glassgate.workflows import grants
    from glassgate.workflows.idp_sessions import IdpLogin, IdpSession
    from glassgate.workflows.records import Change, Records
    from tests.unit.workflows.test_grants import _active, filed

    class Direct:
        async def run(self, function: Callable[..., object], *args: object) -> object:
            return function(*args)

    records = Records(store, Direct())  # type: ignore[arg-type]
    pending, active = filed(), replace_id(_active(), "gr_2")
    login = IdpLogin("state-1", "nonce", "verifier", "digest", 2000.0)
    session = IdpSession(
        "s1", "hash", "https://idp", "alice", frozenset({"A", "B"}), frozenset({"pwd"}),
        None, 100, 1.0, 2.0,
    )  # fmt: skip

    async def run() -> None:
        await records.commit(Change(pending), Change(active), Change(login), Change(session))
        person = grants.person_id(pending.issuer, pending.subject)
        assert {v.value.id for v in await records.find(grants.Grant, a=person)} == {"gr_1", "gr_2"}
        approved = await records.find(grants.Grant, b="approved")
        assert [v.value for v in approved] == [active]
        found = await records.get(IdpSession, "s1")
        assert found is not None
        assert found.value == session
        stored = await records.get(IdpLogin, "state-1")
        assert stored is not None
        used = IdpLogin("state-1", "nonce", "verifier", "digest", 2000.0, used=True)
        await records.commit(Change(used, stored.version))
        with pytest.raises(ConcurrentChangeError):  # a replayed callback loses the race
            await records.commit(Change(used, stored.version))

    asyncio.run(run())


def replace_id(grant: object, grant_id: str) -> object:
    from dataclasses import replace

    from glassgate.workflows.grants import Grant

    assert isinstance(grant, Grant)
    return replace(grant, id=grant_id, approval=replace(grant.approval, id=grant_id))
