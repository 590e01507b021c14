"""Break-glass workflow records: accounts, custodians, keys, links, requests, sessions, ...

Revision ID: 0003
Revises: 0006

One table of versioned JSON documents (``WorkflowStore``): ``(kind, key)`` is
unique and ``seq`` keeps the order records were first written. A trigger
lets an update only move a record's version forward by one and never change
its kind or key, so a lost update or an application bug cannot rewrite
history silently. Deleting is allowed for expired short-lived records only
(challenges, console sessions), which the store's ``purge`` does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0006"
branch_labels = None
depends_on = None

_REFUSAL = "glassgate workflow records change only to their next version"


def _create_table() -> None:
    op.create_table(
        "workflow_records",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("idx_a", sa.String(256)),
        sa.Column("idx_b", sa.String(64)),
        sa.Column("expires_at", sa.Double()),
        sa.UniqueConstraint("kind", "key", name="workflow_records_kind_key"),
    )
    op.create_index("workflow_records_a", "workflow_records", ["kind", "idx_a"])
    op.create_index("workflow_records_b", "workflow_records", ["kind", "idx_b"])
    op.create_index("workflow_records_expiry", "workflow_records", ["kind", "expires_at"])


def upgrade() -> None:
    _create_table()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION glassgate_workflow_records_forward() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN IF NEW.version <> OLD.version + 1 "
            "OR NEW.kind IS DISTINCT FROM OLD.kind OR NEW.key IS DISTINCT FROM OLD.key "
            "OR NEW.seq IS DISTINCT FROM OLD.seq "
            f"THEN RAISE EXCEPTION '{_REFUSAL}'; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER workflow_records_forward BEFORE UPDATE ON workflow_records "
            "FOR EACH ROW EXECUTE FUNCTION glassgate_workflow_records_forward()"
        )
    else:
        op.execute(
            "CREATE TRIGGER workflow_records_forward BEFORE UPDATE ON workflow_records "
            "WHEN NEW.version <> OLD.version + 1 OR NEW.kind IS NOT OLD.kind "
            "OR NEW.key IS NOT OLD.key OR NEW.seq IS NOT OLD.seq "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
        )


def downgrade() -> None:
    op.drop_table("workflow_records")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION glassgate_workflow_records_forward()")
