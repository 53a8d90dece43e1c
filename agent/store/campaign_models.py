"""Tables of outbound campaigns (SPEC 12): campaigns, members, attempts, runtime nodes' call slots.

A member's phone is kept as the store's keyed hash, the masked form, and an encrypted copy
the dialer needs to place the call (agent.store.campaign_numbers); never in clear.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agent.store.models import Base, UTCDateTime


class CampaignRow(Base):
    """One campaign: its spec (agent.campaign.model.Campaign as JSON) and where it stands."""

    __tablename__ = "campaigns"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(String(16))  # draft | running | paused | stopped
    population: Mapped[str] = mapped_column(Text, default="[]")  # pooled answer counts (JSON pairs)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CampaignMemberRow(Base):
    """One person in a campaign, with the scheduler's state."""

    __tablename__ = "campaign_members"
    __table_args__ = (UniqueConstraint("campaign_id", "phone_hash", "debt_id", name="uq_member"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str] = mapped_column(String(32))
    phone_enc: Mapped[str] = mapped_column(Text)  # AES-GCM of the E.164 number, for dialling only
    timezone: Mapped[str] = mapped_column(String(64))
    debt_id: Mapped[str | None] = mapped_column(String(128))
    slots: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the script's slot values
    state: Mapped[str] = mapped_column(String(16))  # new | planned | dialing | done | flagged
    stop_reason: Mapped[str | None] = mapped_column(String(64))
    answers: Mapped[str] = mapped_column(Text, default="[]")  # AnswerCounts pairs (JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_result: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CampaignAttemptRow(Base):
    """One planned or placed attempt: planned -> dialing -> done (or refused / cancelled)."""

    __tablename__ = "campaign_attempts"
    __table_args__ = (Index("ix_campaign_attempts_due", "status", "planned_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("campaign_members.id"), index=True)
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # planned | dialing | done | refused | cancelled
    node_id: Mapped[str | None] = mapped_column(String(64), index=True)
    call_id: Mapped[str | None] = mapped_column(String(32), index=True)
    caller_id: Mapped[str | None] = mapped_column(String(32))
    provider_ref: Mapped[str | None] = mapped_column(String(128), index=True)
    result: Mapped[str | None] = mapped_column(String(32))
    refusal: Mapped[str | None] = mapped_column(String(32))
    answered_without_slot: Mapped[int] = mapped_column(Integer, default=0)  # an abandoned call
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CampaignNodeRow(Base):
    """A runtime node's call slots, as it last reported them."""

    __tablename__ = "campaign_nodes"
    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    slots: Mapped[int] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
