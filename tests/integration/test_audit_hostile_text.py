"""A request whose text looks like a credential is answered and recorded (issue 11 E).

Before the fix, ``basic bearer xxxxxxxx`` in a path was redacted to ``basic
[redacted]``, which tripped the screen again: the event build raised and the
request answered 500 with no audit record. Through a real gateway process:
the request is answered normally, the record is there, cleaned, and ``audit
verify`` finds the chain intact.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from glassgate.cli import main
from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess
from tests.support.gateway_config import base_config, write_config

HOSTILE = ("/open/basic%20bearer%20xxxxxxxx", "/open/basic%20basic%20bearer%20yyyyyyyy")


def test_credential_shaped_paths_are_answered_and_recorded(
    oidc_provider: Any,
    upstream: EchoUpstream,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "gw.db"
    config = tmp_path / "gw.yaml"
    settings = base_config(
        oidc_provider.issuer,
        upstream.url,
        storage={"sqlite": {"path": str(db)}},
        audit={
            "checkpoint": {"key_file": str(tmp_path / "k.pem"), "file": str(tmp_path / "c.jsonl")}
        },
        routes=[{"id": "open", "match": {"path": "/open/*"}, "upstream": "app", "anonymous": True}],
    )
    write_config(config, settings)
    gateway = GatewayProcess(config, {}, tmp_path / "gw.log")
    gateway.start()
    try:
        for path in HOSTILE:
            assert httpx.get(gateway.url + path, timeout=10).status_code == 200
    finally:
        gateway.stop()
    with sqlite3.connect(db) as conn:
        bodies = [row[0] for row in conn.execute("SELECT body FROM audit_records ORDER BY seq")]
    paths = [json.loads(body)["details"]["path"] for body in bodies]
    assert len(paths) == len(HOSTILE)
    assert all("[redacted]" in path for path in paths)
    assert not any(b"xxxxxxxx" in body or b"yyyyyyyy" in body for body in bodies)
    assert "Traceback" not in (tmp_path / "gw.log").read_text()
    monkeypatch.setenv("GLASSGATE_LISTEN", gateway.env["GLASSGATE_LISTEN"])
    assert main(["audit", "verify", "--config", str(config)]) == 0
    assert "intact" in capsys.readouterr().out
