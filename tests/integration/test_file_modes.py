"""Every file glassgate writes is owner-only (0600), whatever the umask (issue 11 audit 5).

The SQLite database holds API key digests and audit records, the checkpoint
key signs the log's checkpoints, and exports copy the records: none of them is
for other local users. An existing file that others can read is left as the
operator made it, but the gateway warns about it at start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from glassgate.app.compose import open_audit_log
from glassgate.cli import main
from glassgate.config.audit import AuditConfig
from glassgate.config.storage import StorageConfig
from tests.support.audit import event


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the common default: files would come out 0644
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _configs(root: Path) -> tuple[StorageConfig, AuditConfig]:
    storage = StorageConfig.model_validate({"sqlite": {"path": str(root / "gw.db")}})
    audit = AuditConfig.model_validate(
        {"checkpoint": {"key_file": str(root / "k.pem"), "file": str(root / "c.jsonl")}}
    )
    return storage, audit


def _run_gateway_audit(root: Path) -> None:
    async def go() -> None:
        log = open_audit_log(*_configs(root))
        await log.start()
        await log.append(event(0, type="config.reload", outcome="ok"))
        await log.close()

    asyncio.run(go())


def test_files_written_at_start_are_owner_only(tmp_path: Path, loose_umask: None) -> None:
    _run_gateway_audit(tmp_path)
    written = ["gw.db", "k.pem", "c.jsonl"]
    assert {name: _mode(tmp_path / name) for name in written} == dict.fromkeys(written, 0o600)


def test_wal_and_shm_files_are_owner_only(tmp_path: Path, loose_umask: None) -> None:
    _run_gateway_audit(tmp_path)
    import sqlite3

    conn = sqlite3.connect(tmp_path / "gw.db")  # a reader keeps -wal and -shm in place
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("SELECT count(*) FROM audit_records").fetchone()
    try:
        for suffix in ("-wal", "-shm"):
            side = tmp_path / f"gw.db{suffix}"
            assert side.exists(), suffix
            assert _mode(side) == 0o600, suffix
    finally:
        conn.close()


def test_exports_are_owner_only(tmp_path: Path, loose_umask: None) -> None:
    _run_gateway_audit(tmp_path)
    out = tmp_path / "export.jsonl"
    assert main(["audit", "export", "--db", str(tmp_path / "gw.db"), "--output", str(out)]) == 0
    assert _mode(out) == 0o600
    out.chmod(0o644)  # an existing file the operator pointed at is tightened as it is rewritten
    assert main(["audit", "export", "--db", str(tmp_path / "gw.db"), "--output", str(out)]) == 0
    assert _mode(out) == 0o600


def test_start_warns_about_files_others_can_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _run_gateway_audit(tmp_path)
    for name in ("gw.db", "k.pem", "c.jsonl"):
        (tmp_path / name).chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="glassgate"):
        _run_gateway_audit(tmp_path)
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    for name in ("gw.db", "k.pem", "c.jsonl"):
        assert f"{tmp_path / name} is readable by other users (mode 0644)" in warned
    assert _mode(tmp_path / "gw.db") == 0o644  # left as the operator made it


def test_start_is_quiet_about_owner_only_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _run_gateway_audit(tmp_path)
    with caplog.at_level(logging.WARNING, logger="glassgate"):
        _run_gateway_audit(tmp_path)
    assert not [r for r in caplog.records if "readable by other users" in r.getMessage()]
