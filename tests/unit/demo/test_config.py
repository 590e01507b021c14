"""demo.config: the rendered YAML is an ordinary, valid glassgate configuration."""

from __future__ import annotations

import pytest

from glassgate.config.load import load_config_text
from glassgate.demo.config import (
    AUDIENCE,
    BREAKGLASS_ACR,
    MAX_AUTH_AGE,
    QUOTA_BURST,
    QUOTA_INTERVAL,
    DemoAddresses,
    render_config,
)


def _addresses(state_dir: str = "/tmp/demo") -> DemoAddresses:
    return DemoAddresses(
        listen="127.0.0.1:8181",
        issuer="http://127.0.0.1:9400/development-only",
        jwks_uri="http://127.0.0.1:9400/development-only/jwks.json",
        upstream="http://127.0.0.1:9000",
        state_dir=state_dir,
    )


def test_renders_a_valid_config_with_the_addresses() -> None:
    text = render_config(_addresses())
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


def test_policy_routes_and_tiers() -> None:
    config = load_config_text(render_config(_addresses()), "demo.yaml", {}).config
    routes = {route.id: route for route in config.routes}
    assert list(routes) == ["public", "reports", "admin", "limited", "breakglass"]
    assert routes["reports"].allow.groups == ("Analysts",)
    assert routes["reports"].deny.groups == ("Contractors",)
    assert routes["admin"].require.auth_strength == "mfa"
    assert routes["admin"].require.max_auth_age == MAX_AUTH_AGE
    assert routes["limited"].quota == "demo-burst"
    tier = config.quotas["demo-burst"]
    assert (tier.burst, tier.per / tier.rate) == (QUOTA_BURST, QUOTA_INTERVAL)
    assert config.auth_strength["breakglass"].acr == (BREAKGLASS_ACR,)
    assert config.auth_strength["mfa"].amr == ("mfa",)


@pytest.mark.parametrize("state_dir", ["/tmp/with space", '/tmp/q"uote\\back', "/tmp/dollar$x/"])
def test_state_lives_in_the_demo_directory_whatever_its_name(state_dir: str) -> None:
    config = load_config_text(render_config(_addresses(state_dir)), "demo.yaml", {}).config
    base = state_dir.rstrip("/")
    assert config.storage.sqlite.path == f"{base}/glassgate-demo.db"
    assert config.audit.checkpoint.key_file.startswith(base + "/")
    assert config.audit.checkpoint.file.startswith(base + "/")
