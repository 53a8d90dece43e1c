"""The campaign scheduler (SPEC 12): each member's next attempt, or why they stop. Pure and clock-free.

`plan_next` looks at a member's attempts so far and proposes one time: not before the
retry policy's delay for the last result (longer after a run of unanswered attempts), only
in local hours both the campaign's and the jurisdiction's windows allow, only on local
days where the profile's caps and rest periods still leave room (the same `Rules` numbers
the gate applies), in a load bucket with spare capacity (so the day's calls spread evenly
over the window), at the hour of the week where this member is most likely to answer
(agent.campaign.learning), discounted a little for each day of waiting. It proposes; the
pre-call gate still decides every attempt at dial time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np

from agent.campaign.learning import AnswerCounts, Prior, posterior
from agent.campaign.model import ANSWERED_BY_PERSON, CONVERSATION, FINAL, Campaign, Member, Result
from agent.compliance.gate import Attempt
from agent.compliance.profiles import Rules

# Gate refusals after which a member stops (a person must look); any other refusal is re-planned.
BLOCKING_REFUSALS = frozenset(
    {
        "unknown_purpose",
        "unknown_jurisdiction",
        "not_registered",
        "invalid_timezone",
        "suppressed",
        "no_lawful_basis",
        "no_consent",
        "caller_id_unregistered",
        "caller_id_changed",
    }
)
FLAG_FOR_HUMAN = frozenset({Result.dispute.value, "caller_id_changed", "caller_id_unregistered"})
UNANSWERED = frozenset({Result.no_answer, Result.voicemail, Result.carrier, Result.busy, Result.failed})


@dataclass(frozen=True, slots=True)
class Placed:
    """One earlier attempt of this member in this campaign and how it ended."""

    at_utc: datetime
    result: Result
    refusal: str | None = None  # the gate's reason when result is `refused`


@dataclass(slots=True)
class MemberState:
    """Everything the scheduler knows about one member."""

    member: Member
    attempts: list[Placed] = field(default_factory=list)
    answers: AnswerCounts = field(default_factory=AnswerCounts)


@dataclass(frozen=True, slots=True)
class Plan:
    """Call this member at `at_utc` (expected answer probability `p` at that hour)."""

    at_utc: datetime
    p: float


@dataclass(frozen=True, slots=True)
class Stop:
    """This member gets no more attempts: a final result, an exhausted policy, or a blocking refusal."""

    reason: str
    flag_for_human: bool = False


class Load(Protocol):
    """Where attempts are already planned; picks a time with spare capacity inside [start, end)."""

    def pick(self, start_utc: datetime, end_utc: datetime, key: str) -> datetime | None: ...

    def fill(self, start_utc: datetime, end_utc: datetime) -> float: ...


@dataclass(frozen=True, slots=True)
class Tuning:
    """How the scheduler trades answer probability against waiting."""

    horizon_days: int = 7  # how far ahead a plan may go
    discount_per_day: float = 0.85  # a slot d days later scores discount**d
    explore: float = 0.3  # bonus per standard deviation of the answer estimate (try unknown hours)
    backoff_max_doublings: int = 3  # after k unanswered in a row, wait delay * 2**min(k-1, this)
    load_penalty: float = 0.5  # a full hour scores (1 - this) of an empty one: spreads the day evenly
    shortlist: int = 12  # best hours re-scored with their load


def _count(attempts: Sequence[Placed], result: Result) -> int:
    return sum(1 for a in attempts if a.result == result)


def should_stop(state: MemberState, campaign: Campaign) -> Stop | None:
    """Why this member is done, or None when another attempt may be planned."""
    attempts = state.attempts
    if not attempts:
        return None
    last = attempts[-1]
    if last.result in FINAL:
        return Stop(last.result.value, last.result.value in FLAG_FOR_HUMAN)
    if last.result == Result.refused and last.refusal in BLOCKING_REFUSALS:
        return Stop(f"refused:{last.refusal}", last.refusal in FLAG_FOR_HUMAN)
    dialled = [a for a in attempts if a.result != Result.refused]
    if len(dialled) >= campaign.retry.max_attempts:
        return Stop("exhausted")
    rule = campaign.retry.rule(last.result)
    counted = last.result != Result.refused and rule is not None
    if counted and rule is not None and _count(dialled, last.result) >= rule.max_attempts:
        return Stop(f"exhausted:{last.result.value}")
    return None


def earliest_next(state: MemberState, campaign: Campaign, tuning: Tuning, now: datetime) -> datetime:
    """The retry policy's earliest time for the next attempt (with backoff after unanswered runs)."""
    if not state.attempts:
        return now
    last = state.attempts[-1]
    rule = campaign.retry.rule(last.result)
    delay = timedelta(minutes=rule.delay_minutes if rule else 0)
    if last.result in UNANSWERED:
        streak = 0
        for a in reversed(state.attempts):
            if a.result == Result.refused:
                continue
            if a.result not in UNANSWERED:
                break
            streak += 1
        delay *= 2 ** min(max(streak - 1, 0), tuning.backoff_max_doublings)
    return max(now, last.at_utc + delay)


