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
from alembic.script import ScriptDirectory

from glassgate.adapters.storage.audit import open_audit_store
from glassgate.adapters.storage.directory import open_directory_store
from glassgate.adapters.storage.migrate import _alembic_config
from glassgate.adapters.storage.migrations import SCHEMA_HEAD
from glassgate.adapters.storage.revision import current_revision
from glassgate.adapters.storage.workflows import open_workflow_store
from glassgate.errors import StorageUnavailableError
from glassgate.workflows.stored import WorkflowRecord
from tests.support.audit import event
from tests.support.stores import empty_target, migrate_to

RECORD = WorkflowRecord("bg-request", "R1", 1, {"id": "R1"}, "ops", "pending")


def test_the_chain_is_one_line_ending_at_the_schema_head() -> None:
    script = ScriptDirectory.from_config(_alembic_config())
    assert script.get_heads() == [SCHEMA_HEAD]
    walked = [revision.revision for revision in script.walk_revisions()]
    assert walked == ["0007", "0004", "0003", "0006", "0002", "0001"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_breakglass_database_upgrades_to_the_directory_and_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    target = empty_target(backend, tmp_path, "0003.db", request)  # migrated here, step by step
    migrate_to(target, "0003")
    assert current_revision(target) == "0003"
    with pytest.raises(StorageUnavailableError, match="glassgate db upgrade"):
        open_directory_store(target, migrate=False)  # this glassgate needs 0004
    # records in the tables a 0003 database has: an audit record, a break-glass request
    migrate_to(target, "head")  # (today's stores open the head revision only)
    audit, workflows = open_audit_store(target), open_workflow_store(target)
    try:
        audit.append([event(0)])
        workflows.commit([RECORD])
    finally:
        audit.close()
        workflows.close()
    migrate_to(target, "0003", down=True)
    assert current_revision(target) == "0003"
    migrate_to(target, "head")  # what `glassgate db upgrade` does
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
