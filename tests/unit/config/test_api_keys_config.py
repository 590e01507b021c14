"""The ``api_keys`` config section: off by default, bounded cache settings."""

from __future__ import annotations

import pytest

from glassgate.config.load import load_config_text
from glassgate.errors import ConfigError

BASE = """
issuers:
  - id: idp
    issuer: https://idp.example
    audiences: [api]
    jwks_uri: https://idp.example/jwks
"""


def test_off_by_default() -> None:
    settings = load_config_text(BASE, "t.yaml", {}).config.api_keys
    assert settings.enabled is False
    assert (settings.cache_ttl, settings.negative_cache_ttl) == (5.0, 2.0)


def test_durations_and_sizes() -> None:
    text = BASE + "api_keys: {enabled: true, cache_ttl: 500ms, negative_cache_size: 50}\n"
    settings = load_config_text(text, "t.yaml", {}).config.api_keys
    assert (settings.enabled, settings.cache_ttl, settings.negative_cache_size) == (True, 0.5, 50)


@pytest.mark.parametrize(
    ("section", "where"),
    [
        ("{cache_ttl: 10m}", "api_keys.cache_ttl"),
        ("{negative_cache_size: 0}", "api_keys.negative_cache_size"),
        ("{enable: true}", "api_keys.enable"),
    ],
)
def test_refused_settings_are_located(section: str, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(BASE + f"api_keys: {section}\n", "t.yaml", {})
    assert any(problem.location.startswith(where) for problem in caught.value.problems)
