"""``glassgate apikey create | list | revoke`` against a real SQLite database and audit log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from glassgate.cli import main

CONFIG = """\
issuers:
  - id: okta
    issuer: https://example.okta.com/oauth2/default
    audiences: [api://default]
    jwks_uri: https://example.okta.com/oauth2/default/v1/keys
upstreams: [{{id: app, targets: ["http://127.0.0.1:9"]}}]
quotas:
  small: {{rate: 1, per: 60s, burst: 3, key: api_key}}
routes:
  - {{id: machine, match: {{path: /machine/*}}, upstream: app, allow: {{groups: [robots]}}}}
  - {{id: reports, match: {{path: /reports/*}}, upstream: app, allow: {{groups: [robots]}}}}
  - {{id: humans, match: {{path: /humans/*}}, upstream: app, issuers: [okta]}}
storage:
  sqlite: {{path: {root}/gg.db}}
audit:
  checkpoint: {{key_file: {key_file}, file: {root}/checkpoints.jsonl}}
api_keys: {{enabled: {enabled}, cache_ttl: 2s}}
"""
KEY = re.compile(r"gg_([a-z2-7]{12})_[A-Za-z0-9_-]{43}")


def write_config(root: Path, *, enabled: bool = True, key_file: str | None = None) -> str:
    path = root / "gw.yaml"
    path.write_text(
        CONFIG.format(
            root=root,
            enabled=str(enabled).lower(),
            key_file=key_file or f"{root}/audit.key",
        )
    )
    return str(path)


@pytest.fixture
def config(tmp_path: Path) -> str:
    return write_config(tmp_path)


def create(config: str, *extra: str) -> list[str]:
    return [
        "apikey",
        "create",
        "--config",
        config,
        "--name",
        "ci-bot",
        "--subject",
        "svc:ci",
        "--group",
        "robots",
        *extra,
    ]


def created_key(config: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(create(config, *(extra or ("--route", "machine")))) == 0
    out, err = capsys.readouterr()
    assert KEY.fullmatch(out.strip()), out
    assert "only time the key is shown" in err
    return out.strip()


def every_byte_under(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in root.rglob("*") if path.is_file())


def test_create_prints_the_key_once_and_stores_only_a_digest(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    key = created_key(config, capsys, "--route", "machine", "--route", "reports", "--tier", "small")
    secret = key[16:].encode()
    assert secret not in every_byte_under(tmp_path)  # database, WAL, audit files, config
    assert main(["apikey", "list", "--config", config]) == 0
    table = capsys.readouterr().out
    assert key[3:15] in table
    assert "machine,reports" in table
    assert "active" in table
    assert key[16:] not in table


def test_list_json_never_carries_a_secret_or_digest(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    key = created_key(config, capsys, "--all-routes", "--expires", "never")
    assert main(["apikey", "list", "--config", config, "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["key_id"] == key[3:15]
    assert listed["routes"] is None
    assert listed["expires_at"] is None
    assert listed["status"] == "active"
    assert listed["created_by"].startswith("cli:")
    assert not {"secret", "secret_hash", "key", "hash"} & set(listed)


def test_create_json_shows_the_key_with_its_record(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*create(config, "--route", "machine", "--expires", "12h"), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert KEY.fullmatch(shown["key"])
    assert shown["key_id"] == shown["key"][3:15]
    assert shown["groups"] == ["robots"]


def test_revoke_then_list_and_revoke_again(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    key = created_key(config, capsys)
    assert main(["apikey", "revoke", key[3:15], "--config", config]) == 0
    assert "within 2s" in capsys.readouterr().out
    assert main(["apikey", "revoke", key, "--config", config]) == 0  # a whole key works too
    out = capsys.readouterr().out
    assert "already revoked" in out
    assert key[16:] not in out
    assert main(["apikey", "list", "--config", config, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "revoked"


def test_revoking_an_unknown_key_fails(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apikey", "revoke", "zzzzzzzzzzzz", "--config", config]) == 2
    assert "no API key with id 'zzzzzzzzzzzz'" in capsys.readouterr().err
    assert main(["apikey", "revoke", "gg_broken", "--config", config]) == 2
    assert "not a well-formed API key" in capsys.readouterr().err


def test_every_change_is_in_the_audit_log(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    key = created_key(config, capsys)
    assert main(["apikey", "revoke", key[3:15], "--config", config]) == 0
    capsys.readouterr()
    assert main(["audit", "search", "--config", config, "--type", "admin.apikey", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["type"] for r in records] == ["admin.apikey.revoke", "admin.apikey.create"]
    assert {r["jti"] for r in records} == {key[3:15]}
    assert key[16:] not in json.dumps(records)
    assert main(["audit", "verify", "--config", config]) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--route", "nope"), "no route with id 'nope'"),
        (("--route", "machine", "--tier", "gold"), "no quota tier 'gold'"),
        (("--route", "machine", "--expires", "soon"), "cannot read 'soon' as a lifetime"),
        (("--route", "machine", "--expires", "0s"), "as a lifetime"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    tmp_path: Path,
    config: str,
    capsys: pytest.CaptureFixture[str],
    extra: tuple[str, ...],
    message: str,
) -> None:
    assert main(create(config, *extra)) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "gg.db").exists()


def test_a_bad_name_is_refused(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = create(config, "--route", "machine")
    args[args.index("ci-bot")] = "bad name"
    assert main(args) == 2
    assert "API key name" in capsys.readouterr().err
    assert main(["apikey", "list", "--config", config]) == 0
    assert "no API keys" in capsys.readouterr().out


def test_a_scope_choice_is_required(config: str) -> None:
    with pytest.raises(SystemExit) as caught:
        main(create(config))
    assert caught.value.code == 2
    with pytest.raises(SystemExit):
        main(create(config, "--route", "machine", "--all-routes"))


def test_warnings_for_disabled_keys_and_issuer_limited_routes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, enabled=False)
    assert main(create(config, "--all-routes")) == 0
    err = capsys.readouterr().err
    assert "api_keys.enabled is false" in err
    assert "route 'humans' accepts only issuers okta" in err


def test_no_audit_log_means_no_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, key_file=f"{tmp_path}/missing-dir/audit.key")
    assert main(create(config, "--route", "machine")) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "storage_unavailable" in err
    assert main(["apikey", "list", "--db", str(tmp_path / "gg.db"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_list_never_creates_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apikey", "list", "--db", str(tmp_path / "none.db")]) == 2
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
