"""Removing a number from the do-not-call list takes two people: one requests with a reason, another approves.

Only the phone's keyed hash and masked form are kept on the request; the removal itself and
each step are audited with both identities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agent.store import audit_log
from agent.store.console_models import SuppressionRemovalRow
from agent.store.errors import NotFound, WrongState
from agent.store.models import SuppressionRow

MIN_REASON = 3


@dataclass(frozen=True, slots=True)
class Removal:
    """A removal request and its decision."""

    id: int
    phone_masked: str
    scope: str | None
    reason: str
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None


def _removal(r: SuppressionRemovalRow) -> Removal:
    return Removal(r.id, r.phone_masked, r.scope, r.reason, r.status, r.requested_by, r.requested_at,
                   r.decided_by, r.decided_at)


def request(s: Session, phone: tuple[str, str], scope: str | None, reason: str, by: str,
            now: datetime) -> Removal:
    """File a removal request for (phone hash, masked); ValueError for a short reason or no entry."""
    if len(reason.strip()) < MIN_REASON:
        raise ValueError(f"give a reason of at least {MIN_REASON} characters")
    phone_hash, masked = phone
    active = s.execute(select(SuppressionRow.id).where(
        SuppressionRow.phone_hash == phone_hash, SuppressionRow.removed_at.is_(None))).first()
    if active is None:
        raise ValueError(f"{masked} is not on the suppression list")
    row = SuppressionRemovalRow(phone_hash=phone_hash, phone_masked=masked, scope=scope,
                                reason=reason.strip(), status="pending", requested_by=by, requested_at=now)
    s.add(row)
    s.flush()
    audit_log.append(s, "suppression_removal_requested", {"request": row.id, "phone": masked, "scope": scope,
                                                          "reason": row.reason, "requested_by": by}, now)
    return _removal(row)


def decide(s: Session, request_id: int, by: str, approve: bool, now: datetime) -> int:
    """Approve (remove the entries) or reject a pending request, never by its requester; entries removed."""
    row = s.get(SuppressionRemovalRow, request_id)
    if row is None:
        raise NotFound(f"no removal request {request_id}")
    if row.status != "pending":
        raise WrongState(f"removal request {request_id} is already {row.status}")
    if by == row.requested_by:
        raise WrongState(f"{by} asked for this removal: a second person must decide it")
    row.status, row.decided_by, row.decided_at = ("approved" if approve else "rejected"), by, now
    count = 0
    if approve:
        cond = [SuppressionRow.phone_hash == row.phone_hash, SuppressionRow.removed_at.is_(None)]
        if row.scope is not None:
            cond.append(SuppressionRow.scope == row.scope)
        count = int(s.execute(update(SuppressionRow).where(*cond).values(removed_at=now)).rowcount or 0)  # type: ignore[attr-defined]
        audit_log.append(s, "suppression_removed", {
            "phone": row.phone_masked, "scope": row.scope, "source": "console", "reason": row.reason,
            "count": count, "requested_by": row.requested_by, "approved_by": by}, now)
    else:
        audit_log.append(s, "suppression_removal_rejected", {
            "request": row.id, "phone": row.phone_masked, "requested_by": row.requested_by,
            "rejected_by": by}, now)
    return count


def pending(s: Session) -> list[Removal]:
    """Requests waiting for a second person, oldest first."""
    rows = s.execute(select(SuppressionRemovalRow).where(SuppressionRemovalRow.status == "pending")
                     .order_by(SuppressionRemovalRow.id)).scalars()
    return [_removal(r) for r in rows]
