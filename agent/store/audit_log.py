"""The audit chain's table: append under the head lock, read in seq order, verify (SPEC 7.5)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.compliance import audit
from agent.compliance.redact import redact
from agent.store.models import AuditEventRow, AuditHeadRow
from agent.store.records import AuditReport

AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # audit.format_at


def redact_data(value: Any) -> Any:
    """Redact every string inside an audit payload."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


def append(
    s: Session, kind: str, data: Mapping[str, Any], now: datetime, call_id: str | None = None
) -> audit.AuditEvent:
    """Append one event inside the caller's transaction, holding the chain-head row lock.

    `at` never goes back along seq: an event whose own time is earlier than its predecessor's
    (a transaction that took its time before another committed, or a node whose clock lags)
    is stamped with the predecessor's time.
    """
    head = s.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).scalar_one()
    last = s.get(AuditEventRow, head.seq) if head.seq else None
    at = max(now, parse_at(last.at)) if last is not None else now
    ev = audit.next_event(head.seq, head.hash, kind, redact_data(dict(data)), at, call_id)
    s.add(
        AuditEventRow(
            seq=ev.seq,
            at=ev.at,
            call_id=ev.call_id,
            kind=ev.kind,
            data=ev.data,
            prev_hash=ev.prev_hash,
            hash=ev.hash,
        )
    )
    head.seq, head.hash = ev.seq, ev.hash
    return ev


def parse_at(at: str) -> datetime:
    """The datetime of a chain timestamp (the inverse of audit.format_at)."""
    return datetime.strptime(at, AT_FORMAT).replace(tzinfo=UTC)


def _event(r: AuditEventRow) -> audit.AuditEvent:
    return audit.AuditEvent(r.seq, r.at, r.call_id, r.kind, r.data, r.prev_hash, r.hash)


def events(s: Session) -> list[audit.AuditEvent]:
    """Every event in stored seq order."""
    return [_event(r) for r in s.execute(select(AuditEventRow).order_by(AuditEventRow.seq)).scalars()]


def verify(s: Session) -> AuditReport:
    """Check every hash and link, and the head (which catches a cut-off tail)."""
    evs = events(s)
    head = s.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1)).scalar_one_or_none()
    head_pair = (head.seq, head.hash) if head else (0, audit.GENESIS)
    return report(evs, head_pair)


def report(evs: list[audit.AuditEvent], head: tuple[int, str]) -> AuditReport:
    """The verdict on a chain, naming the first bad event in one sentence."""
    bad = audit.verify(evs, head)
    if bad is None:
        return AuditReport(True, None, f"{len(evs)} events, chain intact")
    if bad >= len(evs):
        return AuditReport(False, head[0], f"events after seq {evs[-1].seq if evs else 0} are missing")
    prev_seq = evs[bad - 1].seq if bad else 0
    ev = evs[bad]
    if ev.seq != prev_seq + 1:
        detail = f"event seq {prev_seq + 1} is missing or out of order (found {ev.seq})"
        return AuditReport(False, prev_seq + 1, detail)
    detail = f"event seq {ev.seq} ({ev.kind}) was changed or does not link to its predecessor"
    return AuditReport(False, ev.seq, detail)
