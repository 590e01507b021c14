"""API keys for machine identities: one row per key, the secret only as a SHA-256 digest.

Revision ID: 0002
Revises: 0001

A trigger lets a row change in one way only: revocation (``revoked_at`` from
NULL to a time, with ``revoked_by``). It refuses un-revoking a key and editing
what a key grants (subject, groups, routes, tier, expiry, digest), so a
mistake or an application bug cannot widen a key after the audited create.
Deleting a row is allowed: a missing key is refused like a revoked one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_REFUSAL = "glassgate api keys change only by revocation"
# Every column except revoked_at / revoked_by: none of them may ever change.
_FIXED = (
    "key_id",
    "name",
    "subject",
    "secret_hash",
    "group_names",
    "route_ids",
    "quota_tier",
    "created_at",
    "created_by",
    "expires_at",
)


def _create_table() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("group_names", sa.Text(), nullable=False),  # JSON array of strings
        sa.Column("route_ids", sa.Text()),  # JSON array of route ids; NULL: every route
        sa.Column("quota_tier", sa.String(64)),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("created_by", sa.String(512)),
        sa.Column("expires_at", sa.Double()),
        sa.Column("revoked_at", sa.Double()),
        sa.Column("revoked_by", sa.String(512)),
    )


def _sqlite_guard() -> None:
    changed = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in _FIXED)
    op.execute(
        "CREATE TRIGGER api_keys_revoke_only BEFORE UPDATE ON api_keys "
        f"WHEN OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL OR {changed} "
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
    )


def _postgres_guard() -> None:
    changed = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in _FIXED)
    op.execute(
        "CREATE FUNCTION glassgate_api_keys_revoke_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN IF OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL OR {changed} "
        f"THEN RAISE EXCEPTION '{_REFUSAL}'; END IF; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER api_keys_revoke_only BEFORE UPDATE ON api_keys "
        "FOR EACH ROW EXECUTE FUNCTION glassgate_api_keys_revoke_only()"
    )


def upgrade() -> None:
    _create_table()
    if op.get_bind().dialect.name == "postgresql":
        _postgres_guard()
    else:
        _sqlite_guard()


def downgrade() -> None:
    op.drop_table("api_keys")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION glassgate_api_keys_revoke_only()")
