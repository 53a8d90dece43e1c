"""The pre-call gate against the store: lock the subject, read history, decide, record; claim a grant."""

from __future__ import annotations

import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from agent.compliance import gate
from agent.compliance.profiles import get_profile, tighten
from agent.store import audit_log, closing, customers, suppression
from agent.store.context import StoreContext, token_hash
from agent.store.errors import InvalidToken
from agent.store.models import AttemptRow, CallRow, CustomerRow
from agent.store.records import CallGrant, CallRefusal, CallRequest, ClaimedCall

HISTORY_DAYS = 9  # enough history for every cap (7 local days, with time-zone slack)


def lock_subject(s: Session, phone_hash: str) -> None:
    """Serialise gate decisions for one number across nodes (PostgreSQL; SQLite is already serial)."""
    if s.get_bind().dialect.name != "sqlite":
        s.execute(sql_text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": phone_hash})


def history(s: Session, customer_id: str, now: datetime) -> list[gate.Attempt]:
    """Every committed attempt of the customer in the look-back, as the pure gate reads them.

    An attempt stamped after `now` (another node's clock running ahead) still counts: its
    stamp is clamped to `now`, so the caps hold whatever the clocks say (SPEC 7.11).
    """
    rows = s.execute(
        select(AttemptRow).where(
            AttemptRow.customer_id == customer_id,
            AttemptRow.allowed.is_(True),
            AttemptRow.counts.is_(True),
            AttemptRow.at >= now - timedelta(days=HISTORY_DAYS),
        )
    ).scalars()
    return [gate.Attempt(min(r.at, now), r.purpose, r.debt_id, r.method, r.conversation) for r in rows]


def request_call(
    s: Session, ctx: StoreContext, req: CallRequest, clock: Callable[[], datetime]
) -> CallGrant | CallRefusal:
    """Run the gate; record the attempt (grant) or the refusal, with an audit event.

    The decision time is read from `clock` only once the subject lock is held, so every
    earlier holder's attempt is committed, visible and stamped no later than ours.
    """
    cust = customers.find(s, ctx, req)
    juris = ctx.jurisdiction(req.jurisdiction or (cust.jurisdiction if cust else None))
    phone_hash = cust.phone_hash if cust else ctx.phone_hash_or_none(req.phone, juris)
    if phone_hash:
        lock_subject(s, phone_hash)
    now = clock()
    if cust is not None:
        closing.expire_grants(s, now, cust.id)  # an unused expired grant is not an attempt
    profile = get_profile(juris)
    if profile is not None and ctx.max_attempts_per_day is not None:
        profile = tighten(profile, daily_cap=ctx.max_attempts_per_day)
    intent = gate.CallIntent(
        customer=customers.gate_facts(s, cust) if cust else None,
        purpose=req.purpose,
        jurisdiction=juris,
        debt_id=req.debt_id,
        method=req.method,
        profile=profile,
        caller_id=req.caller_id,
        registered_caller_ids=(
            frozenset(req.registered_caller_ids) if req.registered_caller_ids is not None else None
        ),
        slots=dict(req.slots),
        official=ctx.official,
    )
    past = history(s, cust.id, now) if cust else []
    scopes = suppression.scopes(s, phone_hash) if phone_hash else set()
    decision = gate.decide(intent, past, scopes, now)
    base = {
        "purpose": req.purpose,
        "use_case": req.use_case,
        "debt_id": req.debt_id,
        "jurisdiction": juris,
        "reason": decision.reason,
        "detail": decision.detail,
    }
    if not decision.allowed:
        s.add(_attempt(req, cust.id if cust else None, phone_hash, None, now, decision.reason))
        audit_log.append(s, "call_refused", {**base, "customer_id": cust.id if cust else None}, now)
        return CallRefusal(decision.reason, decision.detail)
    assert cust is not None
    return _grant(s, ctx, req, cust, juris, now, base)


def _attempt(
    req: CallRequest, customer_id: str | None, phone_hash: str | None, call_id: str | None, now: datetime,
    reason: str,
) -> AttemptRow:
    return AttemptRow(
        customer_id=customer_id,
        phone_hash=phone_hash,
        call_id=call_id,
        purpose=req.purpose,
        debt_id=req.debt_id,
        method=req.method,
        at=now,
        allowed=reason == "ok",
        reason=reason,
        conversation=False,
    )


def _grant(
    s: Session,
    ctx: StoreContext,
    req: CallRequest,
    cust: CustomerRow,
    juris: str,
    now: datetime,
    base: Mapping[str, object],
) -> CallGrant:
    call_id = uuid.uuid4().hex
    token = secrets.token_urlsafe(32)
    expires = now + ctx.token_ttl
    s.add(
        CallRow(
            id=call_id,
            customer_id=cust.id,
            phone_hash=cust.phone_hash,
            purpose=req.purpose,
            use_case=req.use_case,
            debt_id=req.debt_id,
            method=req.method,
            locale=req.locale or cust.locale,
            jurisdiction=juris,
            script_id=req.script_id,
            script_version=req.script_version,
            status="granted",
            conversation=False,
            token_hash=token_hash(token),
            token_expires_at=expires,
            created_at=now,
            timings="{}",
            slots=ctx.cipher.seal(
                json.dumps(dict(req.slots), sort_keys=True, ensure_ascii=False), f"calls.slots:{call_id}"
            ),
        )
    )
    s.add(_attempt(req, cust.id, cust.phone_hash, call_id, now, "ok"))
    audit_log.append(s, "call_granted", {**base, "customer_id": cust.id}, now, call_id)
    return CallGrant(call_id, token, expires)


def claim_call(s: Session, ctx: StoreContext, call_id: str, token: str | None, now: datetime) -> ClaimedCall:
    """Exchange a call token (single use, short-lived) for the call's details; InvalidToken otherwise.

    `token=None` is for a gateway that proved a shared secret: the call must still have been
    granted by the gate (POST /v1/calls), unclaimed and unexpired; only the token is waived.
    """
    call = s.get(CallRow, call_id)
    if call is None:
        raise InvalidToken("unknown call or wrong token")
    if token is not None and not hmac.compare_digest(call.token_hash, token_hash(token)):
        raise InvalidToken("unknown call or wrong token")
    if call.token_used_at is not None:
        raise InvalidToken("the call token was already used")
    if call.status != "granted":
        raise InvalidToken(f"the call is {call.status} ({call.outcome}) and can no longer start")
    if now >= call.token_expires_at:
        raise InvalidToken("the call token has expired")
    done = s.execute(
        update(CallRow)
        .where(CallRow.id == call_id, CallRow.token_used_at.is_(None), CallRow.status == "granted")
        .values(token_used_at=now, started_at=now, status="claimed")
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise InvalidToken("the call token was already used")
    cust = s.get(CustomerRow, call.customer_id)
    assert cust is not None
    audit_log.append(s, "call_claimed", {"customer_id": cust.id}, now, call_id)
    return ClaimedCall(
        call_id=call.id,
        customer_id=cust.id,
        customer_name=ctx.cipher.open(cust.name, f"customers.name:{cust.id}"),
        phone_hash=cust.phone_hash,
        phone_masked=cust.phone_masked,
        locale=call.locale,
        use_case=call.use_case,
        purpose=call.purpose,
        jurisdiction=call.jurisdiction,
        debt_id=call.debt_id,
        script_id=call.script_id,
        script_version=call.script_version,
        slots=dict(json.loads(ctx.cipher.open(call.slots, f"calls.slots:{call.id}"))),
        timezone=cust.timezone,
    )
