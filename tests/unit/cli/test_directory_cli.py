"""``glassgate rules | directory | scim`` against a real SQLite database and audit log:
the first seed's story from an Okta export to a refused ``rules apply``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from glassgate.cli import main
from tests.unit.directory.okta_fixture import ADMINS, OKTA, RULES_CHANGED

CONFIG = """\
issuers:
  - id: okta
    issuer: https://example.okta.com/oauth2/default
    audiences: [api://default]
    jwks_uri: https://example.okta.com/oauth2/default/v1/keys
storage:
  sqlite: {{path: {root}/gg.db}}
audit:
  checkpoint: {{key_file: {root}/audit.key, file: {root}/checkpoints.jsonl}}
directory:
  protected_groups: {{Admins: 2}}
"""


@pytest.fixture
def config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = tmp_path / "gw.yaml"
    path.write_text(CONFIG.format(root=tmp_path))
    assert main(["directory", "import", str(OKTA), "--config", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "import of okta: 319 user(s) and 13 group(s) written, rules replaced" in out
    assert "not imported: rule" in err
    assert "(Corporate mailbox)" in err
    return str(path)


def _audit(config: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["audit", "export", "--config", config]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_simulate_shows_every_admin_losing_admins(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "simulate", "--rules", str(RULES_CHANGED), "--config", config]) == 1
    out = capsys.readouterr().out
    assert "Admins (minimum 2): 4 -> 0  SHORT  after: nobody" in out
    assert (
        "- Admins: jun.tanaka@example.com, lena.ortiz@example.com, omar.haddad@example.com, priya.patel@example.com, sam.walsh@example.com (suspended)"
        in out
    )
    assert "Verdict: REFUSED" in out
    assert (
        main(["rules", "simulate", "--rules", str(RULES_CHANGED), "--config", config, "--json"])
        == 1
    )
    document = json.loads(capsys.readouterr().out)
    assert document["refused"] == [{"group": "Admins", "minimum": 2, "remaining": []}]


def test_simulate_writes_csv_and_works_on_an_export_without_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = tmp_path / "changes.csv"
    args = [
        "rules",
        "simulate",
        "--rules",
        str(RULES_CHANGED),
        "--from",
        str(OKTA),
        "--protect",
        "Admins>=2",
        "--csv",
        str(csv_file),
    ]
    assert main(args) == 1
    rows = csv_file.read_text().splitlines()
    assert rows[0] == "group,change,userName,id,status"
    assert len(rows) == 6


def test_apply_is_refused_with_the_right_message_audited_and_nothing_changes(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "apply", "--rules", str(RULES_CHANGED), "--config", config]) == 1
    err = capsys.readouterr().err
    assert (
        "refused rules apply rules-changed.yaml: protected group 'Admins' needs at least 2 active member(s) but would keep 0 (nobody)"
        in err
    )
    assert "break-glass" in err
    assert main(["directory", "show", "Admins", "--config", config, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["active_members"] == 4
    records = _audit(config, capsys)
    refused = [r for r in records if r["type"] == "directory.lockout.refused"]
    assert len(refused) == 1
    assert refused[0]["outcome"] == "refused"


def test_cli_edits_are_guarded_too(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["directory", "status", ADMINS[0], "suspended", "--config", config]) == 0
    assert main(["directory", "status", ADMINS[1], "deprovisioned", "--config", config]) == 0
    capsys.readouterr()
    assert main(["directory", "status", ADMINS[2], "suspended", "--config", config]) == 1
    assert "would keep 1 (priya.patel@example.com)" in capsys.readouterr().err
    assert main(["directory", "groups", "--config", config]) == 0
    admins = next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("Admins ")
    )
    assert admins.split()[-3:] == ["2", ">=", "2"]
    types = [r["type"] for r in _audit(config, capsys)]
    assert types.count("admin.directory.cli") == 2
    assert types.count("directory.lockout.refused") == 1


def test_member_edits_and_listing(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["directory", "member", "add", "Finance-Approvers", ADMINS[0], "--config", config])
        == 0
    )
    assert main(["directory", "show", ADMINS[0], "--config", config]) == 0
    out = capsys.readouterr().out
    assert "Finance-Approvers  (direct)" in out
    assert (
        main(["directory", "member", "remove", "Finance-Approvers", ADMINS[0], "--config", config])
        == 0
    )
    assert main(["directory", "users", "--config", config, "--json"]) == 0
    capsys.readouterr()
    assert main(["directory", "show", "nobody", "--config", config]) == 2


def test_import_dry_run_and_export(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hris = tmp_path / "hris.csv"
    hris.write_text(
        "userName,status,title\n" + "".join(f"{a},active,Identity Administrator\n" for a in ADMINS)
    )
    assert main(["directory", "import", str(hris), "--config", config, "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "protected Admins (minimum 2): 4 -> 0" in out
    assert "REFUSED" in out
    assert main(["directory", "import", str(hris), "--config", config]) == 1
    exported = tmp_path / "out.json"
    assert main(["directory", "export", "--config", config, "--out", str(exported)]) == 0
    assert len(json.loads(exported.read_text())["users"]) == 319
    assert main(["directory", "export", "--config", config, "--csv"]) == 0
    assert capsys.readouterr().out.startswith("id,userName,externalId,status,groups")
    assert main(["rules", "show", "--config", config]) == 0
    assert "0prHXvkblsU498oDs0g7" in capsys.readouterr().out


def test_scim_tokens_issue_rotate_list(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scim", "token", "issue", "--name", "okta", "--config", config]) == 0
    first = capsys.readouterr().out.strip()
    assert re.fullmatch(r"gg_[a-z2-7]{12}_[A-Za-z0-9_-]{43}", first)
    assert main(["scim", "token", "issue", "--name", "okta-2", "--rotate", "--config", config]) == 0
    capsys.readouterr()
    assert main(["scim", "token", "list", "--config", config, "--json"]) == 0
    tokens = json.loads(capsys.readouterr().out)
    assert [(t["name"], t["status"]) for t in tokens] == [("okta", "revoked"), ("okta-2", "live")]
    assert first not in json.dumps(tokens)
    assert main(["scim", "token", "issue", "--name", "bad name", "--config", config]) == 2
