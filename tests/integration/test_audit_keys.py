"""Where the checkpoint key and file live, and that a log is never signed by a stranger (issue 11 audit 3).

- By default the key and the checkpoint file sit beside the SQLite database
  (named after it), or beside the config file for PostgreSQL: never in
  whatever directory the gateway happened to be started from.
- A gateway never creates a new key for a log whose checkpoints another key
  signed (a lost key, or another deployment's): it refuses to start, naming
  both; ``glassgate audit rotate-key`` changes keys on purpose, and
  ``audit verify`` then trusts the old key through its retired public half.
- ``glassgate check-config`` shows the paths it resolved.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from glassgate.app.compose import open_audit_log
from glassgate.cli import main
from glassgate.config.load import load_config
from glassgate.errors import CheckpointKeyError
from tests.support.audit import event

CONFIG = """\
issuers:
  - id: okta
    issuer: https://example.okta.com/oauth2/default
    audiences: [api://default]
    jwks_uri: https://example.okta.com/oauth2/default/v1/keys
storage:
  sqlite: {{path: {db}}}
{audit}"""


def _write(root: Path, db: str, audit: str = "") -> Path:
    path = root / "gw.yaml"
    path.write_text(CONFIG.format(db=db, audit=audit))
    return path


def _record(config_path: Path, count: int = 3) -> None:
    """A gateway's life: some records, a clean shutdown (with its checkpoint)."""
    config = load_config(config_path).config

    async def go() -> None:
        log = open_audit_log(config.storage, config.audit)
        await log.start()
        for i in range(count):
            await log.append(event(i, type="config.reload", outcome="ok"))
        await log.close()

    asyncio.run(go())


def test_defaults_sit_beside_the_database_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    config = _write(tmp_path, str(data / "gw1.db"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    _record(config)
    assert sorted(p.name for p in data.iterdir() if "audit" in p.name) == [
        "gw1-audit.checkpoints.jsonl",
        "gw1-audit.key",
    ]
    assert list(elsewhere.iterdir()) == []


def test_two_deployments_in_one_directory_keep_apart(tmp_path: Path) -> None:
    one = tmp_path / "one"
    two = tmp_path / "two"
    for root, db in ((one, "a.db"), (two, "b.db")):
        root.mkdir()
        _record(_write(root, str(tmp_path / db)))
    names = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert "a-audit.key" in names
    assert "b-audit.key" in names
    assert main(["audit", "verify", "--config", str(one / "gw.yaml")]) == 0
    assert main(["audit", "verify", "--config", str(two / "gw.yaml")]) == 0


def test_postgres_defaults_sit_beside_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "prod.yaml"
    path.write_text(
        CONFIG.replace("  sqlite: {{path: {db}}}", "  backend: postgres\n  postgres: {{dsn: x}}")
        .replace("{db}", "")
        .format(audit="")
    )
    checkpoint = load_config(path).config.audit.checkpoint
    assert checkpoint.key_file == str(tmp_path / "prod-audit.key")
    assert checkpoint.file == str(tmp_path / "prod-audit.checkpoints.jsonl")


def test_explicit_paths_are_kept(tmp_path: Path) -> None:
    audit = "audit:\n  checkpoint: {key_file: /etc/gg/k.pem, file: /var/lib/gg/c.jsonl}\n"
    checkpoint = load_config(_write(tmp_path, "x.db", audit)).config.audit.checkpoint
    assert (checkpoint.key_file, checkpoint.file) == ("/etc/gg/k.pem", "/var/lib/gg/c.jsonl")


def test_check_config_shows_the_resolved_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write(tmp_path, str(tmp_path / "gw.db"))
    assert main(["check-config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"database: sqlite {tmp_path / 'gw.db'}" in out
    assert f"audit checkpoint key: {tmp_path / 'gw-audit.key'} (created on first start)" in out
    assert f"audit checkpoint file: {tmp_path / 'gw-audit.checkpoints.jsonl'}" in out


@pytest.mark.parametrize("lost", [True, False], ids=["case=key-deleted", "case=other-key"])
def test_a_stranger_key_is_refused_for_a_signed_log(tmp_path: Path, lost: bool) -> None:
    config = _write(tmp_path, str(tmp_path / "gw.db"))
    _record(config)
    key = tmp_path / "gw-audit.key"
    original = key.read_bytes()
    key.unlink()
    if not lost:  # another deployment's key put in its place
        other = tmp_path / "other"
        other.mkdir()
        _record(_write(other, str(other / "other.db")))
        os.replace(other / "other-audit.key", key)
    with pytest.raises(CheckpointKeyError, match="rotate-key"):
        _record(config)
    assert (key.exists(), key.exists() and key.read_bytes() == original) == (not lost, False)


def test_a_deliberate_rotation_keeps_the_log_verifiable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write(tmp_path, str(tmp_path / "gw.db"))
    _record(config)
    old = (tmp_path / "gw-audit.key").read_bytes()
    assert main(["audit", "rotate-key", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "rotated the audit checkpoint key" in out
    assert (tmp_path / "gw-audit.key").read_bytes() != old
    retired = [p for p in tmp_path.iterdir() if p.name.endswith(".pub")]
    assert len(retired) == 1
    _record(config)  # the gateway starts with the new key
    assert main(["audit", "verify", "--config", str(config)]) == 0
    assert "intact" in capsys.readouterr().out
    assert main(["audit", "search", "--db", str(tmp_path / "gw.db"), "--type", "audit"]) == 0
    assert "audit.key-rotated" in capsys.readouterr().out


def test_a_lost_key_is_replaced_only_when_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write(tmp_path, str(tmp_path / "gw.db"))
    _record(config)
    (tmp_path / "gw-audit.key").unlink()
    assert main(["audit", "rotate-key", "--config", str(config)]) == 2
    assert "--previous-key-lost" in capsys.readouterr().err
    assert main(["audit", "rotate-key", "--config", str(config), "--previous-key-lost"]) == 0
    _record(config)
    # Verifying the old checkpoints now needs the old public key from wherever it was kept.
    assert main(["audit", "verify", "--config", str(config)]) == 1
    assert "forged-checkpoint" in capsys.readouterr().out
