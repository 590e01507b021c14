"""SIGKILL a writer mid heavy writing and restart it: the log verifies, nothing is half written."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from glassgate.adapters.storage.audit import open_audit_store
from glassgate.adapters.storage.target import StorageTarget
from glassgate.audit.records import parse_record
from glassgate.audit.verification import iter_stored
from tests.support.postgres import ThrowawayPostgres

ROOT = Path(__file__).resolve().parents[2]
WRITER = [sys.executable, "-m", "tests.support.audit_writer", "--via-log"]


def _head(db: str) -> int:
    store = open_audit_store(StorageTarget.parse(db), migrate=False)
    try:
        return store.head().seq
    finally:
        store.close()


def _kill_mid_write(db: str, files: list[str]) -> None:
    writer = subprocess.Popen(
        [*WRITER, "--db", db, "--count", "0", "--tag", "doomed", *files],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "ready\n"
        deadline = time.monotonic() + 30
        while _head(db) < 600:
            assert writer.poll() is None, "the writer stopped by itself"
            assert time.monotonic() < deadline, "the writer is too slow"
            time.sleep(0.05)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
        if writer.stdout is not None:
            writer.stdout.close()
    assert writer.returncode == -signal.SIGKILL


def _crash_restart_verify(db: str, tmp_path: Path) -> None:
    checkpoints, key = tmp_path / "checkpoints.jsonl", tmp_path / "audit.key"
    files = ["--checkpoints", str(checkpoints), "--key", str(key)]
    _kill_mid_write(db, files)
    crashed_at = _head(db)
    subprocess.run(
        [*WRITER, "--db", db, "--count", "200", "--tag", "restarted", *files],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    verdict = subprocess.run(
        [sys.executable, "-m", "glassgate", "audit", "verify", "--db", db,
         "--checkpoints", str(checkpoints), "--public-key", str(key)],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert "audit log intact" in verdict.stdout
    store = open_audit_store(StorageTarget.parse(db), migrate=False)
    try:
        stored = list(iter_stored(store))
        assert len(stored) == store.head().seq > crashed_at  # no gap, no half record
        for item in stored:
            parse_record(item.body)
    finally:
        store.close()
    assert checkpoints.read_bytes().count(b"\n") >= 2


def test_sqlite_survives_sigkill(tmp_path: Path) -> None:
    _crash_restart_verify(f"sqlite:///{tmp_path / 'audit.db'}", tmp_path)


def test_postgres_survives_sigkill(postgres_server: ThrowawayPostgres, tmp_path: Path) -> None:
    dsn = postgres_server.create_database()
    fields = dict(item.split("=", 1) for item in dsn.split())
    url = f"postgresql://{fields['user']}@{fields['host']}:{fields['port']}/{fields['dbname']}"
    _crash_restart_verify(url, tmp_path)
