"""Campaigns as data (SPEC 12): what to call about, under which rules, how fast, and how to retry.

Pure pydantic models, validated on the way in (REST, CLI, YAML); nothing here reads a clock
or touches the store. A member's phone number never appears in these models: members are
named by a stable key (its keyed phone hash) so plans and caller-ID choices can be derived
without the number.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.compliance.phone import InvalidPhone, normalize_e164


class Result(StrEnum):
    """How one placed attempt ended, as the dialer and the call session report it."""

    no_answer = "no_answer"  # rang out
    busy = "busy"  # line busy (SIP 486 or a carrier "the number is busy" announcement)
    failed = "failed"  # the network could not place it (SIP 4xx/5xx, bad route)
    voicemail = "voicemail"  # an answering machine took it
    carrier = "carrier"  # a carrier announcement answered (powered off, unreachable, ...)
    not_in_service = "not_in_service"  # the carrier says the number does not exist (空号)
    contact = "contact"  # the right party talked; no final outcome yet (e.g. "call me later")
    promise = "promise"  # the right party promised to pay
    paid = "paid"  # the right party says it is paid already
    opt_out = "opt_out"  # the right party asked not to be called
    wrong_party = "wrong_party"  # someone else answered and the number is not theirs
    dispute = "dispute"  # the right party disputes the debt: a human must look
    refused = "refused"  # the gate refused the attempt (never dialled)


FINAL: frozenset[Result] = frozenset(
    {Result.promise, Result.paid, Result.opt_out, Result.wrong_party, Result.dispute, Result.not_in_service}
)
CONVERSATION: frozenset[Result] = frozenset(
    {Result.contact, Result.promise, Result.paid, Result.opt_out, Result.dispute}
)
RIGHT_PARTY: frozenset[Result] = CONVERSATION  # a right-party contact = a conversation with them
ANSWERED_BY_PERSON: frozenset[Result] = CONVERSATION | {Result.wrong_party}


class RetryRule(BaseModel):
    """What to do after one kind of result: wait at least `delay_minutes`, at most `max_attempts`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delay_minutes: int = Field(ge=0, le=60 * 24 * 30)
    max_attempts: int = Field(ge=0, le=1000)  # results of this kind after which the member stops


class RetryPolicy(BaseModel):
    """Retry rules by result; a final result (promise, opt-out, wrong party, dispute) never retries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    no_answer: RetryRule = RetryRule(delay_minutes=180, max_attempts=20)
    busy: RetryRule = RetryRule(delay_minutes=30, max_attempts=10)
    failed: RetryRule = RetryRule(delay_minutes=24 * 60, max_attempts=3)
    voicemail: RetryRule = RetryRule(delay_minutes=24 * 60, max_attempts=6)
    carrier: RetryRule = RetryRule(delay_minutes=12 * 60, max_attempts=6)
    contact: RetryRule = RetryRule(delay_minutes=48 * 60, max_attempts=4)
    max_attempts: int = Field(40, ge=1, le=1000)  # attempts a member may get in the whole campaign

    def rule(self, result: Result) -> RetryRule | None:
        """The rule for a non-final result; None for a final one (the member stops)."""
        if result in FINAL:
            return None
        if result == Result.refused:
            return RetryRule(delay_minutes=60, max_attempts=self.max_attempts)
        rule: RetryRule = getattr(self, result.value)
        return rule


class Window(BaseModel):
    """The campaign's own local calling hours; the jurisdiction's window still bounds them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time = time(9, 0)
    end: time = time(20, 0)
    days: frozenset[int] = frozenset(range(7))  # ISO weekdays 1..7 minus one (0 = Monday)

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if not self.start < self.end:
            raise ValueError("window.start must be before window.end")
        if not self.days or not self.days <= set(range(7)):
            raise ValueError("window.days must be a non-empty set of weekdays 0 (Monday) to 6")
        return self


class Pace(BaseModel):
    """How fast the dialer may go: concurrent calls in flight and new calls per second per trunk."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_concurrent: int = Field(10, ge=1, le=100_000)
    calls_per_second: float = Field(1.0, gt=0, le=1000)  # per trunk
    trunks: int = Field(1, ge=1, le=1000)


class Campaign(BaseModel):
    """One outbound campaign: who may be called about what, when, how fast, from which numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    use_case: str = Field(min_length=1, max_length=64)  # the script, e.g. repayment_reminder
    locale: Literal["en-US", "zh-CN"] = "en-US"
    purpose: Literal["servicing", "marketing"] = "servicing"
    jurisdiction: Literal["CN", "US"] = "US"
    caller_ids: tuple[str, ...] = Field(min_length=1)  # the lender's registered numbers (E.164)
    window: Window = Field(default_factory=Window)
    pace: Pace = Field(default_factory=lambda: Pace.model_validate({}))
    retry: RetryPolicy = Field(default_factory=lambda: RetryPolicy.model_validate({}))
    daily_cap: int | None = Field(None, ge=0, le=100)  # stricter than the profile, never looser
    gateway: Literal["twilio", "asterisk", "freeswitch", "jambonz"] = "twilio"

    @field_validator("caller_ids")
    @classmethod
    def _e164(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for raw in value:
            try:
                number = normalize_e164(raw)
            except InvalidPhone as exc:
                raise ValueError(f"caller ID {raw!r}: {exc}") from exc
            if number not in out:
                out.append(number)
        return tuple(out)


class Member(BaseModel):
    """One person in a campaign, as the scheduler sees them (no phone number: a stable key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1)  # stable per person: the keyed phone hash
    timezone: str
    debt_id: str | None = None
