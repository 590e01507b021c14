"""Alembic migrations for every glassgate table.

``SCHEMA_HEAD`` names the newest revision; stores compare it with the
database's ``alembic_version`` on open without importing Alembic. A test pins
it to Alembic's own head, so adding a revision means bumping it here.
"""

from __future__ import annotations

from typing import Final

__all__ = ["SCHEMA_HEAD", "SCRIPT_LOCATION"]

SCHEMA_HEAD: Final = "0007"
SCRIPT_LOCATION: Final = "glassgate.adapters.storage:migrations"
