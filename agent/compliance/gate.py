"""Pre-call gate (SPEC 7.1): a deterministic decision with a stable reason code, time passed in.

Checks run in this order and the first failure is the reason:
`unknown_purpose`, `unknown_jurisdiction`, `unofficial_callback_number` (a callback slot that is
not one of the lender's registered numbers, SPEC 7.9), `not_registered`, `invalid_timezone`,
`suppressed`, `no_lawful_basis`, `no_consent`, `outside_window`, `recent_conversation`,
`cap_daily`, `cap_7day`, `caller_id_unregistered`, `caller_id_changed`. Allowed decisions
carry reason `ok`. The caller-ID checks (SPEC 7.10) run only when the intent names the
lender's registered numbers: the presented number must be one of them, and the same one
every earlier attempt to this customer presented (no rotation to get past blocking).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agent.compliance.callback import OfficialNumbers
from agent.compliance.profiles import PURPOSES, Profile, Purpose, get_profile

REASONS: tuple[str, ...] = (
    "ok",
    "unknown_purpose",
    "unknown_jurisdiction",
    "unofficial_callback_number",
    "not_registered",
    "invalid_timezone",
    "suppressed",
    "no_lawful_basis",
    "no_consent",
    "outside_window",
    "recent_conversation",
    "cap_daily",
    "cap_7day",
    "caller_id_unregistered",
    "caller_id_changed",
)


@dataclass(frozen=True, slots=True)
class Consent:
    """A consent record for one purpose; active from granted_at until withdrawn or expired."""

    purpose: str
    granted_at: datetime
    withdrawn_at: datetime | None = None
    expires_at: datetime | None = None

    def active(self, now_utc: datetime) -> bool:
        """True when the consent covers the instant now_utc."""
        if self.granted_at > now_utc:
            return False
        if self.withdrawn_at is not None and self.withdrawn_at <= now_utc:
            return False
        return self.expires_at is None or now_utc < self.expires_at


@dataclass(frozen=True, slots=True)
class Customer:
    """What the gate needs to know about the person to be called."""

    registered: bool
    timezone: str
    lawful_basis: frozenset[str]  # purposes with a lawful basis on file
    consents: tuple[Consent, ...] = ()


@dataclass(frozen=True, slots=True)
class CallIntent:
    """One proposed call: who, why, for which debt, by which contact method, under which rules."""

    customer: Customer | None
    purpose: str
    jurisdiction: str
    debt_id: str | None = None
    method: str = "voice"
    profile: Profile | None = None  # a tightened profile; None = the jurisdiction's own
    caller_id: str | None = None  # the number the call presents (E.164)
    registered_caller_ids: frozenset[str] | None = None  # the lender's numbers; None = not checked
    slots: Mapping[str, str] = field(default_factory=dict)  # the call's slot values
    official: OfficialNumbers | None = None  # registered numbers callback slots must be; None = unchecked


@dataclass(frozen=True, slots=True)
class Attempt:
    """A call placed earlier (a granted call), and whether a conversation took place on it."""

    at_utc: datetime
    purpose: str
    debt_id: str | None = None
    method: str = "voice"
    conversation: bool = False
    caller_id: str | None = None  # the number that attempt presented, when known


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The gate's answer: allowed or not, with a stable reason code and a human detail."""

    allowed: bool
    reason: str
    detail: str = field(default="", compare=False)


def _refuse(reason: str, detail: str) -> GateDecision:
    return GateDecision(False, reason, detail)


def is_suppressed(scopes: Collection[str], purpose: str) -> bool:
    """True when a suppression scope set covers this purpose ('all' and 'voice' cover every call)."""
    return "all" in scopes or "voice" in scopes or (purpose == "marketing" and "marketing" in scopes)


def _same_debt(a: Attempt, intent: CallIntent) -> bool:
    return a.purpose == intent.purpose and a.debt_id == intent.debt_id


def decide(
    request: CallIntent,
    history: Sequence[Attempt],
    suppression: Collection[str],
    now_utc: datetime,
) -> GateDecision:
    """Decide whether the call may be placed now; `suppression` holds the number's active scopes."""
    if now_utc.tzinfo is None:
        raise ValueError("now_utc must be timezone-aware")
    if request.purpose not in PURPOSES:
        return _refuse("unknown_purpose", f"purpose {request.purpose!r} is not one of {PURPOSES}")
    purpose: Purpose = request.purpose
    profile = request.profile or get_profile(request.jurisdiction)
    if profile is None:
        return _refuse("unknown_jurisdiction", f"no profile for jurisdiction {request.jurisdiction!r}")
    if request.official is not None:
        bad = request.official.unofficial(request.slots, request.jurisdiction)
        if bad:
            return _refuse(
                "unofficial_callback_number",
                f"slot {bad[0]} is not one of the lender's registered numbers (compliance.official_numbers)",
            )
    customer = request.customer
    if customer is None or not customer.registered:
        return _refuse("not_registered", "the number is not a registered customer")
    try:
        zone = ZoneInfo(customer.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return _refuse("invalid_timezone", f"unknown time zone {customer.timezone!r}")
    if is_suppressed(suppression, purpose):
        return _refuse("suppressed", "the number is on the suppression list")
    rules = profile.rules(purpose)
    if purpose not in customer.lawful_basis:
        return _refuse("no_lawful_basis", f"no lawful basis on file for {purpose}")
    if rules.needs_consent and not any(c.purpose == purpose and c.active(now_utc) for c in customer.consents):
        return _refuse("no_consent", f"no active consent for {purpose}")
    local = now_utc.astimezone(zone)
    if not rules.window.contains(local.time()):
        return _refuse(
            "outside_window",
            f"{local:%H:%M} local is outside {rules.window.start:%H:%M}-{rules.window.end:%H:%M}",
        )
    today = local.date()
    mine = [a for a in history if _same_debt(a, request) and a.at_utc <= now_utc]
    days = [(a, a.at_utc.astimezone(zone).date()) for a in mine]
    quiet = rules.quiet_days_after_conversation
    if quiet:
        for a, day in days:
            if a.conversation and _within(day, today, quiet):
                return _refuse("recent_conversation", f"conversation on {day}; quiet for {quiet} days")
    if rules.daily_cap is not None:
        count = sum(1 for a, day in days if day == today and a.method == request.method)
        if count >= rules.daily_cap:
            return _refuse("cap_daily", f"{count} attempts today; cap {rules.daily_cap}")
    if rules.seven_day_cap is not None:
        count = sum(1 for _a, day in days if _within(day, today, 7))
        if count >= rules.seven_day_cap:
            return _refuse("cap_7day", f"{count} attempts in 7 days; cap {rules.seven_day_cap}")
    if request.registered_caller_ids is not None:
        if request.caller_id not in request.registered_caller_ids:
            return _refuse("caller_id_unregistered", f"caller ID {request.caller_id!r} is not registered")
        shown = {a.caller_id for a in history if a.caller_id and a.caller_id in request.registered_caller_ids}
        if shown and request.caller_id not in shown:
            return _refuse("caller_id_changed", f"this customer was called from {sorted(shown)[0]}")
    return GateDecision(True, "ok", f"{local:%Y-%m-%d %H:%M} local")


def _within(day: date, today: date, span_days: int) -> bool:
    """True when `day` is one of the `span_days` local days ending today (day 1 = `day` itself)."""
    return today - timedelta(days=span_days - 1) <= day <= today
