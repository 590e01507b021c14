"""limits: the connection limits' defaults, and hostile values refused with a location."""

from __future__ import annotations

from pathlib import Path

import pytest

from glassgate.cli import main
from glassgate.config.load import load_config_text
from glassgate.errors import ConfigError

BASE = """\
version: 1
issuers:
  - id: idp
    issuer: http://127.0.0.1:9400
    audiences: [api://gateway]
limits:
"""


def test_defaults_bound_every_connection() -> None:
    limits = load_config_text(BASE + "  max_body_bytes: 1024\n", "g.yaml", {}).config.limits
    assert limits.header_timeout == 10.0
    assert limits.keepalive_timeout == 5.0
    assert limits.body_timeout == 60.0
    assert limits.max_connections == 1000


def test_durations_and_cap_are_read() -> None:
    text = BASE + (
        "  header_timeout: 2500ms\n  keepalive_timeout: 1m\n"
        "  body_timeout: 30s\n  max_connections: 64\n"
    )
    limits = load_config_text(text, "g.yaml", {}).config.limits
    assert (limits.header_timeout, limits.keepalive_timeout) == (2.5, 60.0)
    assert (limits.body_timeout, limits.max_connections) == (30.0, 64)


@pytest.mark.parametrize(
    ("line", "location"),
    [
        ("header_timeout: 0", "limits.header_timeout"),
        ("header_timeout: -1", "limits.header_timeout"),
        ("header_timeout: forever", "limits.header_timeout"),
        ("header_timeout: 1d", "limits.header_timeout"),
        ("header_timeout: true", "limits.header_timeout"),
        ("keepalive_timeout: 100ms", "limits.keepalive_timeout"),
        ("keepalive_timeout: 2d", "limits.keepalive_timeout"),
        ("body_timeout: 0", "limits.body_timeout"),
        ("body_timeout: 1e400", "limits.body_timeout"),
        ("body_timeout: [1]", "limits.body_timeout"),
        ("max_connections: 0", "limits.max_connections"),
        ("max_connections: -5", "limits.max_connections"),
        ("max_connections: 10000000000", "limits.max_connections"),
        ("max_connections: many", "limits.max_connections"),
        ("max_conections: 10", "limits.max_conections"),
    ],
)
def test_hostile_values_are_located(line: str, location: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(BASE + f"  {line}\n", "g.yaml", {})
    assert [p.location for p in info.value.problems] == [location]


def test_check_config_refuses_a_zero_deadline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(BASE + "  header_timeout: 0\n", encoding="utf-8")
    assert main(["check-config", str(path)]) == 2
    assert "limits.header_timeout" in capsys.readouterr().err
