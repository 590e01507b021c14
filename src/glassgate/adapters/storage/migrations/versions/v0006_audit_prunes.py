"""Audit retention: signed prune checkpoints, and deletes allowed below them only.

Revision ID: 0006
Revises: 0002

``audit_prunes`` keeps each prune checkpoint (``glassgate audit prune``): the
range removed, the head it cut at, the export's digest and the signature. It
is append-only like the other audit tables. The guard on ``audit_records``
then refuses a DELETE unless the row is at or below a recorded prune point,
so the prune transaction (insert the prune row, delete below it) passes and
anything else still does not. As before, the guards stop mistakes, not the
database's owner: ``audit verify`` checks every prune checkpoint's signature.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None

_REFUSAL = "glassgate audit tables are append-only"
_BELOW_PRUNE = "OLD.seq <= (SELECT COALESCE(MAX(seq), 0) FROM audit_prunes)"


def _create_table() -> None:
    kind = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "audit_prunes",
        sa.Column("seq", kind, primary_key=True, autoincrement=False),
        sa.Column("pruned_from", kind, nullable=False),
        sa.Column("head", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("export_sha256", sa.String(64)),
    )


def _sqlite_upgrade() -> None:
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_prunes_no_{action.lower()} BEFORE {action} ON audit_prunes "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
        )
    op.execute("DROP TRIGGER audit_records_no_delete")
    op.execute(
        "CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records "
        f"WHEN NOT ({_BELOW_PRUNE}) BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
    )


def _postgres_upgrade() -> None:
    op.execute(
        "CREATE TRIGGER audit_prunes_append_only BEFORE UPDATE OR DELETE ON audit_prunes "
        "FOR EACH ROW EXECUTE FUNCTION glassgate_audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_prunes_no_truncate BEFORE TRUNCATE ON audit_prunes "
        "FOR EACH STATEMENT EXECUTE FUNCTION glassgate_audit_append_only()"
    )
    op.execute(
        "CREATE FUNCTION glassgate_audit_delete_guard() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN IF {_BELOW_PRUNE} THEN RETURN OLD; END IF; RAISE EXCEPTION '{_REFUSAL}'; END $$"
    )
    op.execute("DROP TRIGGER audit_records_append_only ON audit_records")
    op.execute(
        "CREATE TRIGGER audit_records_append_only BEFORE UPDATE ON audit_records "
        "FOR EACH ROW EXECUTE FUNCTION glassgate_audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_records_delete_guard BEFORE DELETE ON audit_records "
        "FOR EACH ROW EXECUTE FUNCTION glassgate_audit_delete_guard()"
    )


def upgrade() -> None:
    _create_table()
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_records_delete_guard ON audit_records")
        op.execute("DROP TRIGGER audit_records_append_only ON audit_records")
        op.execute(
            "CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records "
            "FOR EACH ROW EXECUTE FUNCTION glassgate_audit_append_only()"
        )
        op.execute("DROP FUNCTION glassgate_audit_delete_guard()")
    else:
        op.execute("DROP TRIGGER audit_records_no_delete")
        op.execute(
            "CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
        )
    op.drop_table("audit_prunes")
