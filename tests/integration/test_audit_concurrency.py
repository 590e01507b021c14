"""Two OS processes appending to one database produce one valid chain, never a fork."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

from glassgate.adapters.storage.audit import open_audit_store
from glassgate.adapters.storage.target import StorageTarget
from glassgate.audit.query import AuditQuery
from glassgate.audit.verification import verify_log
from tests.support.postgres import ThrowawayPostgres

ROOT = Path(__file__).resolve().parents[2]
PER_WRITER = 400


def _writers(db: str, go: Path, count: int = PER_WRITER) -> list[subprocess.Popen[str]]:
    command = [sys.executable, "-m", "tests.support.audit_writer", "--db", db, "--go", str(go)]
    return [
        subprocess.Popen(
            [*command, "--tag", tag, "--count", str(count)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("alpha", "beta")
    ]


def _assert_one_chain(db: str) -> None:
    store = open_audit_store(StorageTarget.parse(db), migrate=False)
    try:
        report = verify_log(store)
        assert report.records == 2 * PER_WRITER
        records = store.search(AuditQuery(ascending=True, limit=10_000))
        order = [record.details["writer"] for record in records]
        assert set(order) == {"alpha", "beta"}
        switches = sum(1 for a, b in itertools.pairwise(order) if a != b)
        assert switches > 4, "the writers did not actually interleave"
    finally:
        store.close()


def _run_concurrently(db: str, go: Path) -> None:
    processes = _writers(db, go)
    for process in processes:  # both have opened (and raced to migrate) the database
        assert process.stdout is not None
        line = process.stdout.readline()
        if line != "open\n":
            _, err = process.communicate(timeout=30)
            raise AssertionError(f"writer did not open the database: {err[-2000:]}")
    go.touch()
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert out.startswith("ready")
    _assert_one_chain(db)


def test_two_processes_share_one_postgres_chain(
    postgres_server: ThrowawayPostgres, tmp_path: Path
) -> None:
    # A fresh, unmigrated database: both processes also race to migrate it on start.
    url = _url(postgres_server.create_database())
    _run_concurrently(url, tmp_path / "go")


def test_two_processes_share_one_sqlite_chain(tmp_path: Path) -> None:
    _run_concurrently(f"sqlite:///{tmp_path / 'audit.db'}", tmp_path / "go")


def _url(dsn: str) -> str:
    fields = dict(item.split("=", 1) for item in dsn.split())
    return f"postgresql://{fields['user']}@{fields['host']}:{fields['port']}/{fields['dbname']}"
