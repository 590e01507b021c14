"""``glassgate audit verify | export | search`` and ``glassgate db upgrade`` end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glassgate.adapters.storage.audit import open_audit_store
from glassgate.adapters.storage.migrations import SCHEMA_HEAD
from glassgate.adapters.storage.target import StorageTarget
from glassgate.cli import main
from glassgate.cli.audit import parse_time
from glassgate.errors import ConfigError
from tests.support.audit import T0, checkpoint_at, event
from tests.support.audit_db import Setup


def test_verify_intact_log(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--config", str(setup.config)]) == 0
    out = capsys.readouterr().out
    assert "audit log intact: 12 record(s)" in out
    assert "2 signed checkpoint(s) verified, latest at record 12" in out


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        pytest.param(
            ["UPDATE audit_records SET body = replace(body, 'user-3', 'user-9') WHERE seq = 4"],
            "BROKEN at record 4: edited",
            id="case=edited",
        ),
        pytest.param(
            ["DELETE FROM audit_records WHERE seq = 7"],
            "BROKEN at record 7: deleted",
            id="case=deleted",
        ),
        pytest.param(
            ["DELETE FROM audit_records WHERE seq > 9", "DELETE FROM audit_checkpoints"],
            "BROKEN at record 10: truncated",
            id="case=tail-deleted-with-db-checkpoints",
        ),
        pytest.param(
            ["UPDATE audit_records SET seq = -seq WHERE seq IN (3, 4)",
             "UPDATE audit_records SET seq = 4 WHERE seq = -3",
             "UPDATE audit_records SET seq = 3 WHERE seq = -4"],
            "BROKEN at record 3: reordered",
            id="case=reordered",
        ),
    ],
)  # fmt: skip
def test_verify_names_the_first_broken_record(
    setup: Setup, capsys: pytest.CaptureFixture[str], statements: list[str], expected: str
) -> None:
    setup.tamper(*statements)
    assert main(["audit", "verify", "--config", str(setup.config)]) == 1
    out = capsys.readouterr().out
    assert expected in out
    assert "stored at that position" in out or "truncated" in out


def test_verify_finds_a_forged_checkpoint_in_the_file(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = checkpoint_at(setup.records[8], Ed25519PrivateKey.generate())
    with setup.checkpoints.open("ab") as file:
        file.write(forged.to_json() + b"\n")
    assert main(["audit", "verify", "--config", str(setup.config)]) == 1
    assert "BROKEN at record 9: forged-checkpoint" in capsys.readouterr().out


def test_verify_with_db_needs_a_key_when_checkpoints_exist(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", "--db", str(setup.db)]) == 2
    assert "--public-key" in capsys.readouterr().err
    args = ["audit", "verify", "--db", f"sqlite:///{setup.db}", "--public-key", str(setup.key)]
    assert main([*args, "--checkpoints", str(setup.checkpoints)]) == 0


def test_verify_without_checkpoints_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_audit_store(StorageTarget("sqlite", str(tmp_path / "a.db")))
    store.append([event(0)])
    store.close()
    assert main(["audit", "verify", "--db", str(tmp_path / "a.db")]) == 0
    assert "a deleted tail cannot be detected" in capsys.readouterr().err


def test_export_jsonl_since(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    since = "2026-09-21T14:13:29Z"  # T0 + 9 s
    assert main(["audit", "export", "--config", str(setup.config), "--since", since]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [10, 11, 12]
    assert lines[0].encode() == setup.records[9].body


def test_export_syslog_to_a_file(setup: Setup, tmp_path: Path) -> None:
    out = tmp_path / "export.log"
    args = ["audit", "export", "--db", str(setup.db), "--format", "syslog", "--output", str(out)]
    assert main([*args, "--hostname", "gw-7"]) == 0
    lines = out.read_bytes().splitlines()
    assert len(lines) == 12
    assert re.match(rb"^<\d+>1 2026-09-21T14:13:20.000000Z gw-7 glassgate - decision \[", lines[0])
    assert lines[10].startswith(b"<81>1 ")  # authpriv.alert for break-glass


def test_search_table(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "search", "--db", str(setup.db), "--subject", "user-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["SEQ", "TIME", "TYPE", "OUTCOME", "SUBJECT", "ROUTE", "REASONS"]
    assert [line.split()[0] for line in lines[1:]] == ["10", "6", "2"]


def test_search_json_with_filters(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["audit", "search", "--db", str(setup.db), "--json", "--type", "breakglass"]
    assert main(args) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(r["seq"], r["actor"]) for r in found] == [(11, "custodian-1")]
    assert found[0]["hash"] == setup.records[10].hash
    window = ["--since", "2026-09-21T14:13:22Z", "--until", "2026-09-21T14:13:24Z", "--json"]
    assert main(["audit", "search", "--db", str(setup.db), "--outcome", "allow", *window]) == 0
    assert [r["seq"] for r in json.loads(capsys.readouterr().out)] == [4, 3]


def test_search_with_no_match(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "search", "--db", str(setup.db), "--route", "nope"]) == 0
    assert capsys.readouterr().out.strip() == "no matching records"


def test_read_commands_never_create_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.db"
    assert main(["audit", "search", "--db", str(missing)]) == 2
    assert "no audit database" in capsys.readouterr().err
    assert not missing.exists()


def test_source_is_required_and_exclusive(setup: Setup) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["audit", "verify"])
    assert caught.value.code == 2
    with pytest.raises(SystemExit):
        main(["audit", "verify", "--db", "a.db", "--config", str(setup.config)])


def test_db_upgrade_sqlite_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert main(["db", "upgrade", "--db", db]) == 0
    assert f"upgraded from empty to schema revision {SCHEMA_HEAD}" in capsys.readouterr().out
    assert main(["db", "upgrade", "--db", db]) == 0
    assert f"already at schema revision {SCHEMA_HEAD}" in capsys.readouterr().out


def test_db_upgrade_and_verify_on_postgres(
    postgres_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade", "--db", postgres_dsn]) == 0
    assert f"schema revision {SCHEMA_HEAD}" in capsys.readouterr().out
    store = open_audit_store(StorageTarget("postgres", postgres_dsn), migrate=False)
    store.append([event(i) for i in range(5)])
    store.close()
    assert main(["audit", "verify", "--db", postgres_dsn]) == 0
    assert "intact: 5 record(s)" in capsys.readouterr().out
    assert main(["audit", "search", "--db", postgres_dsn, "--outcome", "deny", "--json"]) == 0
    assert [r["seq"] for r in json.loads(capsys.readouterr().out)] == [5, 2]


def test_db_upgrade_unreachable_postgres_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    dsn = "postgresql://glassgate:hunter2@127.0.0.1:1/glassgate?connect_timeout=1"
    assert main(["db", "upgrade", "--db", dsn]) == 2
    err = capsys.readouterr().err
    assert "storage_unavailable" in err
    assert "postgres://127.0.0.1:1/glassgate" in err
    assert "hunter2" not in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-21T14:13:20Z", "2026-09-21T14:13:20.000000Z"),
        ("2026-09-21", "2026-09-21T00:00:00.000000Z"),
        ("2h", "2026-09-21T12:13:20.000000Z"),
        ("90m", "2026-09-21T12:43:20.000000Z"),
    ],
)
def test_parse_time(text: str, expected: str) -> None:
    assert parse_time(text, T0) == expected


def test_parse_time_rejects_nonsense() -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        parse_time("last tuesday", T0)
