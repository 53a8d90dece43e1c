"""Pydantic request/response bodies of the REST API (SPEC 9.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from agent.store.records import CallRecord

Purpose = Literal["servicing", "marketing"]
Scope = Literal["all", "marketing", "voice"]
DialResult = Literal["no_answer", "busy", "failed", "voicemail", "carrier_announcement"]


def _no_nul(value: str) -> str:
    """A NUL byte is never meaningful in a field (and PostgreSQL refuses it)."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("is not an IANA time zone such as America/New_York") from exc
    return value


# String fields: bounded length and no NUL, checked before anything else reads them.
NoNul = AfterValidator(_no_nul)
Phone = Annotated[str, StringConstraints(min_length=3, max_length=32), NoNul]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64), NoNul]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]
Text64 = Annotated[str, StringConstraints(min_length=1, max_length=64), NoNul]
Source = Annotated[str, StringConstraints(min_length=1, max_length=128), NoNul]
Text128 = Annotated[str, StringConstraints(min_length=1, max_length=128), NoNul]
Text500 = Annotated[str, StringConstraints(max_length=500), NoNul]
Text2000 = Annotated[str, StringConstraints(max_length=2000), NoNul]
Zone = Annotated[str, StringConstraints(min_length=1, max_length=64), NoNul, AfterValidator(_zone)]
Reason = Annotated[str, StringConstraints(min_length=3, max_length=500), NoNul]
Method = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,16}$")]


def _default_basis() -> dict[Purpose, str]:
    """Servicing calls rest on the credit contract unless the caller says otherwise."""
    return {"servicing": "contract"}


class Body(BaseModel):
    """Request bodies reject unknown fields so typos fail loudly."""

    model_config = ConfigDict(extra="forbid")


class CustomerIn(Body):
    phone: Phone = Field(description="any common form; normalised to E.164, stored only hashed + masked")
    name: Name = Field(description="stored encrypted; shown only to keys with audit-read")
    timezone: Zone = Field(description="IANA zone, e.g. America/New_York, Asia/Shanghai")
    locale: Literal["en-US", "zh-CN"] = "en-US"
    jurisdiction: Literal["CN", "US"] | None = None
    lawful_basis: dict[Purpose, Text64] = Field(default_factory=_default_basis)
    external_ref: Text128 | None = None


class CustomerOut(BaseModel):
    customer_id: str
    phone: str  # masked


class ConsentIn(Body):
    purpose: Purpose
    source: Source
    granted_at: AwareDatetime | None = Field(None, description="with a UTC offset, e.g. 2025-06-01T09:00:00Z")
    expires_at: AwareDatetime | None = Field(None, description="with a UTC offset")
    evidence: Text2000 | None = None


class ConsentOut(BaseModel):
    consent_id: int


class CallIn(Body):
    customer_id: Id | None = None
    phone: Phone | None = None
    purpose: Purpose
    use_case: Text64 | None = Field(
        None, description="script to run; default dialogue.default_script"
    )
    debt_id: Text128 | None = None
    method: Method = "voice"
    locale: Literal["en-US", "zh-CN"] | None = None
    jurisdiction: Literal["CN", "US"] | None = None
    script_id: Text128 | None = None
    script_version: Text64 | None = None
    slots: dict[Text64, Text500] = Field(
        default_factory=dict, max_length=64, description="stored encrypted"
    )


class CallGrantOut(BaseModel):
    call_id: str
    token: str
    expires_at: datetime


class RefusalOut(BaseModel):
    refused: Literal[True] = True
    reason: str
    detail: str = ""


class DialResultIn(Body):
    result: DialResult = Field(description="what the dialer saw; counts as an attempt without conversation")


class DialResultOut(BaseModel):
    call_id: str
    outcome: DialResult


class TurnOut(BaseModel):
    seq: int
    speaker: str
    text: str | None = Field(description="null unless the key has audit-read")
    intent: str | None
    start_ms: int


class CallOut(BaseModel):
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
    created_at: str
    started_at: str | None
    ended_at: str | None
    timings: dict[str, Any]
    transcript: list[TurnOut]

    @classmethod
    def from_record(cls, call: CallRecord) -> CallOut:
        """The REST form of a stored call record."""
        return cls(
            call_id=call.call_id,
            customer_id=call.customer_id,
            phone=call.phone,
            status=call.status,
            outcome=call.outcome,
            purpose=call.purpose,
            use_case=call.use_case,
            locale=call.locale,
            jurisdiction=call.jurisdiction,
            script_id=call.script_id,
            script_version=call.script_version,
            conversation=call.conversation,
            created_at=call.created_at.isoformat(),
            started_at=call.started_at.isoformat() if call.started_at else None,
            ended_at=call.ended_at.isoformat() if call.ended_at else None,
            timings=call.timings,
            transcript=[
                TurnOut(seq=t.seq, speaker=t.speaker, text=t.text, intent=t.intent, start_ms=t.start_ms)
                for t in call.transcript
            ],
        )


class SuppressionIn(Body):
    phone: Phone
    scope: Scope = "all"
    source: Source = "api"


class SuppressionOut(BaseModel):
    phone: str  # masked
    scope: Scope


class SuppressionRemoved(BaseModel):
    removed: int


class SuppressionCheck(BaseModel):
    phone: str  # masked
    suppressed: bool
    scopes: list[str]


class ImportOut(BaseModel):
    imported: int


class AuditVerifyOut(BaseModel):
    ok: bool
    first_bad_seq: int | None
    detail: str
