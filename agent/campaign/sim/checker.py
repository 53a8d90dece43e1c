"""An independent violation checker for placed attempts: its own reading of the CN and US rules.

Written apart from agent.compliance (no import of the gate or the profiles): its own
constants and its own arithmetic, re-derived from the raw records of every dialled attempt.

- Window, in the customer's local time: CN servicing 08:00-22:00 (marketing 08:00-21:00),
  US 08:00-21:00 (start allowed, end not).
- CN: at most 6 attempts per local day per contact method per debt.
- US Reg F: at most 7 attempts in any 7 consecutive local days per debt, and no attempt on
  the local day of a conversation (after it) or the 6 local days that follow.
- Suppression: nothing after the number was suppressed (before the campaign, or by an
  opt-out on an earlier call).
- Caller ID: always one of the lender's registered numbers, and always the same one for a
  customer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

WINDOW_MINUTES = {
    ("CN", "servicing"): (8 * 60, 22 * 60),
    ("CN", "marketing"): (8 * 60, 21 * 60),
    ("US", "servicing"): (8 * 60, 21 * 60),
    ("US", "marketing"): (8 * 60, 21 * 60),
}
CN_PER_DAY = 6
US_PER_WEEK = 7
US_QUIET_DAYS = 7


@dataclass(frozen=True, slots=True)
class Dialled:
    """One attempt that reached the network, as the dialer logged it."""

    member: int
    at: datetime
    caller_id: str
    conversation: bool
    debt: str
    method: str = "voice"
    purpose: str = "servicing"


@dataclass(frozen=True, slots=True)
class Person:
    """What the checker knows of a customer."""

    jurisdiction: str
    timezone: str
    suppressed_at: datetime | None  # first moment the number was suppressed, if ever


def _local(at: datetime, tz: str) -> datetime:
    return datetime.fromtimestamp(at.timestamp(), ZoneInfo(tz))


def check(
    people: Mapping[int, Person], dialled: Iterable[Dialled], registered: frozenset[str]
) -> list[str]:
    """Every violation found (empty = clean), one line each."""
    bad: list[str] = []
    by_member: dict[int, list[Dialled]] = defaultdict(list)
    for d in dialled:
        by_member[d.member].append(d)
    for member, calls in by_member.items():
        person = people[member]
        calls.sort(key=lambda d: d.at)
        local = [(_local(d.at, person.timezone), d) for d in calls]
        shown = {d.caller_id for d in calls}
        if len(shown) > 1:
            bad.append(f"member {member}: called from {len(shown)} different numbers {sorted(shown)}")
        for i, (loc, d) in enumerate(local):
            label = f"member {member} at {d.at.isoformat()} ({loc:%a %H:%M} local)"
            if d.caller_id not in registered:
                bad.append(f"{label}: caller ID {d.caller_id} is not registered")
            if person.suppressed_at is not None and d.at >= person.suppressed_at:
                bad.append(f"{label}: the number was suppressed at {person.suppressed_at.isoformat()}")
            lo, hi = WINDOW_MINUTES[(person.jurisdiction, d.purpose)]
            minute = loc.hour * 60 + loc.minute
            if not lo <= minute < hi:
                bad.append(f"{label}: outside the {lo // 60:02d}:00-{hi // 60:02d}:00 window")
            earlier = [(el, e) for el, e in local[:i] if e.debt == d.debt and e.purpose == d.purpose]
            day = loc.date()
            if person.jurisdiction == "CN":
                same = sum(1 for el, e in earlier if el.date() == day and e.method == d.method)
                if same + 1 > CN_PER_DAY:
                    bad.append(f"{label}: attempt {same + 1} on {day} (CN allows {CN_PER_DAY})")
            else:
                week = sum(1 for el, _e in earlier if 0 <= (day - el.date()).days < 7)
                if week + 1 > US_PER_WEEK:
                    bad.append(f"{label}: attempt {week + 1} in 7 days (Reg F allows {US_PER_WEEK})")
                for el, e in earlier:
                    quiet = 0 <= (day - el.date()).days < US_QUIET_DAYS
                    if d.purpose == "servicing" and e.conversation and quiet:
                        bad.append(f"{label}: within 7 days of a conversation on {el.date()}")
                        break
    return bad
