"""Index the event type of privileged audit records only.

Revision ID: 0007
Revises: 0004

``ix_audit_records_type`` indexed every record, so each ordinary decision (the
bulk of the log, all of type ``decision``) paid an index insert on the writer
thread, yet ``audit search --type`` never used it: the search matches a type
or a dotted prefix (``type = ? OR type LIKE ?``), and neither SQLite nor
PostgreSQL serves that ``LIKE`` from a plain B-tree. The partial index keeps
only the rare, privileged records (break-glass, grants, admin, ...); a type
search names its predicate (``type <> 'decision'``) and scans that small index
instead of the whole table. Ordinary decisions no longer touch it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None

# The one literal a type search repeats so the planner may use the partial
# index (SQLite matches the term textually): ``audit.records.EventType.DECISION``.
PRIVILEGED = "type <> 'decision'"


def upgrade() -> None:
    op.drop_index("ix_audit_records_type", table_name="audit_records")
    op.create_index(
        "ix_audit_records_privileged_type",
        "audit_records",
        ["type"],
        sqlite_where=sa.text(PRIVILEGED),
        postgresql_where=sa.text(PRIVILEGED),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_records_privileged_type", table_name="audit_records")
    op.create_index("ix_audit_records_type", "audit_records", ["type"])
