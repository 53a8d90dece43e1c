"""Plain values going in and out of the store facade."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple


@dataclass(frozen=True, slots=True)
class CallRequest:
    """A request to place one call; the customer is named by id or by phone number."""

    purpose: str  # servicing | marketing
    use_case: str  # script name, e.g. repayment_reminder
    customer_id: str | None = None
    phone: str | None = None
    debt_id: str | None = None
    method: str = "voice"
    locale: str | None = None  # default: the customer's
    jurisdiction: str | None = None  # default: the customer's, then the store default
    script_id: str | None = None
    script_version: str | None = None
    slots: Mapping[str, str] = field(default_factory=dict)
    caller_id: str | None = None  # the number the call presents (campaign calls)
    registered_caller_ids: tuple[str, ...] | None = None  # the lender's numbers; None = not checked


@dataclass(frozen=True, slots=True)
class CallGrant:
    """The gate allowed the call: the transport must present `token` (single use) before expires_at."""

    call_id: str
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CallRefusal:
    """The gate refused the call, with a stable reason code (see agent.compliance.gate.REASONS)."""

    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ClaimedCall:
    """Everything a transport/session needs once its token is accepted."""

    call_id: str
    customer_id: str
    customer_name: str
    phone_hash: str
    phone_masked: str
    locale: str
    use_case: str
    purpose: str
    jurisdiction: str
    debt_id: str | None
    script_id: str | None
    script_version: str | None
    slots: dict[str, str]
    timezone: str | None = None  # the customer's IANA zone: "today" for date answers is theirs


class AuditReport(NamedTuple):
    """The verdict on the audit chain: unpacks as (ok, first bad seq or None, one-sentence detail)."""

    ok: bool
    first_bad_seq: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One stored turn (text redacted before storage)."""

    seq: int
    speaker: str
    text: str | None  # None when read without the right to decrypt
    intent: str | None
    start_ms: int


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A call as stored: outcome, transcript and timings; no slot values, phone masked."""

    call_id: str
    customer_id: str
    phone: str | None
    status: str
    outcome: str | None
    purpose: str
    use_case: str
    locale: str
    jurisdiction: str
    script_id: str | None
    script_version: str | None
    conversation: bool
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    timings: dict[str, Any]
    transcript: tuple[TurnRecord, ...]
