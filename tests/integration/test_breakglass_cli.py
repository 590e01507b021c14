"""The break-glass commands against a real SQLite database and audit log."""

from __future__ import annotations

import json
from ipaddress import ip_address
from pathlib import Path

import pytest

from glassgate.cli import main
from glassgate.workflows.service import BreakglassService
from tests.support.breakglass import ConfigWorld

ORIGIN = "http://localhost:8081"
HERE = ip_address("127.0.0.1")

CONFIG = """
issuers:
  - {{id: idp, issuer: "https://idp.example", audiences: [api]}}
upstreams:
  - {{id: app, targets: ["http://127.0.0.1:9"]}}
routes:
  - {{id: okta-admin, match: {{path: /api/v1/*}}, upstream: app}}
  - {{id: drill, match: {{path: /drill/*}}, upstream: app}}
storage:
  sqlite: {{path: "{dir}/gw.db"}}
audit:
  checkpoint: {{key_file: "{dir}/audit.key", file: "{dir}/checkpoints.jsonl"}}
breakglass:
  accounts:
    - {{name: ops, networks: [127.0.0.0/8]}}
  custodians: [alice, bob]
  recovery_routes:
    - {{route: okta-admin}}
  drill_route: drill
  argon2: {{time_cost: 1, memory_cost: 8, parallelism: 1}}
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "gw.yaml"
    path.write_text(CONFIG.format(dir=tmp_path))
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_create_status_incident_report_drill(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = str(config_file)
    world = ConfigWorld(config_file)
    code, out, err = cli(capsys, "breakglass", "create", "ops", "--config", conf)
    assert code == 0
    assert out.startswith(f"{ORIGIN}/enrol/")
    assert "works once" in err
    world.enrol("ops", out.strip())
    for name in ("alice", "bob"):
        code, out, _ = cli(capsys, "custodian", "create", name, "--config", conf)
        assert code == 0
        world.enrol(name, out.strip())
    code, _, err = cli(capsys, "custodian", "create", "mallory", "--config", conf)
    assert code == 2
    assert "breakglass.custodians" in err
    code, out, _ = cli(capsys, "drill", "status", "--config", conf)
    assert code == 1
    assert "OVERDUE ops" in out
    assert cli(capsys, "breakglass", "status", "--config", conf)[0] == 0

    async def emergency(service: BreakglassService) -> str:
        ops = await world.sign_in(service, "ops")
        request = await service.activations.request(ops, "SSO broken", "INC-5")
        await world.approve(service, "alice", request.id)
        await world.approve(service, "bob", request.id)
        started = await service.sessions.activate(ops, request.id, HERE)
        session = await service.sessions.check(started.token.reveal(), HERE)
        await service.sessions.note_use(session.id, succeeded=True, drill_route=False)
        await service.sessions.end(ops, session.id)
        return request.id

    request_id = world.run(emergency)
    code, out, _ = cli(capsys, "breakglass", "status", "--config", conf)
    assert code == 1
    assert "OPEN incident" in out
    code, out, _ = cli(capsys, "breakglass", "incidents", "--config", conf, "--json")
    (incident,) = json.loads(out)
    assert incident["incident_ref"] == "INC-5"
    code, out, _ = cli(capsys, "breakglass", "report", request_id, "--config", conf, "--json")
    assert code == 0
    report = json.loads(out)
    assert [a["custodian"] for a in report["approvers"]] == ["custodian:alice", "custodian:bob"]
    assert all(a["key_id"] for a in report["approvers"])
    assert report["audit_verified"] is True
    assert report["audit_range"]["first_seq"] < report["audit_range"]["last_seq"]
    code, out, _ = cli(capsys, "breakglass", "report", request_id, "--config", conf)
    assert "audit verify PASSES" in out
    code, _, err = cli(
        capsys, "breakglass", "close-incident", incident["id"], "--notes", "", "--config", conf
    )
    assert code == 2
    code, out, _ = cli(
        capsys,
        "breakglass",
        "close-incident",
        incident["id"],
        "--notes",
        "SSO restored",
        "--config",
        conf,
    )
    assert code == 0
    assert cli(capsys, "breakglass", "status", "--config", conf)[0] == 0
    code, out, _ = cli(capsys, "breakglass", "reset", "ops", "--reason", "rotate", "--config", conf)
    assert code == 0
    assert out.startswith("R-")
    assert cli(capsys, "audit", "verify", "--config", conf)[0] == 0


def test_drill_history_and_status_after_a_drill(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = str(config_file)
    world = ConfigWorld(config_file)
    for command, name in (("breakglass", "ops"), ("custodian", "alice"), ("custodian", "bob")):
        code, out, _ = cli(capsys, command, "create", name, "--config", conf)
        world.enrol(name, out.strip())
    assert cli(capsys, "drill", "status", "--config", conf)[0] == 1

    async def drill(service: BreakglassService) -> None:
        ops = await world.sign_in(service, "ops")
        request = await service.activations.request(ops, "quarterly drill", None, drill=True)
        await world.approve(service, "alice", request.id)
        await world.approve(service, "bob", request.id)
        started = await service.sessions.activate(ops, request.id, HERE)
        await service.sessions.note_use(started.session.id, succeeded=True, drill_route=True)
        await service.sessions.end(ops, started.session.id)

    world.run(drill)
    code, out, _ = cli(capsys, "drill", "status", "--config", conf)
    assert code == 0
    code, out, _ = cli(capsys, "drill", "history", "--config", conf, "--json")
    (entry,) = json.loads(out)
    assert entry["result"] == "passed"
    assert entry["time_to_access"] is not None
    assert cli(capsys, "breakglass", "status", "--config", conf)[0] == 0  # no incident


def test_no_breakglass_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(CONFIG.format(dir=tmp_path).split("breakglass:", maxsplit=1)[0])
    code, _, err = cli(capsys, "breakglass", "status", "--config", str(path))
    assert code == 2
    assert "no breakglass section" in err