def _day_allowed(
    day: date, history: Sequence[Attempt], zone: ZoneInfo, rules: Rules, daily_cap: int | None, method: str
) -> bool:
    """Whether the profile's caps and rest periods leave room for one more attempt on local `day`."""
    days = [(a, a.at_utc.astimezone(zone).date()) for a in history]
    quiet = rules.quiet_days_after_conversation
    if quiet and any(a.conversation and d <= day <= d + timedelta(days=quiet - 1) for a, d in days):
        return False
    caps = [c for c in (rules.daily_cap, daily_cap) if c is not None]
    if caps and sum(1 for a, d in days if d == day and a.method == method) >= min(caps):
        return False
    if rules.seven_day_cap is not None:
        in_week = sum(1 for _a, d in days if day - timedelta(days=6) <= d <= day)
        if in_week >= rules.seven_day_cap:
            return False
    return True


def _hours(campaign: Campaign, rules: Rules) -> tuple[time, time]:
    """The local hours both the campaign and the jurisdiction allow."""
    return max(campaign.window.start, rules.window.start), min(campaign.window.end, rules.window.end)


def _local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def plan_next(
    state: MemberState,
    campaign: Campaign,
    rules: Rules,
    history: Sequence[Attempt],
    prior: Prior,
    now: datetime,
    load: Load | None = None,
    tuning: Tuning = Tuning(),
    method: str = "voice",
) -> Plan | Stop:
    """Propose this member's next attempt, or say why they stop; `history` is what the gate counts."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    stop = should_stop(state, campaign)
    if stop is not None:
        return stop
    zone = ZoneInfo(state.member.timezone)
    earliest = earliest_next(state, campaign, tuning, now)
    start_t, end_t = _hours(campaign, rules)
    if start_t >= end_t:
        return Stop("no_permitted_hours", True)
    mean, sd = posterior(state.answers, prior)
    score = mean + tuning.explore * sd
    first_day = earliest.astimezone(zone).date()
    mine = [a for a in history if a.purpose == campaign.purpose and a.debt_id == state.member.debt_id]
    candidates: list[tuple[float, date, time, time, float]] = []
    for offset in range(tuning.horizon_days + 1):
        day = first_day + timedelta(days=offset)
        if day.weekday() not in campaign.window.days:
            continue
        if not _day_allowed(day, mine, zone, rules, campaign.daily_cap, method):
            continue
        weight = tuning.discount_per_day**offset
        noon = datetime.combine(day, time(12), tzinfo=zone).utcoffset() or timedelta(0)
        for hour in range(start_t.hour, end_t.hour + (1 if end_t.minute else 0)):
            lo = max(time(hour), start_t)
            hi = min(time(hour + 1) if hour < 23 else time.max, end_t)
            if lo >= hi:
                continue
            if offset == 0 and datetime.combine(day, hi, tzinfo=UTC) - noon <= earliest:
                continue  # (exact conversion below; the noon offset is only a cheap filter)
            how = day.weekday() * 24 + hour
            candidates.append((float(score[how]) * weight, day, lo, hi, float(mean[how])))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    floor = _ceil_minute(earliest)

    def exact(c: tuple[float, date, time, time, float]) -> tuple[float, datetime, datetime, float] | None:
        value, day, lo, hi, p = c
        slot_lo, slot_hi = max(_local_to_utc(day, lo, zone), floor), _local_to_utc(day, hi, zone)
        return (value, slot_lo, slot_hi, p) if slot_lo < slot_hi else None

    head = [x for x in map(exact, candidates[: tuning.shortlist]) if x is not None]
    if load is None:
        first = head[0] if head else next((x for x in map(exact, candidates) if x is not None), None)
        return Plan(first[1], first[3]) if first else Stop("no_slot_in_horizon")
    # among the best hours, prefer the emptier ones, so the day's calls spread over the window
    head = [(v * (1.0 - tuning.load_penalty * load.fill(lo, hi)), lo, hi, p) for v, lo, hi, p in head]
    head.sort(key=lambda c: (-c[0], c[1]))
    fallback: Plan | None = Plan(head[0][1], head[0][3]) if head else None
    rest = (x for x in map(exact, candidates[tuning.shortlist :]) if x is not None)
    for _v, slot_lo, slot_hi, p in chain(head, rest):
        fallback = fallback or Plan(slot_lo, p)
        at = load.pick(slot_lo, slot_hi, state.member.key)
        if at is not None:
            return Plan(at, p)
    return fallback or Stop("no_slot_in_horizon")


def _ceil_minute(at: datetime) -> datetime:
    floor = at.replace(second=0, microsecond=0)
    return floor if floor == at else floor + timedelta(minutes=1)


def record_result(state: MemberState, at_utc: datetime, result: Result, zone: ZoneInfo,
                  refusal: str | None = None) -> None:
    """Add an attempt's result to the member's state (answer evidence only for dialled attempts)."""
    state.attempts.append(Placed(at_utc, result, refusal))
    if result == Result.refused:
        return
    local = at_utc.astimezone(zone)
    how = local.weekday() * 24 + local.hour
    state.answers.add(how, result in ANSWERED_BY_PERSON)


def is_conversation(result: Result) -> bool:
    """Whether a result counts as a conversation for the rest periods (Reg F's 7 days after)."""
    return result in CONVERSATION


def best_hours(state: MemberState, prior: Prior, top: int = 3) -> list[int]:
    """The member's most likely answering hours of the week (for reports)."""
    mean, _sd = posterior(state.answers, prior)
    return [int(h) for h in np.argsort(-mean)[:top]]
