"""Console accounts, script versions (four-eyes approval) and suppression removal requests (issue 16).

Revision ID: 0005_console
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_console"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create console_users, script_versions and suppression_removals."""
    ts = sa.DateTime()
    op.create_table(
        "console_users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "script_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("use_case", sa.String(64), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("submitted_at", ts, nullable=False),
        sa.Column("approved_by", sa.String(64)),
        sa.Column("approved_at", ts),
        sa.UniqueConstraint("name", "content_hash", name="uq_script_versions_name_hash"),
    )
    op.create_index("ix_script_versions_name", "script_versions", ["name"])
    op.create_table(
        "suppression_removals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("phone_hash", sa.String(64), nullable=False),
        sa.Column("phone_masked", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(16)),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", ts, nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", ts),
    )


def downgrade() -> None:
    """Drop the console tables."""
    op.drop_table("suppression_removals")
    op.drop_index("ix_script_versions_name", "script_versions")
    op.drop_table("script_versions")
    op.drop_table("console_users")
