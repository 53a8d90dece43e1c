"""Customers and their consents: registration, lawful basis per purpose, consent records."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agent.compliance import gate
from agent.compliance.profiles import PURPOSES
from agent.store import audit_log
from agent.store.context import StoreContext
from agent.store.errors import NotFound
from agent.store.models import ConsentRow, CustomerRow
from agent.store.records import CallRequest


def register(
    s: Session,
    ctx: StoreContext,
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
    juris = ctx.jurisdiction(jurisdiction)
    phone_hash, masked = ctx.phone(phone, juris)
    basis = dict(lawful_basis) if lawful_basis is not None else {"servicing": "contract"}
    bad = [p for p in basis if p not in PURPOSES]
    if bad:
        raise ValueError(f"unknown purpose(s) {bad}; use {list(PURPOSES)}")
    customer_id = uuid.uuid4().hex
    s.add(
        CustomerRow(
            id=customer_id,
            external_ref=external_ref,
            name=ctx.cipher.seal(name, f"customers.name:{customer_id}"),
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
    audit_log.append(
        s,
        "customer_registered",
        {"customer_id": customer_id, "phone": masked, "jurisdiction": juris, "lawful_basis": basis},
        now,
    )
    return customer_id


def add_consent(
    s: Session,
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
    audit_log.append(
        s,
        "consent_added",
        {"customer_id": customer_id, "purpose": purpose, "source": source, "consent_id": row.id},
        now,
    )
    return row.id


def withdraw_consent(s: Session, customer_id: str, purpose: str, *, now: datetime, via: str) -> int:
    """Withdraw every active consent of a customer for a purpose; returns how many."""
    count = withdraw_active(s, customer_id, purpose, now)
    audit_log.append(
        s,
        "consent_withdrawn",
        {"customer_id": customer_id, "purpose": purpose, "via": via, "count": count},
        now,
    )
    return count


def withdraw_active(s: Session, customer_id: str, purpose: str, now: datetime) -> int:
    """Mark a customer's active consents for a purpose withdrawn (no audit event); returns how many."""
    result = s.execute(
        update(ConsentRow)
        .where(
            ConsentRow.customer_id == customer_id,
            ConsentRow.purpose == purpose,
            ConsentRow.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def find(s: Session, ctx: StoreContext, req: CallRequest) -> CustomerRow | None:
    """The customer a call request names, by id or by phone number."""
    if req.customer_id:
        return s.get(CustomerRow, req.customer_id)
    phone_hash = ctx.phone_hash_or_none(req.phone, req.jurisdiction)
    if phone_hash is None:
        return None
    return s.execute(select(CustomerRow).where(CustomerRow.phone_hash == phone_hash)).scalar_one_or_none()


def gate_facts(s: Session, cust: CustomerRow) -> gate.Customer:
    """What the pure gate needs to know about a customer."""
    consents = s.execute(select(ConsentRow).where(ConsentRow.customer_id == cust.id)).scalars()
    return gate.Customer(
        registered=cust.registered,
        timezone=cust.timezone,
        lawful_basis=frozenset(json.loads(cust.lawful_basis)),
        consents=tuple(gate.Consent(c.purpose, c.granted_at, c.withdrawn_at, c.expires_at) for c in consents),
    )
