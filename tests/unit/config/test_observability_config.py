"""The ``observability`` config section: defaults, and located problems for bad values."""

from __future__ import annotations

import pytest

from glassgate.config.load import load_config_text
from glassgate.errors import ConfigError

BASE = """\
version: 1
issuers:
  - id: idp
    issuer: http://127.0.0.1:9400
    audiences: [api://gateway]
"""


def test_defaults_serve_metrics_to_loopback_and_log_every_request() -> None:
    config = load_config_text(BASE, "g.yaml", {}).config.observability
    assert config.metrics
    assert config.metrics_path == "/metrics"
    assert config.metrics_allow == ("127.0.0.0/8", "::1/128")
    assert config.access_log
    assert config.decision_log_sample == 1.0


def test_values_are_normalised() -> None:
    text = BASE + "observability:\n  metrics_allow: ['10.1.2.0/24', '::1']\n  access_log: false\n"
    config = load_config_text(text, "g.yaml", {}).config.observability
    assert config.metrics_allow == ("10.1.2.0/24", "::1/128")
    assert not config.access_log


@pytest.mark.parametrize(
    ("section", "location"),
    [
        pytest.param("metrics_allow: ['10.1.2.3/8']", "metrics_allow[0]", id="case=host-bits-set"),
        pytest.param("metrics_allow: ['everyone']", "metrics_allow[0]", id="case=not-a-cidr"),
        pytest.param("decision_log_sample: 1.5", "decision_log_sample", id="case=sample-above-one"),
        pytest.param("metrics_path: metrics", "metrics_path", id="case=relative-path"),
        pytest.param("metric: true", "metric", id="case=unknown-key"),
    ],
)
def test_bad_values_are_located(section: str, location: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(BASE + f"observability:\n  {section}\n", "g.yaml", {})
    assert [p.location for p in info.value.problems] == [f"observability.{location}"]
