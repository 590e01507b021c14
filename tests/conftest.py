"""Shared fixtures, imported here so every test directory can use them."""

from __future__ import annotations

from tests.support.audit_db import setup  # noqa: F401 - fixture
from tests.support.browser import browser, people  # noqa: F401 - fixtures
from tests.support.echo_upstream import upstream  # noqa: F401 - fixture
from tests.support.idp import oidc_provider  # noqa: F401 - fixture
from tests.support.postgres import (  # noqa: F401 - fixtures
    _glassgate_template,
    glassgate_postgres_dsn,
    postgres_dsn,
    postgres_server,
)
from tests.support.redis_server import redis_server  # noqa: F401 - fixture
