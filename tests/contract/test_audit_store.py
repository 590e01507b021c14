"""The AuditStore contract, run against every implementation: memory, SQLite, PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg import sql

from glassgate.adapters.storage.audit import PostgresAuditStore, SqliteAuditStore, open_audit_store
from glassgate.adapters.storage.audit._sql import search_sql
from glassgate.adapters.storage.audit.memory import MemoryAuditStore
from glassgate.adapters.storage.migrate import alembic_head, upgrade
from glassgate.adapters.storage.migrations import SCHEMA_HEAD
from glassgate.adapters.storage.target import StorageTarget
from glassgate.audit.chain import GENESIS, ChainHead, verify
from glassgate.audit.checkpoints import Checkpoint, key_id, sign_checkpoint
from glassgate.audit.query import AuditQuery
from glassgate.audit.records import AuditRecord
from glassgate.audit.verification import iter_stored, verify_log
from glassgate.errors import ChainBrokenError, StorageUnavailableError
from glassgate.ports import AuditStore, CheckpointLog
from tests.support.audit import T0, checkpoint_at, event
from tests.support.postgres import ThrowawayPostgres
from tests.support.stores import BACKEND_IDS, BACKENDS, empty_target, migrate_to, open_stores


@pytest.fixture(params=BACKENDS, ids=BACKEND_IDS)
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], AuditStore]]:
    yield from open_stores(request, tmp_path, "audit.db", MemoryAuditStore, open_audit_store)


@pytest.fixture
def store(opener: Callable[[], AuditStore]) -> AuditStore:
    return opener()


def test_implements_the_ports(store: AuditStore) -> None:
    assert isinstance(store, AuditStore)
    assert isinstance(store, CheckpointLog)


def test_empty_store(store: AuditStore) -> None:
    assert store.head() == GENESIS
    assert store.scan() == []
    assert store.search(AuditQuery()) == []
    assert store.checkpoints() == []
    assert store.append([]) == []


def test_append_links_and_returns_what_was_written(store: AuditStore) -> None:
    written = store.append([event(0), event(1), event(2)])
    assert [record.seq for record in written] == [1, 2, 3]
    assert written[0].prev == GENESIS.hash
    assert written[2].prev == written[1].hash
    assert store.head() == ChainHead(3, written[2].hash)
    assert [item.body for item in store.scan()] == [record.body for record in written]
    assert [item.stored_hash for item in store.scan()] == [record.hash for record in written]


def test_appends_continue_one_chain(store: AuditStore) -> None:
    for index in range(5):
        store.append([event(index * 2), event(index * 2 + 1)])
    report = verify_log(store)
    assert report.records == 10
    assert report.head == store.head()


def test_bytes_round_trip_exactly(store: AuditStore) -> None:
    details = {"note": "Grüße, 東京 ✓", "nested": {"list": [1, 2.5, None, True]}}
    written = store.append([event(0, details=details)])[0]
    assert store.scan()[0].body == written.body
    found = store.search(AuditQuery())[0]
    assert found == written
    assert found.details["note"] == "Grüße, 東京 ✓"


def test_scan_pages_in_order(store: AuditStore) -> None:
    store.append([event(index) for index in range(7)])
    first = store.scan(0, 3)
    second = store.scan(3, 3)
    rest = store.scan(6, 3)
    assert [item.row for item in first + second + rest] == list(range(1, 8))
    assert len(list(iter_stored(store, page=2))) == 7


@pytest.fixture
def filled(store: AuditStore) -> AuditStore:
    store.append(
        [
            event(0),  # allow user-0 route-0
            event(1),  # deny user-1 route-1
            event(2, type="breakglass.activate", outcome="ok", actor="custodian-1"),
            event(3, type="breakglassx", outcome="ok"),
            event(4, type="breakglass", outcome="ok"),
            event(5, subject="user-1", outcome="step-up"),
        ]
    )
    return store


@pytest.mark.parametrize(
    ("query", "seqs"),
    [
        pytest.param(AuditQuery(), [6, 5, 4, 3, 2, 1], id="case=all-newest-first"),
        pytest.param(AuditQuery(ascending=True, limit=2), [1, 2], id="case=ascending-limit"),
        pytest.param(AuditQuery(subject="user-1"), [6, 2], id="case=subject"),
        pytest.param(AuditQuery(actor="custodian-1"), [3], id="case=actor"),
        pytest.param(AuditQuery(route="route-1"), [6, 4, 2], id="case=route"),
        pytest.param(AuditQuery(outcome="deny"), [2], id="case=outcome"),
        pytest.param(AuditQuery(type="breakglass"), [5, 3], id="case=type-prefix"),
        pytest.param(AuditQuery(type="breakglass.activate"), [3], id="case=type-exact"),
        pytest.param(AuditQuery(type="breakglas%"), [], id="case=type-like-wildcard-escaped"),
        pytest.param(AuditQuery(type="decision_"), [], id="case=type-underscore-escaped"),
        pytest.param(AuditQuery(type="decision"), [6, 2, 1], id="case=type-decision"),
        pytest.param(
            AuditQuery(since="2026-09-21T14:13:22.000000Z", until="2026-09-21T14:13:24.000000Z"),
            [4, 3],
            id="case=time-window",
        ),
        pytest.param(
            AuditQuery(subject="user-1", outcome="step-up", route="route-1"), [6], id="case=and"
        ),
        pytest.param(AuditQuery(after_seq=4, ascending=True), [5, 6], id="case=after-seq"),
    ],
)
def test_search(filled: AuditStore, query: AuditQuery, seqs: list[int]) -> None:
    assert [record.seq for record in filled.search(query)] == seqs


def test_search_treats_values_as_data(filled: AuditStore) -> None:
    assert filled.search(AuditQuery(subject="x' OR '1'='1")) == []
    assert filled.head().seq == 6


def test_checkpoints_are_kept_once_in_order(store: AuditStore) -> None:
    key = Ed25519PrivateKey.generate()
    records = store.append([event(index) for index in range(5)])
    late, early = checkpoint_at(records[4], key), checkpoint_at(records[1], key)
    store.add_checkpoint(late)
    store.add_checkpoint(early)
    store.add_checkpoint(late)
    assert store.checkpoints() == [early, late]


def test_threads_sharing_one_store_extend_one_chain(store: AuditStore) -> None:
    def work(offset: int) -> None:
        for index in range(20):
            store.append([event(offset + index)])

    threads = [threading.Thread(target=work, args=(n * 100,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert verify(iter_stored(store)).records == 80


def test_two_connections_extend_one_chain(opener: Callable[[], AuditStore]) -> None:
    first, second = opener(), opener()
    for index in range(10):
        (first if index % 2 else second).append([event(index), event(index + 100)])
    assert verify(iter_stored(first)).records == 20
    assert first.head() == second.head()


# --- database backends only ----------------------------------------------------------


def _tamper_sqlite(path: str, statement: str) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_records SET outcome = 'x'", "DELETE FROM audit_records"]
)
def test_sqlite_tables_refuse_updates_and_deletes(tmp_path: Path, statement: str) -> None:
    path = str(tmp_path / "audit.db")
    store = open_audit_store(StorageTarget("sqlite", path))
    store.append([event(0)])
    store.close()
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        _tamper_sqlite(path, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET outcome = 'x'",
        "DELETE FROM audit_records",
        "TRUNCATE audit_records",
    ],
)
def test_postgres_tables_refuse_updates_deletes_and_truncate(
    glassgate_postgres_dsn: str, statement: str
) -> None:
    store = open_audit_store(StorageTarget("postgres", glassgate_postgres_dsn))
    store.append([event(0)])
    store.close()
    with (
        psycopg.connect(glassgate_postgres_dsn) as conn,
        pytest.raises(psycopg.errors.RaiseException, match="append-only"),
    ):
        conn.execute(sql.SQL(statement))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_privileged_type_search_reads_the_partial_index_not_every_decision(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    target = empty_target(backend, tmp_path, "types.db", request)
    store = open_audit_store(target)
    try:
        store.append([event(index) for index in range(3000)])
        store.append([event(3000, type="breakglass.activate"), event(3001, type="grant.issue")])
        query = AuditQuery(type="breakglass", subject="user-0")
        assert [record.type for record in store.search(query)] == ["breakglass.activate"]
    finally:
        store.close()
    plan = _query_plan(backend, target.location, query)
    assert "ix_audit_records_privileged_type" in plan
    assert "ix_audit_records_privileged_type" not in _query_plan(
        backend, target.location, AuditQuery(type="decision")
    )


def _query_plan(backend: str, where: str, query: AuditQuery) -> str:
    if backend == "sqlite":
        statement, params = search_sql(query, "?", sqlite=True)
        conn = sqlite3.connect(where)
        try:
            return repr(conn.execute(f"EXPLAIN QUERY PLAN {statement}", params).fetchall())
        finally:
            conn.close()
    statement, params = search_sql(query, "%s")
    with psycopg.connect(where) as conn:
        conn.execute("ANALYZE audit_records")
        explain = sql.SQL("EXPLAIN ") + sql.SQL(statement)  # type: ignore[arg-type]
        return repr(conn.execute(explain, params).fetchall())


def test_schema_head_matches_alembic() -> None:
    assert alembic_head() == SCHEMA_HEAD


def test_sqlite_is_created_and_migrated_on_first_open(tmp_path: Path) -> None:
    target = StorageTarget("sqlite", str(tmp_path / "new.db"))
    store = open_audit_store(target)
    store.close()
    assert upgrade(target) == SCHEMA_HEAD  # running it again is harmless
    conn = sqlite3.connect(target.location)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_unmigrated_database_is_refused_with_a_hint(tmp_path: Path, postgres_dsn: str) -> None:
    with pytest.raises(StorageUnavailableError, match="glassgate db upgrade"):
        SqliteAuditStore.open(str(tmp_path / "empty.db"))
    with pytest.raises(StorageUnavailableError, match="glassgate db upgrade"):
        PostgresAuditStore.open(postgres_dsn)
    with pytest.raises(StorageUnavailableError, match="glassgate db upgrade"):
        open_audit_store(StorageTarget("postgres", postgres_dsn), migrate=False)


def test_unreachable_databases_raise_storage_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailableError, match="sqlite") as caught:
        open_audit_store(StorageTarget("sqlite", str(tmp_path / "no" / "such" / "dir.db")))
    assert caught.value.code == "storage_unavailable"
    dsn = "host=127.0.0.1 port=1 user=glassgate password=hunter2 dbname=x"
    with pytest.raises(StorageUnavailableError) as caught:
        open_audit_store(StorageTarget("postgres", dsn, timeout=1))
    assert "hunter2" not in str(caught.value)
    assert isinstance(caught.value.__cause__, psycopg.Error)


def test_postgres_store_reconnects_after_the_server_restarts(
    postgres_server: ThrowawayPostgres, glassgate_postgres_dsn: str
) -> None:
    store = open_audit_store(StorageTarget("postgres", glassgate_postgres_dsn))
    try:
        store.append([event(0)])
        with psycopg.connect(postgres_server.dsn(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        with pytest.raises(StorageUnavailableError):
            store.append([event(1)])
        store.append([event(2)])  # a new connection
        assert verify(iter_stored(store)).records == 2
    finally:
        store.close()


def test_time_search_uses_event_time_not_write_order(store: AuditStore) -> None:
    store.append([event(0, at=T0 + 5), event(1, at=T0 + 1)])
    since = AuditQuery(since="2026-09-21T14:13:22.000000Z")
    assert [record.seq for record in store.search(since)] == [1]


def _edit_subject_behind_the_store(backend: str, where: str) -> None:
    """What an attacker with the database does: drop the guard triggers, edit a column."""
    if backend == "sqlite":
        conn = sqlite3.connect(where)
        try:
            conn.execute("DROP TRIGGER audit_records_no_update")
            conn.execute("UPDATE audit_records SET subject = 'mallory' WHERE seq = 2")
            conn.commit()
        finally:
            conn.close()
        return
    with psycopg.connect(where) as conn:
        conn.execute("DROP TRIGGER audit_records_append_only ON audit_records")
        conn.execute("UPDATE audit_records SET subject = 'mallory' WHERE seq = 2")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_column_edited_behind_the_store_is_caught(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    where = (
        str(tmp_path / "audit.db")
        if backend == "sqlite"
        else request.getfixturevalue("glassgate_postgres_dsn")
    )
    store = open_audit_store(StorageTarget(backend, where))
    try:
        store.append([event(i) for i in range(3)])
        _edit_subject_behind_the_store(backend, where)
        with pytest.raises(ChainBrokenError) as verified:
            verify_log(store)
        assert (verified.value.index, verified.value.kind) == (2, "column-edited")
        with pytest.raises(ChainBrokenError) as searched:
            store.search(AuditQuery(subject="mallory"))
        assert searched.value.kind == "column-edited"
    finally:
        store.close()


# --- prune (issue 11 audit 4) -------------------------------------------------------------------

_PRUNE_KEY = Ed25519PrivateKey.generate()


def _prune_checkpoint(record: AuditRecord, first: int = 1) -> Checkpoint:
    return sign_checkpoint(
        record.seq, record.hash, T0 + 50_000, _PRUNE_KEY, pruned_from=first, export_sha256="a" * 64
    )


def test_prune_deletes_up_to_the_checkpoint_and_keeps_it(store: AuditStore) -> None:
    records = store.append([event(i) for i in range(6)])
    prune = _prune_checkpoint(records[2])
    assert store.prune(prune) == 3
    assert [item.row for item in store.scan()] == [4, 5, 6]
    assert prune in store.checkpoints()
    keys = {key_id(_PRUNE_KEY.public_key()): _PRUNE_KEY.public_key()}
    report = verify_log(store, keys=keys)
    assert (report.records, report.pruned_to, report.head.seq) == (3, 3, 6)
    more = store.append([event(9)])  # the chain goes on from its head
    assert more[0].seq == 7
    assert [r.seq for r in store.search(AuditQuery(ascending=True))] == [4, 5, 6, 7]


def test_prune_never_removes_the_newest_record(store: AuditStore) -> None:
    records = store.append([event(i) for i in range(3)])
    with pytest.raises(ValueError, match="newest"):
        store.prune(_prune_checkpoint(records[2]))
    assert len(store.scan()) == 3


def test_prune_refuses_a_checkpoint_that_does_not_match(store: AuditStore) -> None:
    records = store.append([event(i) for i in range(3)])
    wrong = sign_checkpoint(2, "ab" * 32, T0, _PRUNE_KEY, pruned_from=1)
    with pytest.raises(ChainBrokenError):
        store.prune(wrong)
    assert len(store.scan()) == 3
    assert records[0].seq == 1


def test_a_head_checkpoint_and_a_prune_at_the_same_record_are_both_kept(store: AuditStore) -> None:
    records = store.append([event(i) for i in range(4)])
    head = checkpoint_at(records[1], _PRUNE_KEY)
    store.add_checkpoint(head)
    store.prune(_prune_checkpoint(records[1]))
    assert {(c.seq, c.is_prune) for c in store.checkpoints()} == {(2, False), (2, True)}


def test_sqlite_refuses_deletes_above_the_prune_point(tmp_path: Path) -> None:
    path = str(tmp_path / "audit.db")
    store = open_audit_store(StorageTarget("sqlite", path))
    records = store.append([event(i) for i in range(4)])
    store.prune(_prune_checkpoint(records[1]))
    store.close()
    for statement in ("DELETE FROM audit_records WHERE seq = 3", "DELETE FROM audit_prunes"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            _tamper_sqlite(path, statement)


def test_postgres_refuses_deletes_above_the_prune_point(glassgate_postgres_dsn: str) -> None:
    store = open_audit_store(StorageTarget("postgres", glassgate_postgres_dsn))
    records = store.append([event(i) for i in range(4)])
    store.prune(_prune_checkpoint(records[1]))
    store.close()
    for statement in ("DELETE FROM audit_records WHERE seq = 3", "DELETE FROM audit_prunes"):
        with (
            psycopg.connect(glassgate_postgres_dsn) as conn,
            pytest.raises(psycopg.errors.RaiseException, match="append-only"),
        ):
            conn.execute(sql.SQL(statement))  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_0002_log_is_upgraded_and_downgraded_around_prunes(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    target = empty_target(backend, tmp_path, "old.db", request)  # migrated here, step by step
    migrate_to(target, "0002")
    store = open_audit_store(target)  # records written before, pruned after the upgrade
    try:
        records = store.append([event(i) for i in range(4)])
        assert store.prune(_prune_checkpoint(records[1])) == 2
    finally:
        store.close()
    migrate_to(target, "0002", down=True)  # and back: the table goes, deletes are refused again
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.RaiseException)):
        _delete_everything(backend, target.location)


def _delete_everything(backend: str, where: str) -> None:
    if backend == "sqlite":
        _tamper_sqlite(where, "DELETE FROM audit_records")
        return
    with psycopg.connect(where) as conn:
        conn.execute("DELETE FROM audit_records")
