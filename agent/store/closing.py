"""Records that close (issue 12, finding 6): expired grants, dead claimed calls, dial results.

What counts toward the caps (SPEC 7.1):
- a call that was admitted (claimed by a transport) is an attempt, however it ended;
- a claimed call left open by a crash is closed `interrupted`; it counts as a conversation
  for the rest rule when the customer spoke in it (conservative: any customer turn);
- a grant that expires unused is closed `expired` and is NOT an attempt, unless a dialer
  reported a dial outcome for it (no_answer, busy, failed, voicemail, carrier_announcement),
  which makes it an attempt without a conversation;
- a grant not yet expired counts (it may be ringing now).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from agent.store import audit_log
from agent.store.errors import NotFound, WrongState
from agent.store.models import AttemptRow, CallRow, TurnRow

DIAL_RESULTS = ("no_answer", "busy", "failed", "voicemail", "carrier_announcement")
BATCH = 500  # rows closed per sweep transaction


def _close(s: Session, call: CallRow, outcome: str, now: datetime, *, talked: bool, counts: bool) -> None:
    call.status, call.outcome, call.ended_at, call.conversation = "finished", outcome, now, talked
    s.execute(
        update(AttemptRow).where(AttemptRow.call_id == call.id).values(conversation=talked, counts=counts)
    )


def expire_grants(s: Session, now: datetime, customer_id: str | None = None) -> int:
    """Close grants whose token expired unused: outcome `expired`, not an attempt; returns how many."""
    q = select(CallRow).where(CallRow.status == "granted", CallRow.token_expires_at <= now)
    if customer_id is not None:
        q = q.where(CallRow.customer_id == customer_id)
    rows = list(s.execute(q.limit(BATCH).with_for_update(skip_locked=True)).scalars())
    for call in rows:
        _close(s, call, "expired", now, talked=False, counts=False)
        audit_log.append(s, "call_expired", {"counts": False}, now, call.id)
    return len(rows)


def interrupt_dead_calls(s: Session, now: datetime, older_than: timedelta) -> int:
    """Close calls claimed longer ago than any call may last: outcome `interrupted`; returns how many."""
    q = select(CallRow).where(CallRow.status == "claimed", CallRow.started_at <= now - older_than)
    rows = list(s.execute(q.limit(BATCH).with_for_update(skip_locked=True)).scalars())
    for call in rows:
        spoke = s.execute(
            select(exists().where(TurnRow.call_id == call.id, TurnRow.speaker == "customer"))
        ).scalar_one()
        _close(s, call, "interrupted", now, talked=bool(spoke), counts=True)
        audit_log.append(s, "call_interrupted", {"conversation": bool(spoke)}, now, call.id)
    return len(rows)


def report_dial(s: Session, call_id: str, result: str, now: datetime, by: str) -> None:
    """A dialer's outcome for a granted call that never reached the agent: an attempt, no conversation."""
    if result not in DIAL_RESULTS:
        raise ValueError(f"result must be one of {DIAL_RESULTS}")
    call = s.get(CallRow, call_id, with_for_update=True)
    if call is None:
        raise NotFound(f"no call {call_id}")
    unused = call.status == "granted" or (call.status == "finished" and call.outcome == "expired")
    if not unused:
        raise WrongState(
            f"call {call_id} is {call.status} ({call.outcome or 'no outcome'}); "
            "a dial result is only for a granted call that never connected"
        )
    call.token_used_at = call.token_used_at or now  # the token can no longer start the call
    _close(s, call, result, now, talked=False, counts=True)
    audit_log.append(s, "dial_result", {"result": result, "by": by}, now, call_id)
