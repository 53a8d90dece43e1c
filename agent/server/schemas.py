"""Pydantic request/response bodies of the REST API (SPEC 9.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Purpose = Literal["servicing", "marketing"]
Scope = Literal["all", "marketing", "voice"]


def _default_basis() -> dict[Purpose, str]:
    """Servicing calls rest on the credit contract unless the caller says otherwise."""
    return {"servicing": "contract"}


class Body(BaseModel):
    """Request bodies reject unknown fields so typos fail loudly."""

    model_config = ConfigDict(extra="forbid")


class CustomerIn(Body):
    phone: str = Field(description="any common form; normalised to E.164, stored only hashed + masked")
    name: str
    timezone: str = Field(description="IANA zone, e.g. America/New_York, Asia/Shanghai")
    locale: Literal["en-US", "zh-CN"] = "en-US"
    jurisdiction: Literal["CN", "US"] | None = None
    lawful_basis: dict[Purpose, str] = Field(default_factory=_default_basis)
    external_ref: str | None = None


class CustomerOut(BaseModel):
    customer_id: str
    phone: str  # masked


class ConsentIn(Body):
    purpose: Purpose
    source: str
    granted_at: datetime | None = None
    expires_at: datetime | None = None
    evidence: str | None = None


class ConsentOut(BaseModel):
    consent_id: int


class CallIn(Body):
    customer_id: str | None = None
    phone: str | None = None
    purpose: Purpose
    use_case: str = "repayment_reminder"
    debt_id: str | None = None
    method: str = "voice"
    locale: Literal["en-US", "zh-CN"] | None = None
    jurisdiction: Literal["CN", "US"] | None = None
    script_id: str | None = None
    script_version: str | None = None
    slots: dict[str, str] = Field(default_factory=dict)


class CallGrantOut(BaseModel):
    call_id: str
    token: str
    expires_at: datetime


class RefusalOut(BaseModel):
    refused: Literal[True] = True
    reason: str
    detail: str = ""


class TurnOut(BaseModel):
    seq: int
    speaker: str
    text: str
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


class SuppressionIn(Body):
    phone: str
    scope: Scope = "all"
    source: str = "api"


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
