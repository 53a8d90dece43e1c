"""Integrity: attempts that do not count (expired unused grants), sealed names, key fingerprints.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Existing plain-text names, slots and turns are sealed by the store when it is first opened
with a data key (agent/store/keyring.py), since the key is configuration, not schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add contact_attempts.counts, widen customers.name for its sealed form, add store_keys."""
    with op.batch_alter_table("contact_attempts") as batch:
        batch.add_column(sa.Column("counts", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("customers") as batch:
        batch.alter_column("name", type_=sa.Text(), existing_type=sa.String(200), existing_nullable=False)
    op.create_table(
        "store_keys",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    """Drop what upgrade added (sealed values stay sealed)."""
    op.drop_table("store_keys")
    with op.batch_alter_table("customers") as batch:
        batch.alter_column("name", type_=sa.String(200), existing_type=sa.Text(), existing_nullable=False)
    with op.batch_alter_table("contact_attempts") as batch:
        batch.drop_column("counts")
