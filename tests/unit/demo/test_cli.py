"""cli.demo: registered in the command table, options parsed before anything starts."""

from __future__ import annotations

import pytest

from glassgate.cli import build_parser, main


def test_demo_is_a_command_with_its_options() -> None:
    args = build_parser().parse_args(["demo", "--port", "0", "--json"])
    assert (args.command, args.port, args.json, args.log_level) == ("demo", 0, True, "info")
    defaults = build_parser().parse_args(["demo"])
    assert (defaults.port, defaults.json) == (None, False)


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_bad_port_is_a_usage_error(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--port", port])
    assert exc.value.code == 2
    assert "--port" in capsys.readouterr().err


def test_help_says_development_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = capsys.readouterr().out
    assert "development-only" in out
    assert "Never use the demo issuer in production" in out
