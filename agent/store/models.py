"""SQLAlchemy 2 tables of the store (SPEC 9.3); migrations under migrations/versions mirror them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store timestamps must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        when: datetime = value
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of all store tables."""


class CustomerRow(Base):
    """A registered customer: phone kept as keyed hash + masked form only."""

    __tablename__ = "customers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_ref: Mapped[str | None] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(Text)  # sealed (agent/store/crypto.py)
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    phone_masked: Mapped[str] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16))
    jurisdiction: Mapped[str] = mapped_column(String(8))
    registered: Mapped[bool] = mapped_column(Boolean, default=True)
    lawful_basis: Mapped[str] = mapped_column(Text)  # JSON {purpose: basis}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsentRow(Base):
    """A consent record for one purpose (marketing needs one)."""

    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(128))
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CallRow(Base):
    """One granted call, from gate to outcome."""

    __tablename__ = "calls"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    use_case: Mapped[str] = mapped_column(String(64))
    debt_id: Mapped[str | None] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(16))
    jurisdiction: Mapped[str] = mapped_column(String(8))
    script_id: Mapped[str | None] = mapped_column(String(128))
    script_version: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # granted | claimed | finished
    outcome: Mapped[str | None] = mapped_column(String(64))
    conversation: Mapped[bool] = mapped_column(Boolean, default=False)
    token_hash: Mapped[str] = mapped_column(String(64))
    token_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    token_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timings: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    slots: Mapped[str] = mapped_column(Text, default="{}")  # JSON, sealed


class TurnRow(Base):
    """One turn of a call; text is redacted before it is stored."""

    __tablename__ = "turns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)  # redacted, then sealed
    intent: Mapped[str | None] = mapped_column(String(64))
    start_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AttemptRow(Base):
    """A gate decision: an attempt (allowed) or a refusal with its reason."""

    __tablename__ = "contact_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    call_id: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(32))
    debt_id: Mapped[str | None] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    allowed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(32))
    conversation: Mapped[bool] = mapped_column(Boolean, default=False)
    counts: Mapped[bool] = mapped_column(Boolean, default=True)  # false: an expired grant never dialled


class SuppressionRow(Base):
    """A do-not-call entry for a phone hash; removed entries keep their row (removed_at set)."""

    __tablename__ = "suppressions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(16))  # all | marketing
    source: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEventRow(Base):
    """One link of the audit hash chain."""

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))
    call_id: Mapped[str | None] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The chain head (one row): locked to serialise appends, compared to catch a cut tail."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class StoreKeyRow(Base):
    """Fingerprints of the keys the store's data was written with (a wrong key is refused at open)."""

    __tablename__ = "store_keys"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
