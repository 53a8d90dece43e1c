"""The call record: turns (redacted), the outcome, and the record read back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agent.compliance.redact import redact
from agent.store import audit_log
from agent.store.crypto import FieldCipher
from agent.store.errors import NotFound
from agent.store.models import AttemptRow, CallRow, CustomerRow, TurnRow
from agent.store.records import CallRecord, TurnRecord

NO_CONVERSATION = frozenset(
    {
        "no_answer",
        "busy",
        "failed",
        "voicemail",
        "wrong_party",
        "rejected",
        "error",
        "canceled",
        "cancelled",
        "expired",
        "machine",
        "carrier",  # a carrier announcement answered (powered off, unreachable): nobody talked
        "not_in_service",
        "hangup_before_verdict",  # hung up during answer screening, before the agent said a word
        "store_unavailable",
    }
)


def record_turn(
    s: Session,
    cipher: FieldCipher,
    call_id: str,
    speaker: str,
    text: str,
    intent: str | None,
    start_ms: int,
    now: datetime,
) -> None:
    """Store one turn; the text is redacted, then sealed, before it reaches the database."""
    if s.get(CallRow, call_id) is None:
        raise NotFound(f"no call {call_id}")
    last = s.execute(
        select(TurnRow.seq).where(TurnRow.call_id == call_id).order_by(TurnRow.seq.desc()).limit(1)
    ).scalar_one_or_none()
    seq = (last or 0) + 1
    s.add(
        TurnRow(
            call_id=call_id,
            seq=seq,
            speaker=speaker,
            text=cipher.seal(redact(text), f"turns.text:{call_id}:{seq}"),
            intent=intent,
            start_ms=start_ms,
            created_at=now,
        )
    )


def finish_call(
    s: Session,
    call_id: str,
    outcome: str,
    timings: Mapping[str, Any],
    now: datetime,
    conversation: bool | None = None,
) -> None:
    """Record the outcome; a conversation (default: outcomes not in NO_CONVERSATION) starts quiet days."""
    talked = outcome not in NO_CONVERSATION if conversation is None else conversation
    call = s.get(CallRow, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    call.status, call.outcome, call.ended_at = "finished", outcome, now
    call.timings = json.dumps(dict(timings), sort_keys=True, default=str)
    call.conversation = talked
    s.execute(update(AttemptRow).where(AttemptRow.call_id == call_id).values(conversation=talked))
    audit_log.append(s, "call_finished", {"outcome": outcome, "conversation": talked}, now, call_id)


def get_call(s: Session, cipher: FieldCipher, call_id: str, decrypt: bool) -> CallRecord:
    """The call's outcome, redacted transcript and timings (no slot values); NotFound if unknown.

    Turn text is decrypted only when `decrypt` (a reader with audit-read); otherwise it is None.
    """
    call = s.get(CallRow, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    cust = s.get(CustomerRow, call.customer_id)
    turns = s.execute(select(TurnRow).where(TurnRow.call_id == call_id).order_by(TurnRow.seq)).scalars()
    return CallRecord(
        call_id=call.id,
        customer_id=call.customer_id,
        phone=cust.phone_masked if cust else None,
        status=call.status,
        outcome=call.outcome,
        purpose=call.purpose,
        use_case=call.use_case,
        locale=call.locale,
        jurisdiction=call.jurisdiction,
        script_id=call.script_id,
        script_version=call.script_version,
        conversation=call.conversation,
        created_at=call.created_at,
        started_at=call.started_at,
        ended_at=call.ended_at,
        timings=dict(json.loads(call.timings)),
        transcript=tuple(
            TurnRecord(
                t.seq,
                t.speaker,
                cipher.open(t.text, f"turns.text:{call_id}:{t.seq}") if decrypt else None,
                t.intent,
                t.start_ms,
            )
            for t in turns
        ),
    )
