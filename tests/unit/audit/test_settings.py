"""audit.settings: misuse is a ValueError at construction, with a plain sentence."""

from __future__ import annotations

from typing import Any

import pytest

from glassgate.audit.settings import AuditSettings


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"sample_rate": 1.5}, "between 0 and 1", id="case=rate-above-one"),
        pytest.param({"sample_rate": -0.1}, "between 0 and 1", id="case=negative-rate"),
        pytest.param({"queue_size": 0}, "at least 1", id="case=no-queue"),
        pytest.param({"batch_size": 0}, "at least 1", id="case=no-batch"),
        pytest.param({"write_timeout": 0}, "positive", id="case=no-timeout"),
        pytest.param({"retry_max": -1}, "positive", id="case=negative-retry"),
    ],
)
def test_settings_refuse_impossible_values(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AuditSettings(**fields)
