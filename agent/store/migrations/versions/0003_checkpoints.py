"""Signed checkpoints of the audit chain head (issue 12): one row per checkpoint written.

Revision ID: 0003_checkpoints
Revises: 0001 (the lead re-points this at the newest revision when merging)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_checkpoints"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create audit_checkpoints."""
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("node_id", sa.String(128), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
    )
    op.create_index("ix_audit_checkpoints_seq", "audit_checkpoints", ["seq"])


def downgrade() -> None:
    """Drop audit_checkpoints."""
    op.drop_table("audit_checkpoints")
