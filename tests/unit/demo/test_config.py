"""demo.config: the rendered YAML is an ordinary, valid glassgate configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from glassgate.config.load import load_config_text
from glassgate.demo.breakglass import write_sealed_credential
from glassgate.demo.config import (
    AUDIENCE,
    BREAKGLASS_ACCOUNT,
    BREAKGLASS_ACR,
    CUSTODIANS,
    MAX_AUTH_AGE,
    QUOTA_BURST,
    QUOTA_INTERVAL,
    DemoAddresses,
    render_config,
)


@pytest.fixture
def state(tmp_path: Path) -> str:
    return _state_dir(tmp_path / "demo")


def _state_dir(path: Path) -> str:
    """A state directory as the runner leaves it: with the sealed stand-in token in it."""
    path.mkdir(parents=True, exist_ok=True)
    write_sealed_credential(str(path))
    return str(path)


def _addresses(state_dir: str) -> DemoAddresses:
    return DemoAddresses(
        listen="127.0.0.1:8181",
        issuer="http://127.0.0.1:9400/development-only",
        jwks_uri="http://127.0.0.1:9400/development-only/jwks.json",
        upstream="http://127.0.0.1:9000",
        state_dir=state_dir,
    )


def test_renders_a_valid_config_with_the_addresses(state: str) -> None:
    text = render_config(_addresses(state))
    assert "${" not in text
    assert text.startswith("# glassgate demo configuration")
    assert "DEVELOPMENT ONLY" in text.splitlines()[0]
    config = load_config_text(text, "demo.yaml", {}).config
    assert config.listen == "127.0.0.1:8181"
    (issuer,) = config.issuers
    assert issuer.issuer == "http://127.0.0.1:9400/development-only"
    assert issuer.jwks_uri == "http://127.0.0.1:9400/development-only/jwks.json"
    assert issuer.audiences == (AUDIENCE,)
    assert issuer.algorithms == ("RS256",)
    assert issuer.token_type == "at+jwt"
    assert config.upstreams[0].targets == ("http://127.0.0.1:9000",)
    assert config.trusted_proxies == ()


def test_policy_routes_and_tiers(state: str) -> None:
    config = load_config_text(render_config(_addresses(state)), "demo.yaml", {}).config
    routes = {route.id: route for route in config.routes}
    assert list(routes) == [
        "public",
        "reports",
        "admin",
        "limited",
        "breakglass",
        "idp-admin",
        "drill",
    ]
    assert routes["reports"].allow.groups == ("Analysts",)
    assert routes["reports"].deny.groups == ("Contractors",)
    assert routes["admin"].require.auth_strength == "mfa"
    assert routes["admin"].require.max_auth_age == MAX_AUTH_AGE
    assert routes["limited"].quota == "demo-burst"
    tier = config.quotas.tiers["demo-burst"]
    assert (tier.burst, tier.per / tier.rate) == (QUOTA_BURST, QUOTA_INTERVAL)
    assert config.auth_strength["breakglass"].acr == (BREAKGLASS_ACR,)
    assert config.auth_strength["mfa"].amr == ("mfa",)


@pytest.mark.parametrize("name", ["with space", 'q"uote\\back', "dollar$x"])
def test_state_lives_in_the_demo_directory_whatever_its_name(tmp_path: Path, name: str) -> None:
    state_dir = _state_dir(tmp_path / name) + "/"
    config = load_config_text(render_config(_addresses(state_dir)), "demo.yaml", {}).config
    base = state_dir.rstrip("/")
    assert config.storage.sqlite.path == f"{base}/glassgate-demo.db"
    assert config.audit.checkpoint.key_file.startswith(base + "/")
    assert config.audit.checkpoint.file.startswith(base + "/")


def test_the_break_glass_path_is_configured(state: str) -> None:
    loaded = load_config_text(render_config(_addresses(state)), "demo.yaml", {})
    config = loaded.config
    assert config.console.enabled
    assert config.console.listen == "127.0.0.1:8081"
    assert config.alerts.required
    breakglass = config.breakglass
    assert breakglass is not None
    assert [a.name for a in breakglass.accounts] == [BREAKGLASS_ACCOUNT]
    assert breakglass.custodians == CUSTODIANS
    assert breakglass.webauthn.origins == ("http://localhost:8081",)
    compiled = loaded.compiled.breakglass
    assert compiled is not None
    assert compiled.policy.recovery_routes == ("idp-admin",)
    assert compiled.policy.drill_route == "drill"
