"""The Alembic chain as it is merged: one line, and a database from before the directory upgrades.

Revision ids were reserved per feature and landed out of order (0001, 0002,
0006 audit prunes, 0003 break-glass, 0004 directory), so the chain is checked
as a chain: one head, every revision once. A database at 0003 (break-glass,
as main shipped it) with records in it upgrades to the head on SQLite and
PostgreSQL, keeps them, and gets an empty directory; downgrading to 0003
takes the directory away again and keeps the rest.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from glassgate.adapters.storage.audit import open_audit_store
from glassgate.adapters.storage.directory import open_directory_store
from glassgate.adapters.storage.migrate import _alembic_config, _engine
from glassgate.adapters.storage.migrations import SCHEMA_HEAD
from glassgate.adapters.storage.revision import current_revision
from glassgate.adapters.storage.target import StorageTarget
from glassgate.adapters.storage.workflows import open_workflow_store
from glassgate.errors import StorageUnavailableError
from glassgate.workflows.stored import WorkflowRecord
from tests.support.audit import event

RECORD = WorkflowRecord("bg-request", "R1", 1, {"id": "R1"}, "ops", "pending")


def test_the_chain_is_one_line_ending_at_the_schema_head() -> None:
    script = ScriptDirectory.from_config(_alembic_config())
    assert script.get_heads() == [SCHEMA_HEAD]
    walked = [revision.revision for revision in script.walk_revisions()]
    assert walked == ["0004", "0003", "0006", "0002", "0001"]


def _migrate(target: StorageTarget, revision: str, *, down: bool = False) -> None:
    engine = _engine(target)
    with engine.begin() as conn:
        (command.downgrade if down else command.upgrade)(_alembic_config(conn), revision)
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_breakglass_database_upgrades_to_the_directory_and_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    where = (
        str(tmp_path / "0003.db")
        if backend == "sqlite"
        else request.getfixturevalue("postgres_dsn")  # an empty database, migrated here
    )
    target = StorageTarget(backend, where)
    _migrate(target, "0003")
    assert current_revision(target) == "0003"
    with pytest.raises(StorageUnavailableError, match="glassgate db upgrade"):
        open_directory_store(target, migrate=False)  # this glassgate needs 0004
    # records in the tables a 0003 database has: an audit record, a break-glass request
    _migrate(target, "head")  # (today's stores open the head revision only)
    audit, workflows = open_audit_store(target), open_workflow_store(target)
    try:
        audit.append([event(0)])
        workflows.commit([RECORD])
    finally:
        audit.close()
        workflows.close()
    _migrate(target, "0003", down=True)
    assert current_revision(target) == "0003"
    _migrate(target, "head")  # what `glassgate db upgrade` does
    assert current_revision(target) == SCHEMA_HEAD
    directory, workflows = open_directory_store(target), open_workflow_store(target)
    audit = open_audit_store(target)
    try:
        assert directory.revision() == 0
        assert directory.load().users == ()
        assert workflows.get("bg-request", "R1") == RECORD
        assert len(audit.scan()) == 1
    finally:
        directory.close()
        workflows.close()
        audit.close()
