"""The directory (SPEC C6): users, groups, direct memberships, group rules, SCIM tokens.

Revision ID: 0004
Revises: 0003

``directory_state`` holds one row whose ``revision`` grows with every commit;
a commit names the revision it was planned on and fails if another process
committed since (optimistic concurrency), so a lockout-guard decision is
never made on a stale snapshot. Rule matches are not stored: they are
recomputed from ``directory_rules`` when the directory is loaded.

``scim_tokens`` keeps SCIM bearer tokens as SHA-256 digests only, in the API
keys' format (``tokens.api_keys``); like ``api_keys`` a row may change only by
being revoked.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_REFUSAL = "glassgate scim tokens change only by revocation"
_FIXED = ("key_id", "name", "secret_hash", "created_at", "created_by")


def _tables() -> None:
    op.create_table(
        "directory_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO directory_state (id, revision) VALUES (1, 0)")
    op.create_table(
        "directory_users",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("user_name", sa.String(256), nullable=False),
        sa.Column("user_key", sa.String(256), nullable=False, unique=True),  # casefolded
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(256)),
        sa.Column("attributes", sa.Text(), nullable=False),  # JSON object
        sa.Column("extra", sa.Text(), nullable=False),  # JSON object (SCIM round trip)
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.Column("modified", sa.Double(), nullable=False),
    )
    op.create_table(
        "directory_groups",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("name_key", sa.String(256), nullable=False, unique=True),  # casefolded
        sa.Column("external_id", sa.String(256)),
        sa.Column("extra", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.Column("modified", sa.Double(), nullable=False),
    )
    op.create_table(
        "directory_members",
        sa.Column("group_id", sa.String(128), primary_key=True),
        sa.Column("user_id", sa.String(128), primary_key=True),
    )
    op.create_index("directory_members_by_user", "directory_members", ["user_id"])
    op.create_table(
        "directory_rules",
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("assign", sa.Text(), nullable=False),  # JSON array of group names
        sa.Column("exclude_users", sa.Text(), nullable=False),  # JSON array of user ids
        sa.Column("enabled", sa.Integer(), nullable=False),
    )
    op.create_table(
        "scim_tokens",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("created_by", sa.String(512)),
        sa.Column("revoked_at", sa.Double()),
        sa.Column("revoked_by", sa.String(512)),
    )


def _sqlite_guard() -> None:
    changed = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in _FIXED)
    op.execute(
        "CREATE TRIGGER scim_tokens_revoke_only BEFORE UPDATE ON scim_tokens "
        f"WHEN OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL OR {changed} "
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
    )


def _postgres_guard() -> None:
    changed = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in _FIXED)
    op.execute(
        "CREATE FUNCTION glassgate_scim_tokens_revoke_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN IF OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL OR {changed} "
        f"THEN RAISE EXCEPTION '{_REFUSAL}'; END IF; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER scim_tokens_revoke_only BEFORE UPDATE ON scim_tokens "
        "FOR EACH ROW EXECUTE FUNCTION glassgate_scim_tokens_revoke_only()"
    )


def upgrade() -> None:
    _tables()
    if op.get_bind().dialect.name == "postgresql":
        _postgres_guard()
    else:
        _sqlite_guard()


def downgrade() -> None:
    for table in (
        "scim_tokens",
        "directory_rules",
        "directory_members",
        "directory_groups",
        "directory_users",
        "directory_state",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION glassgate_scim_tokens_revoke_only()")
