"""Initial schema: customers, consents, calls, turns, contact attempts, suppressions, audit chain.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    """Create every table and the audit chain head."""
    ts = sa.DateTime()
    op.create_table(
        "customers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("external_ref", sa.String(128), unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("phone_masked", sa.String(32), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("jurisdiction", sa.String(8), nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("lawful_basis", sa.Text(), nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_index("ix_customers_phone_hash", "customers", ["phone_hash"])
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("granted_at", ts, nullable=False),
        sa.Column("withdrawn_at", ts),
        sa.Column("expires_at", ts),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("evidence", sa.Text()),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_index("ix_consents_customer_id", "consents", ["customer_id"])
    op.create_table(
        "calls",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("phone_hash", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("use_case", sa.String(64), nullable=False),
        sa.Column("debt_id", sa.String(128)),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("jurisdiction", sa.String(8), nullable=False),
        sa.Column("script_id", sa.String(128)),
        sa.Column("script_version", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(64)),
        sa.Column("conversation", sa.Boolean(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("token_expires_at", ts, nullable=False),
        sa.Column("token_used_at", ts),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("started_at", ts),
        sa.Column("ended_at", ts),
        sa.Column("timings", sa.Text(), nullable=False),
        sa.Column("slots", sa.Text(), nullable=False),
    )
    op.create_index("ix_calls_customer_id", "calls", ["customer_id"])
    op.create_index("ix_calls_phone_hash", "calls", ["phone_hash"])
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(32), sa.ForeignKey("calls.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(64)),
        sa.Column("start_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_index("ix_turns_call_id", "turns", ["call_id"])
    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(32)),
        sa.Column("phone_hash", sa.String(64)),
        sa.Column("call_id", sa.String(32)),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("debt_id", sa.String(128)),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("at", ts, nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("conversation", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_contact_attempts_customer_id", "contact_attempts", ["customer_id"])
    op.create_index("ix_contact_attempts_phone_hash", "contact_attempts", ["phone_hash"])
    op.create_index("ix_contact_attempts_at", "contact_attempts", ["at"])
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("phone_hash", sa.String(64), nullable=False),
        sa.Column("phone_masked", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("removed_at", ts),
    )
    op.create_index("ix_suppressions_phone_hash", "suppressions", ["phone_hash"])
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("call_id", sa.String(32)),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_events_call_id", "audit_events", ["call_id"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])


def downgrade() -> None:
    """Drop every table (data is lost)."""
    for table in (
        "audit_head",
        "audit_events",
        "suppressions",
        "contact_attempts",
        "turns",
        "calls",
        "consents",
        "customers",
    ):
        op.drop_table(table)
