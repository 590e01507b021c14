"""The audit log: hash-chained records and signed checkpoints.

Revision ID: 0001
Revises: none

Both tables are append-only: triggers refuse UPDATE and DELETE (and TRUNCATE
on PostgreSQL). That stops mistakes and ordinary application bugs, not the
database's owner; the hash chain and the checkpoints kept outside the
database are what detect the owner's tampering.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TABLES = ("audit_records", "audit_checkpoints")
_REFUSAL = "glassgate audit tables are append-only"


def _seq() -> sa.Column[int]:
    # On SQLite an INTEGER PRIMARY KEY is the rowid: the cheapest ordered key.
    kind = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    return sa.Column("seq", kind, primary_key=True, autoincrement=False)


def _create_tables() -> None:
    op.create_table(
        "audit_records",
        _seq(),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("type", sa.String(140), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(512)),
        sa.Column("actor", sa.String(512)),
        sa.Column("route", sa.String(512)),
        sa.Column("request_id", sa.String(512)),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
    )
    for column in ("ts", "subject", "route", "type"):
        op.create_index(f"ix_audit_records_{column}", "audit_records", [column])
    op.create_table(
        "audit_checkpoints",
        _seq(),
        sa.Column("head", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
    )


def _sqlite_triggers() -> None:
    for table in _TABLES:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
            )


def _postgres_triggers() -> None:
    op.execute(
        "CREATE FUNCTION glassgate_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{_REFUSAL}'; END $$"
    )
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION glassgate_audit_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION glassgate_audit_append_only()"
        )


def upgrade() -> None:
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION glassgate_audit_append_only()")
