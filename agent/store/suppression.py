"""The suppression (do-not-call) list: opt-outs, manual entries, removals, scopes of a number."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agent.store import audit_log, customers
from agent.store.context import StoreContext
from agent.store.errors import NotFound
from agent.store.models import CallRow, CustomerRow, SuppressionRow

SCOPES = ("all", "marketing", "voice")  # voice: "only email me", calls suppressed (Reg F 1006.14(h))


def check_scope(scope: str) -> None:
    """ValueError unless the scope is one of SCOPES."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")


def add_rows(s: Session, entries: Iterable[tuple[str, str, str, str]], now: datetime) -> None:
    """Insert (phone_hash, masked, scope, source) entries; no audit event."""
    for phone_hash, masked, scope, source in entries:
        s.add(
            SuppressionRow(
                phone_hash=phone_hash, phone_masked=masked, scope=scope, source=source[:128], created_at=now
            )
        )


def record_opt_out(s: Session, call_id: str, scope: str, via: str, now: datetime) -> None:
    """Suppress the call's number, withdraw marketing consent, and audit it (caller commits)."""
    check_scope(scope)
    call = s.get(CallRow, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    cust = s.get(CustomerRow, call.customer_id)
    masked = cust.phone_masked if cust else ""
    add_rows(s, [(call.phone_hash, masked, scope, f"opt_out:{via}")], now)
    customers.withdraw_active(s, call.customer_id, "marketing", now)  # both scopes cover marketing
    audit_log.append(s, "opt_out", {"scope": scope, "via": via, "phone": masked}, now, call_id)


def suppress(s: Session, ctx: StoreContext, phone: str, scope: str, source: str, now: datetime) -> str:
    """Add a suppression entry for a number; returns its masked form."""
    check_scope(scope)
    phone_hash, masked = ctx.phone(phone)
    add_rows(s, [(phone_hash, masked, scope, source)], now)
    audit_log.append(s, "suppression_added", {"phone": masked, "scope": scope, "source": source}, now)
    return masked


def unsuppress(
    s: Session,
    ctx: StoreContext,
    phone: str,
    now: datetime,
    scope: str | None,
    source: str,
    reason: str | None = None,
) -> int:
    """Remove a number's active entries (one scope or all), audited with who and why; returns how many."""
    phone_hash, masked = ctx.phone(phone)
    cond = [SuppressionRow.phone_hash == phone_hash, SuppressionRow.removed_at.is_(None)]
    if scope is not None:
        cond.append(SuppressionRow.scope == scope)
    result = s.execute(update(SuppressionRow).where(*cond).values(removed_at=now))
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    audit_log.append(
        s,
        "suppression_removed",
        {"phone": masked, "scope": scope, "source": source, "reason": reason, "count": count},
        now,
    )
    return count


def scopes(s: Session, phone_hash: str) -> set[str]:
    """Active suppression scopes of a phone hash ('all', 'marketing')."""
    rows = s.execute(
        select(SuppressionRow.scope).where(
            SuppressionRow.phone_hash == phone_hash, SuppressionRow.removed_at.is_(None)
        )
    ).scalars()
    return set(rows)
