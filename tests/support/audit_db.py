"""A gateway config and its SQLite audit log, as ``glassgate audit`` commands find them.

``Setup`` writes 12 records (ten decisions, a break-glass activation and a
config reload) with signed checkpoints at records 6 and 12, kept in the
database and in the checkpoint file; ``tamper`` does what someone with write
access to the database file can do.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from glassgate.adapters.storage.audit import open_audit_store
from glassgate.adapters.storage.audit.checkpoint_file import (
    CheckpointFile,
    load_or_create_signing_key,
)
from glassgate.adapters.storage.target import StorageTarget
from tests.support.audit import checkpoint_at, event

__all__ = ["CONFIG", "Setup", "setup"]

CONFIG = """\
issuers:
  - id: okta
    issuer: https://example.okta.com/oauth2/default
    audiences: [api://default]
    jwks_uri: https://example.okta.com/oauth2/default/v1/keys
storage:
  sqlite: {{path: {db}}}
audit:
  checkpoint: {{key_file: {key}, file: {checkpoints}}}
"""


class Setup:
    """A gateway config, its SQLite log with 12 records and checkpoints at 6 and 12."""

    def __init__(self, root: Path) -> None:
        self.db = root / "audit.db"
        self.key = root / "audit.key"
        self.checkpoints = root / "checkpoints.jsonl"
        self.config = root / "glassgate.yaml"
        self.config.write_text(
            CONFIG.format(db=self.db, key=self.key, checkpoints=self.checkpoints)
        )
        store = open_audit_store(StorageTarget("sqlite", str(self.db)))
        key = load_or_create_signing_key(self.key)
        events = [event(i) for i in range(10)] + [
            event(10, type="breakglass.activate", outcome="ok", actor="custodian-1"),
            event(11, type="config.reload", outcome="ok", actor="ops"),
        ]
        self.records = store.append(events)
        for record in (self.records[5], self.records[11]):
            checkpoint = checkpoint_at(record, key)
            store.add_checkpoint(checkpoint)
            CheckpointFile(self.checkpoints).add_checkpoint(checkpoint)
        store.close()

    def tamper(self, *statements: str) -> None:
        """What someone with write access to the database file can do."""
        conn = sqlite3.connect(self.db)
        try:
            for table in ("audit_records", "audit_checkpoints"):  # audit_prunes: on purpose
                for action in ("update", "delete"):
                    conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
            for statement in statements:
                conn.execute(statement)
            conn.commit()
        finally:
            conn.close()


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path)
