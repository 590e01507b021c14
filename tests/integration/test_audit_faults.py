"""Faults on real databases: disk full, database down. Privileged actions fail closed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from glassgate.adapters.storage.audit import SqliteAuditStore, open_audit_store
from glassgate.adapters.storage.target import StorageTarget
from glassgate.audit.service import Admission, AuditLog
from glassgate.audit.settings import AuditSettings
from glassgate.audit.verification import verify_log
from glassgate.errors import AuditUnavailableError
from tests.support.audit import event
from tests.support.postgres import ThrowawayPostgres

PRIVILEGED = event(0, type="breakglass.activate", outcome="ok", actor="custodian-1")
POLICY = AuditSettings(write_timeout=2.0, retry_initial=0.01, retry_max=0.05)


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


def test_sqlite_disk_full_refuses_privileged_actions_and_recovers(tmp_path: Path) -> None:
    store = open_audit_store(StorageTarget("sqlite", str(tmp_path / "audit.db")))
    assert isinstance(store, SqliteAuditStore)
    store.append([event(i) for i in range(50)])

    def cap_pages(limit: int | None) -> None:
        """The test plays the disk: cap the file at its current size, or lift the cap."""
        with store._lock:
            pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
            store._conn.execute(f"PRAGMA max_page_count = {limit or pages}")

    async def main() -> None:
        audit = AuditLog(store, clock=time.time, settings=POLICY)
        await audit.start()
        cap_pages(None)
        big = {"padding": "x" * 8000}
        with pytest.raises(AuditUnavailableError, match="not carried out"):
            await audit.append(event(99, type="admin.test", outcome="ok", details=big))
        assert audit.record(event(100, details=big)) is Admission.QUEUED  # serve mode
        cap_pages(1_000_000)  # space freed
        await _until(lambda: audit.counters.written == 1)
        await audit.append(PRIVILEGED)
        await audit.close()

    asyncio.run(main())
    reopened = open_audit_store(StorageTarget("sqlite", str(tmp_path / "audit.db")))
    try:
        assert verify_log(reopened).records == 52  # nothing half written
    finally:
        reopened.close()


def _allow_connections(server: ThrowawayPostgres, dsn: str, allow: bool) -> None:
    name = dict(item.split("=", 1) for item in dsn.split())["dbname"]
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(name), sql.Literal(allow)
            )
        )
        if not allow:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )


def test_postgres_down_refuses_privileged_actions_and_recovers(
    postgres_server: ThrowawayPostgres, glassgate_postgres_dsn: str
) -> None:
    store = open_audit_store(StorageTarget("postgres", glassgate_postgres_dsn))

    async def main() -> None:
        audit = AuditLog(store, clock=time.time, settings=POLICY)
        await audit.start()
        await audit.append(event(0, type="admin.test", outcome="ok"))
        _allow_connections(postgres_server, glassgate_postgres_dsn, allow=False)
        with pytest.raises(AuditUnavailableError):
            await audit.append(PRIVILEGED)
        assert not audit.healthy
        assert audit.record(event(1)) is Admission.QUEUED
        _allow_connections(postgres_server, glassgate_postgres_dsn, allow=True)
        await _until(lambda: audit.counters.written == 2)
        assert audit.healthy
        await audit.append(PRIVILEGED)
        await audit.close()

    asyncio.run(main())
    reopened = open_audit_store(StorageTarget("postgres", glassgate_postgres_dsn))
    try:
        assert verify_log(reopened).records == 3
    finally:
        reopened.close()
