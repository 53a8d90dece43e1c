"""Outbound campaigns: campaigns, members, attempts, runtime nodes' call slots.

Revision ID: 0004
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003_checkpoints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the campaign tables."""
    ts = sa.DateTime()
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("population", sa.Text(), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
    )
    op.create_table(
        "campaign_members",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("campaign_id", sa.String(32), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("phone_hash", sa.String(64), nullable=False),
        sa.Column("phone_masked", sa.String(32), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("debt_id", sa.String(128)),
        sa.Column("slots", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("stop_reason", sa.String(64)),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_result", sa.String(32)),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.UniqueConstraint("campaign_id", "phone_hash", "debt_id", name="uq_member"),
    )
    op.create_index("ix_campaign_members_campaign_id", "campaign_members", ["campaign_id"])
    op.create_index("ix_campaign_members_phone_hash", "campaign_members", ["phone_hash"])
    op.create_table(
        "campaign_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("campaign_id", sa.String(32), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("campaign_members.id"), nullable=False),
        sa.Column("planned_at", ts, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("node_id", sa.String(64)),
        sa.Column("call_id", sa.String(32)),
        sa.Column("caller_id", sa.String(32)),
        sa.Column("provider_ref", sa.String(128)),
        sa.Column("result", sa.String(32)),
        sa.Column("refusal", sa.String(32)),
        sa.Column("answered_without_slot", sa.Integer(), nullable=False),
        sa.Column("claimed_at", ts),
        sa.Column("ended_at", ts),
    )
    op.create_index("ix_campaign_attempts_due", "campaign_attempts", ["status", "planned_at"])
    op.create_index("ix_campaign_attempts_campaign_id", "campaign_attempts", ["campaign_id"])
    op.create_index("ix_campaign_attempts_member_id", "campaign_attempts", ["member_id"])
    op.create_index("ix_campaign_attempts_node_id", "campaign_attempts", ["node_id"])
    op.create_index("ix_campaign_attempts_call_id", "campaign_attempts", ["call_id"])
    op.create_index("ix_campaign_attempts_provider_ref", "campaign_attempts", ["provider_ref"])
    op.create_table(
        "campaign_nodes",
        sa.Column("node_id", sa.String(64), primary_key=True),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("heartbeat_at", ts, nullable=False),
    )


def downgrade() -> None:
    """Drop the campaign tables (their data is lost)."""
    for table in ("campaign_nodes", "campaign_attempts", "campaign_members", "campaigns"):
        op.drop_table(table)
