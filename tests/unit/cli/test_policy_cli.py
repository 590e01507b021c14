"""``glassgate check-config``, ``policy explain`` and ``policy test`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glassgate.cli import main

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = str(ROOT / "examples" / "reference.yaml")
CASES = str(ROOT / "examples" / "reference-cases.yaml")


@pytest.fixture(autouse=True)
def _issuer(monkeypatch: pytest.MonkeyPatch) -> None:
    # The reference policy has no issuer default (issue 11 K): the user names one.
    monkeypatch.setenv("GLASSGATE_ISSUER", "http://127.0.0.1:9400")


def test_check_config_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", REFERENCE]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_check_config_reports_every_problem_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "issuers:\n  - id: idp\n    issuer: https://x\n    audiences: [a]\n"
        "    algorithms: [HS256]\n    secert: 1\n"
    )
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:5: issuers[0].algorithms[0]:" in err
    assert "issuers[0].secert: unknown key" in err


def test_check_config_print_masks_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTRO_SECRET", "hunter2-very-secret")
    config = tmp_path / "c.yaml"
    config.write_text(
        "issuers:\n  - id: idp\n    issuer: https://x\n    audiences: [a]\n"
        "    introspection: {client_id: gw, client_secret: '${INTRO_SECRET}'}\n"
    )
    assert main(["check-config", "--print", str(config)]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out
    assert "**********" in out


def test_missing_file_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "/nonexistent/glassgate.yaml"]) == 2
    assert "cannot read the file" in capsys.readouterr().err


def test_policy_test_reference_cases_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "test", "--config", REFERENCE, CASES]) == 0
    assert capsys.readouterr().out.strip().endswith(" passed, 0 failed")


def test_policy_test_fails_on_a_wrong_expectation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "now: 1800000000\ncases:\n"
        "  - name: contractor-is-not-allowed\n"
        "    request: {method: GET, path: /reports/q3, ip: 127.0.0.1}\n"
        "    claims: {sub: c, groups: [Analysts, Contractors]}\n"
        "    expect: {outcome: allow}\n"
    )
    assert main(["policy", "test", "--config", REFERENCE, str(cases)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out
    assert "outcome: expected allow, got deny" in out


def test_explain_shows_the_trace_and_challenge(capsys: pytest.CaptureFixture[str]) -> None:
    claims = json.dumps({"sub": "alice", "groups": ["Admins"], "amr": ["pwd"]})
    argv = ["policy", "explain", "--config", REFERENCE, "--claims", claims, "GET", "/admin/x"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "route:     admin" in out
    assert "auth-strength-insufficient" in out
    assert 'error="insufficient_user_authentication"' in out
    assert 'max_age="300"' in out


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    claims = json.dumps({"sub": "bob", "groups": ["Analysts", "Contractors"]})
    argv = [
        "policy",
        "explain",
        "--config",
        REFERENCE,
        "--claims",
        claims,
        "--json",
        "GET",
        "/reports/1",
    ]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["outcome"] == "deny"
    assert result["reasons"][-1] == "group-denylisted"


@pytest.mark.parametrize("claims", ["{not json", "[1,2]", '{"exp": "1795434915"}'])
def test_explain_bad_claims_never_crash(claims: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["policy", "explain", "--config", REFERENCE, "--claims", claims, "GET", "/public/x"]
    assert main(argv) in (0, 2)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err


def test_explain_rejected_path(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["policy", "explain", "--config", REFERENCE, "GET", "/public/%2e%2e%2fadmin"]
    assert main(argv) == 0
    assert "rejected (400)" in capsys.readouterr().out


def test_check_config_names_the_quota_store_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "rediss://gw:hunter2-very-secret@cache.internal:6380/2")
    config = tmp_path / "c.yaml"
    base = "issuers:\n  - id: idp\n    issuer: https://x\n    audiences: [a]\n"
    config.write_text(base)
    assert main(["check-config", str(config)]) == 0
    assert "  quota store: memory (this process only)" in capsys.readouterr().out
    config.write_text(base + "quotas: {store: {redis: {url: '${REDIS_URL}'}}}\n")
    assert main(["check-config", "--print", str(config)]) == 0
    out = capsys.readouterr().out
    assert "  quota store: redis rediss://cache.internal:6380/2" in out
    assert "hunter2" not in out
