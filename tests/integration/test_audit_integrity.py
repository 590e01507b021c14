"""Tampering with a real audit database, as an attacker with write access would (issue 11 audit).

Every case drops the append-only triggers first: they stop mistakes, not the
database's owner. What must then catch the tampering is ``glassgate audit
verify`` (and ``audit search``, which must never hand out a record whose
columns disagree with its hashed body).
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import stat
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glassgate.adapters.storage.audit.checkpoint_file import CheckpointFile
from glassgate.audit.anchors import checkpoints_in
from glassgate.audit.checkpoints import sign_checkpoint
from glassgate.audit.export import checkpoint_to_rfc5424, to_rfc5424
from glassgate.cli import main
from tests.support.audit import checkpoint_at
from tests.support.audit_db import Setup
from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess


@pytest.mark.parametrize(
    ("statement", "column"),
    [
        ("UPDATE audit_records SET subject = 'mallory' WHERE seq = 4", "subject"),
        ("UPDATE audit_records SET subject = NULL WHERE seq = 4", "subject"),
        ("UPDATE audit_records SET type = 'config.reload' WHERE seq = 4", "type"),
        ("UPDATE audit_records SET outcome = 'deny' WHERE seq = 4", "outcome"),
        ("UPDATE audit_records SET actor = 'ops' WHERE seq = 4", "actor"),
        ("UPDATE audit_records SET route = 'admin' WHERE seq = 4", "route"),
        ("UPDATE audit_records SET request_id = 'req-0' WHERE seq = 4", "request_id"),
        ("UPDATE audit_records SET ts = '2001-01-01T00:00:00.000000Z' WHERE seq = 4", "ts"),
        ("UPDATE audit_records SET subject = 42 WHERE seq = 4", "subject"),
    ],
)
def test_verify_checks_every_stored_column(
    setup: Setup, capsys: pytest.CaptureFixture[str], statement: str, column: str
) -> None:
    setup.tamper(statement)
    assert main(["audit", "verify", "--config", str(setup.config)]) == 1
    out = capsys.readouterr().out
    assert "BROKEN at record 4: column-edited" in out
    assert f"column '{column}'" in out


def test_verify_checks_the_sequence_column(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.tamper("UPDATE audit_records SET seq = 99 WHERE seq = 12")
    assert main(["audit", "verify", "--config", str(setup.config)]) == 1
    out = capsys.readouterr().out
    assert "BROKEN at record 12: column-edited" in out
    assert "column 'seq'" in out


def test_search_never_returns_a_record_whose_columns_were_edited(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.tamper("UPDATE audit_records SET subject = 'mallory' WHERE seq = 4")
    assert main(["audit", "search", "--db", str(setup.db), "--subject", "mallory", "--json"]) == 1
    captured = capsys.readouterr()
    assert "BROKEN at record 4: column-edited" in captured.out
    assert "holds 'mallory' but the hashed body says 'user-3'" in captured.out
    assert "[" not in captured.out  # no result list at all


# --- truncation below a checkpoint held outside (issue 11 audit 2) -----------------------------


def _cut_tail_everywhere(setup: Setup) -> None:
    """Records 10-12 and every local trace of checkpoint 12 are gone: DB table and file."""
    setup.tamper(
        "DELETE FROM audit_records WHERE seq > 9", "DELETE FROM audit_checkpoints WHERE seq = 12"
    )
    first_line = setup.checkpoints.read_bytes().splitlines(keepends=True)[0]
    setup.checkpoints.write_bytes(first_line)


def _siem_capture(setup: Setup, tmp_path: Path) -> Path:
    """What a syslog server wrote to its file while the gateway ran."""
    [checkpoint_12] = [c for c in CheckpointFile(setup.checkpoints).checkpoints() if c.seq == 12]
    lines = [to_rfc5424(record, hostname="gw") for record in setup.records]
    lines.append(checkpoint_to_rfc5424(checkpoint_12, hostname="gw"))
    capture = tmp_path / "siem.log"
    capture.write_bytes(b"\n".join(lines) + b"\n")
    return capture


def test_a_tail_cut_with_its_local_checkpoints_needs_an_anchor(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = _siem_capture(setup, tmp_path)
    _cut_tail_everywhere(setup)
    assert main(["audit", "verify", "--config", str(setup.config)]) == 0  # the remaining window
    assert "without --anchor" in capsys.readouterr().err
    args = ["audit", "verify", "--config", str(setup.config), "--anchor", str(capture)]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "BROKEN at record 10: truncated" in out
    assert "covers record 12" in out


def test_an_anchor_can_come_on_stdin(
    setup: Setup,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    capture = _siem_capture(setup, tmp_path)
    _cut_tail_everywhere(setup)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(capture.read_bytes())))
    assert main(["audit", "verify", "--config", str(setup.config), "--anchor", "-"]) == 1
    assert "BROKEN at record 10: truncated" in capsys.readouterr().out


def test_an_intact_log_reaches_its_anchor(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = _siem_capture(setup, tmp_path)
    assert main(["audit", "verify", "--config", str(setup.config), "--anchor", str(capture)]) == 0
    assert "newest outside checkpoint (record 12)" in capsys.readouterr().out


def test_a_forged_anchor_is_refused(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = tmp_path / "forged.jsonl"
    forged.write_bytes(checkpoint_at(setup.records[11], Ed25519PrivateKey.generate()).to_json())
    assert main(["audit", "verify", "--config", str(setup.config), "--anchor", str(forged)]) == 1
    assert "BROKEN at record 12: forged-checkpoint" in capsys.readouterr().out


def test_an_anchor_without_checkpoints_is_a_usage_error(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"nothing here\n")
    assert main(["audit", "verify", "--config", str(setup.config), "--anchor", str(empty)]) == 2
    assert "holds no glassgate checkpoint" in capsys.readouterr().err


# --- a real gateway: checkpoints leave the host as they are made, and on shutdown ---------------

SERVED = """\
version: 1
listen: ${{GLASSGATE_LISTEN}}
issuers:
  - id: idp
    issuer: ${{GLASSGATE_ISSUER}}
    audiences: [api://gateway]
upstreams:
  - id: app
    targets: [{upstream}]
storage:
  sqlite: {{path: {db}}}
audit:
  checkpoint: {{every_records: 1000, every: 1h, key_file: {key}, file: {checkpoints}}}
  sinks:
    - {{type: syslog, host: 127.0.0.1, port: {syslog}, transport: udp}}
routes:
  - id: open
    match: {{ path: /open/* }}
    upstream: app
    anonymous: true
"""


class SyslogCapture:
    """A syslog server writing every datagram it receives to a file, one per line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with self.path.open("ab") as out:
            while not self._stop.is_set():
                try:
                    data = self.sock.recv(65536)
                except TimeoutError:
                    continue
                out.write(data + b"\n")
                out.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_shutdown_checkpoint_reaches_the_sinks_and_anchors_the_log(
    oidc_provider: Any,
    upstream: EchoUpstream,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    capture = SyslogCapture(tmp_path / "siem.log")
    config = tmp_path / "gw.yaml"
    files = {
        "db": tmp_path / "gw.db",
        "key": tmp_path / "k.pem",
        "checkpoints": tmp_path / "c.jsonl",
    }
    config.write_text(SERVED.format(upstream=upstream.url, syslog=capture.port, **files))
    gateway = GatewayProcess(
        config, {"GLASSGATE_ISSUER": oidc_provider.issuer}, tmp_path / "gw.log"
    )
    gateway.start()
    try:
        for i in range(5):
            assert httpx.get(f"{gateway.url}/open/{i}").status_code == 200
    finally:
        gateway.stop()  # SIGTERM: a clean shutdown
        time.sleep(0.3)
        capture.close()
    head = max(c.seq for c in CheckpointFile(files["checkpoints"]).checkpoints())
    assert head == 5  # every record, although neither 1000 records nor 1 h had passed
    assert [c.seq for c in checkpoints_in(capture.path.read_bytes())] == [5]
    for name in ("GLASSGATE_ISSUER", "GLASSGATE_LISTEN"):
        monkeypatch.setenv(name, gateway.env[name])
    args = ["audit", "verify", "--config", str(config), "--anchor", str(capture.path)]
    assert main(args) == 0
    assert "newest outside checkpoint (record 5)" in capsys.readouterr().out


# --- retention: prune keeps the chain verifiable (issue 11 audit 4) -----------------------------

BEFORE_6 = "2026-09-21T14:13:25Z"  # T0 + 5 s: records 1..5 were written before it


def _prune(setup: Setup, export: Path, before: str = BEFORE_6) -> int:
    return main(
        [
            "audit",
            "prune",
            "--config",
            str(setup.config),
            "--before",
            before,
            "--export",
            str(export),
        ]
    )


def test_prune_exports_then_removes_and_verify_says_how_far(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "archive-1.jsonl"
    assert _prune(setup, export) == 0
    out = capsys.readouterr().out
    assert "pruned records 1..5 (5)" in out
    lines = export.read_bytes().splitlines(keepends=True)
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3, 4, 5]
    assert lines[-1].rstrip(b"\n") == setup.records[4].body
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    digest = hashlib.sha256(export.read_bytes()).hexdigest()
    [prune] = [c for c in CheckpointFile(setup.checkpoints).checkpoints() if c.is_prune]
    assert (prune.pruned_from, prune.seq, prune.head) == (1, 5, setup.records[4].hash)
    assert prune.export_sha256 == digest
    assert main(["audit", "verify", "--config", str(setup.config)]) == 0
    out = capsys.readouterr().out
    assert "intact: 8 record(s)" in out  # 6..12 and the audit.prune record
    assert "pruned up to record 5" in out
    assert main(["audit", "search", "--db", str(setup.db), "--type", "audit", "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["details"]["export_sha256"] == digest
    assert record["actor"].startswith("cli:")


def test_a_second_prune_continues_from_the_first(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _prune(setup, tmp_path / "a.jsonl") == 0
    assert _prune(setup, tmp_path / "b.jsonl", "2026-09-21T14:13:28Z") == 0
    assert "pruned records 6..8 (3)" in capsys.readouterr().out
    assert main(["audit", "verify", "--config", str(setup.config)]) == 0
    assert "pruned up to record 8" in capsys.readouterr().out


def test_prune_never_removes_the_newest_record(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _prune(setup, tmp_path / "all.jsonl", "2099-01-01") == 0
    assert "pruned records 1..11 (11)" in capsys.readouterr().out
    assert main(["audit", "verify", "--config", str(setup.config)]) == 0


def test_nothing_to_prune(setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _prune(setup, tmp_path / "none.jsonl", "2001-01-01") == 0
    assert "nothing to prune" in capsys.readouterr().out
    assert not (tmp_path / "none.jsonl").exists()


def test_an_archive_is_never_overwritten(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "archive.jsonl"
    export.write_bytes(b"older archive\n")
    assert _prune(setup, export) == 2
    assert "exists" in capsys.readouterr().err
    assert export.read_bytes() == b"older archive\n"
    assert main(["audit", "verify", "--config", str(setup.config)]) == 0
    assert "pruned up to" not in capsys.readouterr().out


def test_a_broken_log_is_never_pruned(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.tamper("DELETE FROM audit_records WHERE seq = 3")
    assert _prune(setup, tmp_path / "x.jsonl") == 1
    assert "BROKEN at record 3: deleted" in capsys.readouterr().out
    assert not (tmp_path / "x.jsonl").exists()


def test_records_deleted_after_a_prune_are_still_caught(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _prune(setup, tmp_path / "a.jsonl") == 0
    capsys.readouterr()
    setup.tamper("DELETE FROM audit_records WHERE seq IN (6, 7)")
    assert main(["audit", "verify", "--config", str(setup.config)]) == 1
    out = capsys.readouterr().out
    assert "BROKEN at record 6: deleted" in out
    assert "record(s) 6..7 are missing" in out


def test_a_prune_without_its_signed_checkpoint_is_a_deletion(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _prune(setup, tmp_path / "a.jsonl") == 0
    setup.tamper("DROP TRIGGER audit_prunes_no_delete", "DELETE FROM audit_prunes")
    lines = setup.checkpoints.read_bytes().splitlines(keepends=True)
    setup.checkpoints.write_bytes(b"".join(line for line in lines if b"pruned_from" not in line))
    assert main(["audit", "verify", "--config", str(setup.config)]) == 1
    assert "BROKEN at record 1: deleted" in capsys.readouterr().out


def test_a_forged_prune_checkpoint_is_refused(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Someone with the database but not the key deletes records 1..7 and writes a prune row.
    forged = sign_checkpoint(
        7, setup.records[6].hash, 1_790_000_100.0, Ed25519PrivateKey.generate(), pruned_from=1
    )
    setup.tamper(
        "DELETE FROM audit_records WHERE seq <= 7",
        "INSERT INTO audit_prunes (seq, pruned_from, head, ts, key_id, signature) VALUES "
        f"(7, 1, '{forged.head}', '{forged.ts}', '{forged.key_id}', '{forged.signature}')",
    )
    assert main(["audit", "verify", "--config", str(setup.config)]) == 1
    assert "forged-checkpoint" in capsys.readouterr().out
