"""One rule for real parts that are missing: skip locally, fail in CI.

``GLASSGATE_REQUIRE_INTEGRATION=1`` (set by ``.ci/run``) turns every skip for a
missing program or package (node and the IdP, PostgreSQL, Redis, nginx, Caddy,
Traefik, Chromium and Playwright) into a failure, so CI cannot go green by
running fewer tests.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["REQUIRE_ENV", "integration_required", "skip_or_fail"]

REQUIRE_ENV = "GLASSGATE_REQUIRE_INTEGRATION"


def integration_required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def skip_or_fail(reason: str) -> NoReturn:
    if integration_required():
        pytest.fail(f"integration tests are required ({REQUIRE_ENV}=1) but {reason}")
    pytest.skip(reason)
