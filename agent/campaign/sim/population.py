"""Simulated customers with answering habits, for `voice-agent campaign sim`.

Each customer lives in a time zone and follows a daily routine (an office worker answers
at lunch and in the evening, a retiree in the morning and afternoon, a shift worker in the
afternoon, an early bird before work and late in the evening; weekends differ), with a
personal answer rate and a personal shift of an hour or so. Some never answer, some have
voicemail, some keep their phone off at night (carrier "powered off" announcements), a few
numbers are dead (not in service) or now belong to someone else (wrong party). Once the
right party talks, they promise, opt out, dispute, or ask to be called another time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.campaign.model import Result

US_ZONES = ("America/New_York",) * 4 + ("America/Chicago",) * 3 + (
    "America/Denver", "America/Phoenix", "America/Los_Angeles", "America/Los_Angeles",
    "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico",
)
CN_ZONES = ("Asia/Shanghai",) * 12 + ("Asia/Urumqi", "Asia/Hong_Kong")
ABROAD = ("Europe/London", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo")


def _hours(base: float, peaks: dict[range, float]) -> tuple[float, ...]:
    out = [base] * 24
    for span, p in peaks.items():
        for h in span:
            out[h] = p
    return tuple(out)


# archetype -> (weekday answer rate by local hour, weekend answer rate by local hour, share)
ROUTINES: dict[str, tuple[tuple[float, ...], tuple[float, ...], float]] = {
    "office": (_hours(0.06, {range(7, 8): 0.3, range(12, 14): 0.5, range(18, 22): 0.6}),
               _hours(0.15, {range(10, 20): 0.45}), 0.35),
    "home": (_hours(0.2, {range(8, 12): 0.6, range(14, 18): 0.55}),
             _hours(0.2, {range(9, 12): 0.55, range(14, 18): 0.5}), 0.2),
    "shift": (_hours(0.04, {range(14, 21): 0.55}), _hours(0.1, {range(13, 21): 0.45}), 0.15),
    "early": (_hours(0.05, {range(7, 9): 0.5, range(20, 23): 0.55}),
              _hours(0.15, {range(9, 12): 0.4, range(19, 22): 0.45}), 0.2),
    "never": (_hours(0.0, {}), _hours(0.0, {}), 0.1),
}


@dataclass(slots=True)
class SimCustomer:
    """One simulated customer; `answer_rate` is their chance to pick up at a local hour."""

    idx: int
    jurisdiction: str
    timezone: str
    routine: str
    scale: float  # personal answer rate multiplier
    shift: int  # personal routine shift in hours
    voicemail: bool  # unanswered calls go to voicemail
    phone_off_at_night: bool  # before 09:00 and from 21:00 the carrier says "powered off"
    dead: bool  # the number is not in service
    reassigned: bool  # someone else has the number now (wrong party)
    suppressed_before: bool  # on the suppression list before the campaign
    outcomes: tuple[float, float, float] = (0.45, 0.05, 0.03)  # promise, opt-out, dispute on contact
    zone: ZoneInfo = field(init=False)

    def __post_init__(self) -> None:
        self.zone = ZoneInfo(self.timezone)

    def answer_rate(self, local: datetime) -> float:
        """Chance of picking up at this local time."""
        weekday, weekend, _ = ROUTINES[self.routine]
        table = weekend if local.weekday() >= 5 else weekday
        return min(0.95, table[(local.hour - self.shift) % 24] * self.scale)

    def answer(self, at_utc: datetime, rng: random.Random) -> Result:
        """What happens when this customer is called at `at_utc`."""
        local = at_utc.astimezone(self.zone)
        if self.dead:
            return Result.not_in_service
        if rng.random() < 0.01:
            return Result.failed
        if self.phone_off_at_night and (local.hour < 9 or local.hour >= 21):
            return Result.carrier
        if rng.random() < self.answer_rate(local):
            if rng.random() < 0.07:
                return Result.busy
            if self.reassigned:
                return Result.wrong_party
            roll = rng.random()
            promise, opt_out, dispute = self.outcomes
            if roll < promise:
                return Result.promise
            if roll < promise + opt_out:
                return Result.opt_out
            if roll < promise + opt_out + dispute:
                return Result.dispute
            return Result.contact
        return Result.voicemail if self.voicemail else Result.no_answer


def make_population(n: int, rng: random.Random) -> list[SimCustomer]:
    """`n` customers, half US and half CN (5 % of them living abroad)."""
    names = list(ROUTINES)
    shares = [ROUTINES[r][2] for r in names]
    out: list[SimCustomer] = []
    for i in range(n):
        juris = "US" if i % 2 == 0 else "CN"
        zones = US_ZONES if juris == "US" else CN_ZONES
        tz = rng.choice(ABROAD) if rng.random() < 0.05 else rng.choice(zones)
        out.append(
            SimCustomer(
                idx=i,
                jurisdiction=juris,
                timezone=tz,
                routine=rng.choices(names, shares)[0],
                scale=rng.uniform(0.6, 1.3),
                shift=rng.choice((-1, 0, 0, 0, 1)),
                voicemail=rng.random() < (0.6 if juris == "US" else 0.15),
                phone_off_at_night=rng.random() < 0.2,
                dead=rng.random() < 0.02,
                reassigned=rng.random() < 0.04,
                suppressed_before=rng.random() < 0.02,
            )
        )
    return out


CALL_SECONDS: dict[Result, tuple[float, float]] = {
    Result.no_answer: (25.0, 35.0),
    Result.busy: (2.0, 5.0),
    Result.failed: (1.0, 3.0),
    Result.voicemail: (25.0, 40.0),
    Result.carrier: (6.0, 12.0),
    Result.not_in_service: (6.0, 12.0),
    Result.wrong_party: (20.0, 40.0),
    Result.contact: (60.0, 150.0),
    Result.promise: (90.0, 180.0),
    Result.opt_out: (15.0, 40.0),
    Result.dispute: (60.0, 150.0),
}
