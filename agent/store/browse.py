"""Read-only listings for the console: calls by date, outcome, campaign and masked phone; suppressions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.store.campaign_models import CampaignAttemptRow
from agent.store.models import CallRow, CustomerRow, SuppressionRow

LIMIT = 200


@dataclass(frozen=True, slots=True)
class CallFilter:
    """What to search calls by; empty fields do not filter."""

    since: datetime | None = None
    until: datetime | None = None
    outcome: str = ""
    campaign: str = ""
    phone: str = ""  # part of the masked number, e.g. the last four digits


@dataclass(frozen=True, slots=True)
class CallSummary:
    """One row of the call list."""

    call_id: str
    created_at: datetime
    phone_masked: str
    use_case: str
    locale: str
    status: str
    outcome: str | None
    campaign_id: str | None


def calls(s: Session, f: CallFilter, limit: int = LIMIT) -> list[CallSummary]:
    """Calls matching the filter, newest first (at most `limit`)."""
    query = (
        select(CallRow, CustomerRow.phone_masked, CampaignAttemptRow.campaign_id)
        .join(CustomerRow, CustomerRow.id == CallRow.customer_id)
        .outerjoin(CampaignAttemptRow, CampaignAttemptRow.call_id == CallRow.id)
        .order_by(CallRow.created_at.desc())
        .limit(limit)
    )
    if f.since is not None:
        query = query.where(CallRow.created_at >= f.since)
    if f.until is not None:
        query = query.where(CallRow.created_at < f.until)
    if f.outcome:
        query = query.where(CallRow.outcome == f.outcome)
    if f.campaign:
        query = query.where(CampaignAttemptRow.campaign_id == f.campaign)
    if f.phone:
        query = query.where(CustomerRow.phone_masked.contains(f.phone, autoescape=True))
    return [
        CallSummary(c.id, c.created_at, masked, c.use_case, c.locale, c.status, c.outcome, campaign)
        for c, masked, campaign in s.execute(query).all()
    ]


def outcomes(s: Session) -> list[str]:
    """Every outcome recorded so far (for the search form)."""
    rows = s.execute(select(CallRow.outcome).where(CallRow.outcome.is_not(None)).distinct()).scalars()
    return sorted(str(r) for r in rows)


@dataclass(frozen=True, slots=True)
class SuppressionEntry:
    """One active do-not-call entry (masked number only)."""

    id: int
    phone_masked: str
    scope: str
    source: str
    created_at: datetime


def suppressions(s: Session, phone: str = "", limit: int = LIMIT) -> list[SuppressionEntry]:
    """Active entries, newest first, optionally those whose masked number contains `phone`."""
    query = (select(SuppressionRow).where(SuppressionRow.removed_at.is_(None))
             .order_by(SuppressionRow.id.desc()).limit(limit))
    if phone:
        query = query.where(SuppressionRow.phone_masked.contains(phone, autoescape=True))
    return [SuppressionEntry(r.id, r.phone_masked, r.scope, r.source, r.created_at)
            for r in s.execute(query).scalars()]
