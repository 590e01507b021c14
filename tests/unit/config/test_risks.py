"""config.risks: settings that load but deserve a warning (issue 11 K)."""

from __future__ import annotations

from pathlib import Path

import pytest

from glassgate.cli import main
from glassgate.config.load import load_config, load_config_text
from glassgate.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]

TEMPLATE = """\
version: 1
issuers:
  - id: idp
    issuer: {issuer}
    audiences: [api://gateway]
{extra}"""


def _warnings(issuer: str, extra: str = "") -> list[tuple[str, int | None, str]]:
    loaded = load_config_text(TEMPLATE.format(issuer=issuer, extra=extra), "gw.yaml", {})
    return [(w.location, w.line, w.message) for w in loaded.warnings]


@pytest.mark.parametrize(
    "issuer",
    [
        "https://idp.example.com",
        "http://127.0.0.1:9400",
        "http://127.5.6.7",
        "http://[::1]:9400/realms/x",
        "http://localhost:8080",
        "http://idp.localhost",
    ],
)
def test_https_or_loopback_issuer_is_quiet(issuer: str) -> None:
    assert _warnings(issuer) == []


@pytest.mark.parametrize(
    "issuer",
    [
        "http://idp.example.com",
        "http://10.0.0.5:9400",
        "http://0.0.0.0:9400",
        "HTTP://IDP.EXAMPLE.COM",
        "http://localhost.evil.example",
        "http://127.0.0.1.nip.io",
    ],
)
def test_plain_http_issuer_elsewhere_warns(issuer: str) -> None:
    [(location, line, message)] = _warnings(issuer)
    assert (location, line) == ("issuers[0].issuer", 4)
    assert "plain HTTP" in message


@pytest.mark.parametrize(
    ("extra", "location"),
    [
        ("    jwks_uri: http://keys.example.com/jwks\n", "issuers[0].jwks_uri"),
        ("    discovery_url: http://idp.example.com/.well-known/x\n", "issuers[0].discovery_url"),
        (
            "    introspection:\n      endpoint: http://idp.example.com/introspect\n"
            "      client_id: gw\n      client_secret: s\n",
            "issuers[0].introspection.endpoint",
        ),
    ],
)
def test_plain_http_key_urls_warn(extra: str, location: str) -> None:
    found = _warnings("https://idp.example.com", extra)
    assert [item[0] for item in found] == [location]


def test_check_config_prints_warnings_and_still_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(TEMPLATE.format(issuer="http://idp.example.com", extra=""))
    assert main(["check-config", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("OK: ")
    assert f"warning: {path}:4: issuers[0].issuer:" in captured.err


def test_the_reference_policy_has_no_silent_issuer_default() -> None:
    env = {"GLASSGATE_AUDIENCE": "api://gateway", "GLASSGATE_UPSTREAM": "http://127.0.0.1:9"}
    with pytest.raises(ConfigError) as info:
        load_config(ROOT / "examples" / "reference.yaml", env)
    messages = [p.message for p in info.value.problems]
    assert "environment variable GLASSGATE_ISSUER is not set" in messages


def test_the_reference_policy_is_quiet_with_a_loopback_issuer() -> None:
    env = {"GLASSGATE_ISSUER": "http://127.0.0.1:9400"}
    assert load_config(ROOT / "examples" / "reference.yaml", env).warnings == ()
