"""Tampering with a real audit database, as an attacker with write access would (issue 11 audit).

Every case drops the append-only triggers first: they stop mistakes, not the
database's owner. What must then catch the tampering is ``glassgate audit
verify`` (and ``audit search``, which must never hand out a record whose
columns disagree with its hashed body).
"""

from __future__ import annotations

import pytest

from glassgate.cli import main
from tests.support.audit_db import Setup


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
