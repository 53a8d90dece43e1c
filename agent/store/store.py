"""The store facade (SPEC 7, 9.3): blocking methods, each one transaction, committed before it returns.

Every method raises StoreUnavailable when the database cannot be read or written, so callers
fail closed (SPEC 7.8). Call it from a worker thread, never from the event loop.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from agent.compliance import audit, gate
from agent.compliance.callback import OfficialNumbers
from agent.compliance.checkpoint import Checkpoint as CheckpointRecord
from agent.compliance.phone import InvalidPhone, hash_phone, mask_phone, normalize_e164
from agent.compliance.profiles import PURPOSES, get_profile, tighten
from agent.compliance.redact import redact
from agent.store import checkpoints
from agent.store.engine import is_sqlite, make_engine, migrate
from agent.store.errors import Conflict, InvalidToken, NotFound, StoreUnavailable
from agent.store.models import (
    AttemptRow,
    AuditEventRow,
    AuditHeadRow,
    CallRow,
    ConsentRow,
    CustomerRow,
    SuppressionRow,
    TurnRow,
)
from agent.store.records import CallGrant, CallRefusal, CallRequest, ClaimedCall

SCOPES = ("all", "marketing")
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
        "store_unavailable",
    }
)
_HISTORY_DAYS = 9  # enough history for every cap (7 local days, with time-zone slack)


def _redact_data(value: Any) -> Any:
    """Redact every string inside an audit payload."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): _redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_data(v) for v in value]
    return value


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Store:
    """Calls, turns, attempts, suppression, consent and the audit chain, on SQLite or PostgreSQL."""

    def __init__(
        self,
        engine: Engine,
        phone_hash_key: str,
        *,
        default_jurisdiction: str = "US",
        token_ttl_s: int = 300,
        max_attempts_per_day: int | None = None,
        official_numbers: OfficialNumbers | None = None,
    ) -> None:
        self._engine = engine
        self._official = official_numbers  # callback slots must be one of these (None: unchecked)
        self._key = phone_hash_key
        self._default_jurisdiction = default_jurisdiction
        self._ttl = timedelta(seconds=token_ttl_s)
        self._max_per_day = max_attempts_per_day
        self._closed = False

    @classmethod
    def open(
        cls,
        url: str,
        phone_hash_key: str,
        *,
        default_jurisdiction: str = "US",
        token_ttl_s: int = 300,
        max_attempts_per_day: int | None = None,
        busy_timeout_ms: int = 5000,
        official_numbers: OfficialNumbers | None = None,
    ) -> Store:
        """Connect, run migrations, and return the store; StoreUnavailable when that fails."""
        if not phone_hash_key:
            raise ValueError("store.phone_hash_key must be set (it keys the stored phone hashes)")
        try:
            engine = make_engine(url, busy_timeout_ms)
            migrate(engine)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"cannot open the store at {_safe_url(url)}: {exc}") from exc
        return cls(
            engine,
            phone_hash_key,
            default_jurisdiction=default_jurisdiction,
            token_ttl_s=token_ttl_s,
            max_attempts_per_day=max_attempts_per_day,
            official_numbers=official_numbers,
        )

    def close(self) -> None:
        """Release connections; later calls raise StoreUnavailable."""
        self._closed = True
        self._engine.dispose()

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self._engine.dialect.name

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        """One transaction, committed on exit; database failures become StoreUnavailable."""
        if self._closed:
            raise StoreUnavailable("the store is closed")
        try:
            with Session(self._engine, expire_on_commit=False) as session, session.begin():
                yield session
        except IntegrityError as exc:
            raise Conflict(f"record already exists: {exc.orig}") from exc
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"store write failed: {exc}") from exc

    def _append(
        self, s: Session, kind: str, data: Mapping[str, Any], now: datetime, call_id: str | None = None
    ) -> audit.AuditEvent:
        """Append one audit event inside the caller's transaction, holding the chain-head lock."""
        head = s.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).scalar_one()
        ev = audit.next_event(head.seq, head.hash, kind, _redact_data(dict(data)), now, call_id)
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

    def _lock_subject(self, s: Session, phone_hash: str) -> None:
        """Serialise gate decisions for one number across nodes (PostgreSQL; SQLite is already serial)."""
        if not is_sqlite(self._engine):
            s.execute(sql_text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": phone_hash})

    def _phone(self, phone: str, jurisdiction: str | None = None) -> tuple[str, str]:
        """(hash, masked) of a phone number; InvalidPhone when it cannot be normalised."""
        region = "CN" if (jurisdiction or self._default_jurisdiction).upper() == "CN" else "US"
        e164 = normalize_e164(phone, region)
        return hash_phone(e164, self._key), mask_phone(e164)

    def masked(self, phone: str, jurisdiction: str | None = None) -> str:
        """The masked form of a number ('+1******4567'); InvalidPhone when it is not one."""
        return self._phone(phone, jurisdiction)[1]

    # -- customers and consent ----------------------------------------------------------------

    def register_customer(
        self,
        *,
        phone: str,
        name: str,
        timezone: str,
        now: datetime,
        locale: str = "en-US",
        jurisdiction: str | None = None,
        lawful_basis: Mapping[str, str] | None = None,
        external_ref: str | None = None,
    ) -> str:
        """Register a customer (lawful basis per purpose, default servicing=contract); returns its id."""
        juris = (jurisdiction or self._default_jurisdiction).upper()
        phone_hash, masked = self._phone(phone, juris)
        basis = dict(lawful_basis) if lawful_basis is not None else {"servicing": "contract"}
        bad = [p for p in basis if p not in PURPOSES]
        if bad:
            raise ValueError(f"unknown purpose(s) {bad}; use {list(PURPOSES)}")
        customer_id = uuid.uuid4().hex
        with self._tx() as s:
            s.add(
                CustomerRow(
                    id=customer_id,
                    external_ref=external_ref,
                    name=name,
                    phone_hash=phone_hash,
                    phone_masked=masked,
                    timezone=timezone,
                    locale=locale,
                    jurisdiction=juris,
                    registered=True,
                    lawful_basis=json.dumps(basis, sort_keys=True),
                    created_at=now,
                )
            )
            s.flush()
            self._append(
                s,
                "customer_registered",
                {"customer_id": customer_id, "phone": masked, "jurisdiction": juris, "lawful_basis": basis},
                now,
            )
        return customer_id

    def add_consent(
        self,
        customer_id: str,
        purpose: str,
        *,
        now: datetime,
        source: str,
        granted_at: datetime | None = None,
        expires_at: datetime | None = None,
        evidence: str | None = None,
    ) -> int:
        """Record a consent for one purpose (and the lawful basis 'consent' for it); returns its id."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown purpose {purpose!r}; use {list(PURPOSES)}")
        with self._tx() as s:
            cust = s.get(CustomerRow, customer_id)
            if cust is None:
                raise NotFound(f"no customer {customer_id}")
            row = ConsentRow(
                customer_id=customer_id,
                purpose=purpose,
                granted_at=granted_at or now,
                expires_at=expires_at,
                source=source,
                evidence=evidence,
                created_at=now,
            )
            s.add(row)
            basis = json.loads(cust.lawful_basis)
            basis.setdefault(purpose, "consent")
            cust.lawful_basis = json.dumps(basis, sort_keys=True)
            s.flush()
            self._append(
                s,
                "consent_added",
                {"customer_id": customer_id, "purpose": purpose, "source": source, "consent_id": row.id},
                now,
            )
            return row.id

    def withdraw_consent(self, customer_id: str, purpose: str, *, now: datetime, via: str) -> int:
        """Withdraw every active consent of a customer for a purpose; returns how many."""
        with self._tx() as s:
            result = s.execute(
                update(ConsentRow)
                .where(
                    ConsentRow.customer_id == customer_id,
                    ConsentRow.purpose == purpose,
                    ConsentRow.withdrawn_at.is_(None),
                )
                .values(withdrawn_at=now)
            )
            count = int(result.rowcount or 0)  # type: ignore[attr-defined]
            self._append(
                s,
                "consent_withdrawn",
                {"customer_id": customer_id, "purpose": purpose, "via": via, "count": count},
                now,
            )
            return count

    # -- the gate -------------------------------------------------------------------------------

    def request_call(self, req: CallRequest, now: datetime) -> CallGrant | CallRefusal:
        """Run the pre-call gate; record the attempt (grant) or the refusal, with an audit event."""
        with self._tx() as s:
            cust = self._find_customer(s, req)
            juris = (
                req.jurisdiction or (cust.jurisdiction if cust else None) or self._default_jurisdiction
            ).upper()
            phone_hash = cust.phone_hash if cust else self._hash_or_none(req.phone, juris)
            if phone_hash:
                self._lock_subject(s, phone_hash)
            profile = get_profile(juris)
            if profile is not None and self._max_per_day is not None:
                profile = tighten(profile, daily_cap=self._max_per_day)
            intent = gate.CallIntent(
                customer=self._facts(s, cust) if cust else None,
                purpose=req.purpose,
                jurisdiction=juris,
                debt_id=req.debt_id,
                method=req.method,
                profile=profile,
                slots=dict(req.slots),
                official=self._official,
            )
            history = self._history(s, cust.id, now) if cust else []
            scopes = self._scopes(s, phone_hash) if phone_hash else set()
            decision = gate.decide(intent, history, scopes, now)
            base = {
                "purpose": req.purpose,
                "use_case": req.use_case,
                "debt_id": req.debt_id,
                "jurisdiction": juris,
                "reason": decision.reason,
                "detail": decision.detail,
            }
            if not decision.allowed:
                s.add(
                    AttemptRow(
                        customer_id=cust.id if cust else None,
                        phone_hash=phone_hash,
                        purpose=req.purpose,
                        debt_id=req.debt_id,
                        method=req.method,
                        at=now,
                        allowed=False,
                        reason=decision.reason,
                        conversation=False,
                    )
                )
                self._append(s, "call_refused", {**base, "customer_id": cust.id if cust else None}, now)
                return CallRefusal(decision.reason, decision.detail)
            assert cust is not None
            call_id = uuid.uuid4().hex
            token = secrets.token_urlsafe(32)
            expires = now + self._ttl
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
                    token_hash=_token_hash(token),
                    token_expires_at=expires,
                    created_at=now,
                    timings="{}",
                    slots=json.dumps(dict(req.slots), sort_keys=True, ensure_ascii=False),
                )
            )
            s.add(
                AttemptRow(
                    customer_id=cust.id,
                    phone_hash=cust.phone_hash,
                    call_id=call_id,
                    purpose=req.purpose,
                    debt_id=req.debt_id,
                    method=req.method,
                    at=now,
                    allowed=True,
                    reason="ok",
                    conversation=False,
                )
            )
            self._append(s, "call_granted", {**base, "customer_id": cust.id}, now, call_id)
            return CallGrant(call_id, token, expires)

    def _hash_or_none(self, phone: str | None, juris: str) -> str | None:
        if not phone:
            return None
        try:
            return self._phone(phone, juris)[0]
        except InvalidPhone:
            return None

    def _find_customer(self, s: Session, req: CallRequest) -> CustomerRow | None:
        if req.customer_id:
            return s.get(CustomerRow, req.customer_id)
        phone_hash = self._hash_or_none(req.phone, req.jurisdiction or self._default_jurisdiction)
        if phone_hash is None:
            return None
        return s.execute(select(CustomerRow).where(CustomerRow.phone_hash == phone_hash)).scalar_one_or_none()

    def _facts(self, s: Session, cust: CustomerRow) -> gate.Customer:
        consents = s.execute(select(ConsentRow).where(ConsentRow.customer_id == cust.id)).scalars()
        return gate.Customer(
            registered=cust.registered,
            timezone=cust.timezone,
            lawful_basis=frozenset(json.loads(cust.lawful_basis)),
            consents=tuple(
                gate.Consent(c.purpose, c.granted_at, c.withdrawn_at, c.expires_at) for c in consents
            ),
        )

    def _history(self, s: Session, customer_id: str, now: datetime) -> list[gate.Attempt]:
        rows = s.execute(
            select(AttemptRow).where(
                AttemptRow.customer_id == customer_id,
                AttemptRow.allowed.is_(True),
                AttemptRow.at >= now - timedelta(days=_HISTORY_DAYS),
            )
        ).scalars()
        return [gate.Attempt(r.at, r.purpose, r.debt_id, r.method, r.conversation) for r in rows]

    def _scopes(self, s: Session, phone_hash: str) -> set[str]:
        rows = s.execute(
            select(SuppressionRow.scope).where(
                SuppressionRow.phone_hash == phone_hash, SuppressionRow.removed_at.is_(None)
            )
        ).scalars()
        return set(rows)

    def claim_call(self, call_id: str, token: str | None, now: datetime) -> ClaimedCall:
        """Exchange a call token (single use, short-lived) for the call's details; InvalidToken otherwise.

        `token=None` is for a gateway that proved a shared secret: the call must still have been
        granted by the gate (POST /v1/calls), unclaimed and unexpired; only the token is waived.
        """
        with self._tx() as s:
            call = s.get(CallRow, call_id)
            if call is None:
                raise InvalidToken("unknown call or wrong token")
            if token is not None and not hmac.compare_digest(call.token_hash, _token_hash(token)):
                raise InvalidToken("unknown call or wrong token")
            if call.token_used_at is not None:
                raise InvalidToken("the call token was already used")
            if now >= call.token_expires_at:
                raise InvalidToken("the call token has expired")
            done = s.execute(
                update(CallRow)
                .where(CallRow.id == call_id, CallRow.token_used_at.is_(None))
                .values(token_used_at=now, started_at=now, status="claimed")
            )
            if not done.rowcount:  # type: ignore[attr-defined]
                raise InvalidToken("the call token was already used")
            cust = s.get(CustomerRow, call.customer_id)
            assert cust is not None
            self._append(s, "call_claimed", {"customer_id": cust.id}, now, call_id)
            return ClaimedCall(
                call_id=call.id,
                customer_id=cust.id,
                customer_name=cust.name,
                phone_hash=cust.phone_hash,
                phone_masked=cust.phone_masked,
                locale=call.locale,
                use_case=call.use_case,
                purpose=call.purpose,
                jurisdiction=call.jurisdiction,
                debt_id=call.debt_id,
                script_id=call.script_id,
                script_version=call.script_version,
                slots=dict(json.loads(call.slots)),
                timezone=cust.timezone,
            )

    # -- suppression ------------------------------------------------------------------------------

    def record_opt_out(self, call_id: str, scope: str, via: str, now: datetime) -> None:
        """Suppress the call's number and audit it in ONE transaction, durably committed before returning."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}")
        with self._tx() as s:
            call = s.get(CallRow, call_id)
            if call is None:
                raise NotFound(f"no call {call_id}")
            cust = s.get(CustomerRow, call.customer_id)
            masked = cust.phone_masked if cust else ""
            s.add(
                SuppressionRow(
                    phone_hash=call.phone_hash,
                    phone_masked=masked,
                    scope=scope,
                    source=f"opt_out:{via}"[:128],
                    created_at=now,
                )
            )
            if scope == "marketing" or scope == "all":
                s.execute(
                    update(ConsentRow)
                    .where(
                        ConsentRow.customer_id == call.customer_id,
                        ConsentRow.purpose == "marketing",
                        ConsentRow.withdrawn_at.is_(None),
                    )
                    .values(withdrawn_at=now)
                )
            self._append(s, "opt_out", {"scope": scope, "via": via, "phone": masked}, now, call_id)

    def suppress(self, phone: str, scope: str, source: str, now: datetime) -> str:
        """Add a suppression entry for a number; returns its masked form."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}")
        phone_hash, masked = self._phone(phone)
        with self._tx() as s:
            s.add(
                SuppressionRow(
                    phone_hash=phone_hash,
                    phone_masked=masked,
                    scope=scope,
                    source=source[:128],
                    created_at=now,
                )
            )
            self._append(s, "suppression_added", {"phone": masked, "scope": scope, "source": source}, now)
        return masked

    def unsuppress(self, phone: str, now: datetime, scope: str | None = None, source: str = "api") -> int:
        """Remove a number's active suppression entries (one scope or all); returns how many."""
        phone_hash, masked = self._phone(phone)
        with self._tx() as s:
            cond = [SuppressionRow.phone_hash == phone_hash, SuppressionRow.removed_at.is_(None)]
            if scope is not None:
                cond.append(SuppressionRow.scope == scope)
            result = s.execute(update(SuppressionRow).where(*cond).values(removed_at=now))
            count = int(result.rowcount or 0)  # type: ignore[attr-defined]
            self._append(
                s,
                "suppression_removed",
                {"phone": masked, "scope": scope, "source": source, "count": count},
                now,
            )
            return count

    def suppression_scopes(self, phone: str) -> set[str]:
        """Active suppression scopes of a number ('all', 'marketing')."""
        phone_hash, _ = self._phone(phone)
        with self._tx() as s:
            return self._scopes(s, phone_hash)

    def is_suppressed(self, phone: str, purpose: str = "servicing") -> bool:
        """True when a call for this purpose to this number would be refused as suppressed."""
        return gate.is_suppressed(self.suppression_scopes(phone), purpose)

    def import_suppression_csv(self, text_csv: str, now: datetime, source: str = "csv") -> int:
        """Import `phone[,scope[,source]]` rows (header optional) atomically; returns rows imported."""
        entries: list[tuple[str, str, str, str]] = []
        for lineno, row in enumerate(csv.reader(io.StringIO(text_csv)), start=1):
            cells = [c.strip() for c in row]
            if not cells or not any(cells) or cells[0].startswith("#"):
                continue
            if lineno == 1 and cells[0].lower() in {"phone", "number", "phone_number"}:
                continue
            scope = cells[1] if len(cells) > 1 and cells[1] else "all"
            if scope not in SCOPES:
                raise ValueError(f"line {lineno}: scope {scope!r} is not one of {SCOPES}")
            try:
                phone_hash, masked = self._phone(cells[0])
            except InvalidPhone as exc:
                raise ValueError(f"line {lineno}: {exc}") from exc
            entries.append((phone_hash, masked, scope, cells[2] if len(cells) > 2 and cells[2] else source))
        with self._tx() as s:
            for phone_hash, masked, scope, src in entries:
                s.add(
                    SuppressionRow(
                        phone_hash=phone_hash,
                        phone_masked=masked,
                        scope=scope,
                        source=src[:128],
                        created_at=now,
                    )
                )
            self._append(s, "suppression_imported", {"count": len(entries), "source": source}, now)
        return len(entries)

    # -- the call record ------------------------------------------------------------------------

    def record_turn(
        self, call_id: str, speaker: str, text: str, intent: str | None, start_ms: int, now: datetime
    ) -> None:
        """Store one turn; the text is redacted before it reaches the database."""
        with self._tx() as s:
            if s.get(CallRow, call_id) is None:
                raise NotFound(f"no call {call_id}")
            last = s.execute(
                select(TurnRow.seq).where(TurnRow.call_id == call_id).order_by(TurnRow.seq.desc()).limit(1)
            ).scalar_one_or_none()
            s.add(
                TurnRow(
                    call_id=call_id,
                    seq=(last or 0) + 1,
                    speaker=speaker,
                    text=redact(text),
                    intent=intent,
                    start_ms=start_ms,
                    created_at=now,
                )
            )

    def record_event(self, call_id: str | None, kind: str, data: Mapping[str, Any], now: datetime) -> int:
        """Append an audit event (strings redacted); returns its seq. Appends are serialised."""
        with self._tx() as s:
            return self._append(s, kind, data, now, call_id).seq

    def finish_call(
        self,
        call_id: str,
        outcome: str,
        timings: Mapping[str, Any],
        now: datetime,
        conversation: bool | None = None,
    ) -> None:
        """Record the outcome; a conversation (default: outcomes not in NO_CONVERSATION) starts quiet days."""
        talked = outcome not in NO_CONVERSATION if conversation is None else conversation
        with self._tx() as s:
            call = s.get(CallRow, call_id)
            if call is None:
                raise NotFound(f"no call {call_id}")
            call.status, call.outcome, call.ended_at = "finished", outcome, now
            call.timings = json.dumps(dict(timings), sort_keys=True, default=str)
            call.conversation = talked
            s.execute(update(AttemptRow).where(AttemptRow.call_id == call_id).values(conversation=talked))
            self._append(s, "call_finished", {"outcome": outcome, "conversation": talked}, now, call_id)

    def get_call(self, call_id: str) -> dict[str, Any]:
        """The call's outcome, redacted transcript and timings (no slot values); NotFound if unknown."""
        with self._tx() as s:
            call = s.get(CallRow, call_id)
            if call is None:
                raise NotFound(f"no call {call_id}")
            cust = s.get(CustomerRow, call.customer_id)
            turns = s.execute(
                select(TurnRow).where(TurnRow.call_id == call_id).order_by(TurnRow.seq)
            ).scalars()
            return {
                "call_id": call.id,
                "customer_id": call.customer_id,
                "phone": cust.phone_masked if cust else None,
                "status": call.status,
                "outcome": call.outcome,
                "purpose": call.purpose,
                "use_case": call.use_case,
                "locale": call.locale,
                "jurisdiction": call.jurisdiction,
                "script_id": call.script_id,
                "script_version": call.script_version,
                "conversation": call.conversation,
                "created_at": call.created_at.isoformat(),
                "started_at": call.started_at.isoformat() if call.started_at else None,
                "ended_at": call.ended_at.isoformat() if call.ended_at else None,
                "timings": json.loads(call.timings),
                "transcript": [
                    {
                        "seq": t.seq,
                        "speaker": t.speaker,
                        "text": t.text,
                        "intent": t.intent,
                        "start_ms": t.start_ms,
                    }
                    for t in turns
                ],
            }

    # -- audit and health -----------------------------------------------------------------------

    def audit_events(self) -> list[audit.AuditEvent]:
        """All audit events in stored seq order."""
        with self._tx() as s:
            rows = s.execute(select(AuditEventRow).order_by(AuditEventRow.seq)).scalars()
            return [
                audit.AuditEvent(r.seq, r.at, r.call_id, r.kind, r.data, r.prev_hash, r.hash) for r in rows
            ]

    def verify_audit(self) -> tuple[bool, int | None, str]:
        """(ok, first bad seq or None, detail) for the whole chain, including a cut-off tail."""
        with self._tx() as s:
            rows = list(s.execute(select(AuditEventRow).order_by(AuditEventRow.seq)).scalars())
            head = s.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1)).scalar_one_or_none()
        events = [audit.AuditEvent(r.seq, r.at, r.call_id, r.kind, r.data, r.prev_hash, r.hash) for r in rows]
        head_pair = (head.seq, head.hash) if head else (0, audit.GENESIS)
        bad = audit.verify(events, head_pair)
        if bad is None:
            return True, None, f"{len(events)} events, chain intact"
        if bad >= len(events):
            return False, head_pair[0], f"events after seq {events[-1].seq if events else 0} are missing"
        prev_seq = events[bad - 1].seq if bad else 0
        ev = events[bad]
        if ev.seq != prev_seq + 1:
            return (
                False,
                prev_seq + 1,
                f"event seq {prev_seq + 1} is missing or out of order (found {ev.seq})",
            )
        return (
            False,
            ev.seq,
            f"event seq {ev.seq} ({ev.kind}) was changed or does not link to its predecessor",
        )

    def write_checkpoint(
        self, signer: checkpoints.Signer, *, skip_unchanged: bool = False
    ) -> CheckpointRecord | None:
        """Sign the audit chain head and keep the checkpoint (agent.store.checkpoints)."""
        with self._tx() as s:
            return checkpoints.write(s, signer, skip_unchanged=skip_unchanged)

    def checkpoints(self) -> list[CheckpointRecord]:
        """Every stored audit checkpoint, oldest first."""
        with self._tx() as s:
            return checkpoints.all_checkpoints(s)

    def healthy(self) -> bool:
        """True when the store answers and can take a write lock right now."""
        if self._closed:
            return False
        try:
            with self._engine.connect() as conn:
                if is_sqlite(self._engine):
                    with conn.begin():  # BEGIN IMMEDIATE: proves we can write
                        conn.execute(sql_text("SELECT 1"))
                else:
                    ro = conn.execute(sql_text("SHOW transaction_read_only")).scalar()
                    return ro == "off"
            return True
        except (SQLAlchemyError, OSError):
            return False


def _safe_url(url: str) -> str:
    """The URL with any password hidden, fit for an error message."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable url>"
