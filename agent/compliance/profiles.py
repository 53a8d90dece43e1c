"""Jurisdiction profiles (CN, US) as data: calling windows and frequency caps (SPEC 7.1).

Config may tighten a profile, never loosen it: `tighten` keeps the stricter of each number.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import time
from typing import Literal

Purpose = Literal["servicing", "marketing"]
PURPOSES: tuple[Purpose, ...] = ("servicing", "marketing")


@dataclass(frozen=True, slots=True)
class Window:
    """Permitted local calling hours, start inclusive and end exclusive (08:00 ok, 21:00 not)."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        """True when a local wall-clock time lies inside the window."""
        return self.start <= local.replace(tzinfo=None) < self.end


@dataclass(frozen=True, slots=True)
class Rules:
    """Window and caps for one purpose; a cap of None means the profile sets none."""

    window: Window
    daily_cap: int | None  # attempts per local day per debt per contact method
    seven_day_cap: int | None  # attempts in 7 consecutive local days per debt
    quiet_days_after_conversation: int | None  # no call for N local days from a conversation's day
    needs_consent: bool  # a consent record is required (marketing)


@dataclass(frozen=True, slots=True)
class Profile:
    """A jurisdiction's rules per purpose."""

    code: str
    servicing: Rules
    marketing: Rules

    def rules(self, purpose: Purpose) -> Rules:
        """The rules for one purpose."""
        return self.servicing if purpose == "servicing" else self.marketing


def _w(start: str, end: str) -> Window:
    return Window(time.fromisoformat(start), time.fromisoformat(end))


CN = Profile(
    code="CN",
    # Collection-type servicing 08:00-22:00; at most 6 attempts a day per contact method per debt.
    servicing=Rules(
        _w("08:00", "22:00"),
        daily_cap=6,
        seven_day_cap=None,
        quiet_days_after_conversation=None,
        needs_consent=False,
    ),
    # Marketing 08:00-21:00, consent required; the servicing daily cap applies too (never looser).
    marketing=Rules(
        _w("08:00", "21:00"),
        daily_cap=6,
        seven_day_cap=None,
        quiet_days_after_conversation=None,
        needs_consent=True,
    ),
)

US = Profile(
    code="US",
    # Reg F: at most 7 calls in 7 consecutive days per debt, none within 7 days after a conversation.
    servicing=Rules(
        _w("08:00", "21:00"),
        daily_cap=None,
        seven_day_cap=7,
        quiet_days_after_conversation=7,
        needs_consent=False,
    ),
    # Marketing: consent required; the 7-in-7 cap is applied as well (conservative).
    marketing=Rules(
        _w("08:00", "21:00"),
        daily_cap=None,
        seven_day_cap=7,
        quiet_days_after_conversation=None,
        needs_consent=True,
    ),
)

PROFILES: dict[str, Profile] = {"CN": CN, "US": US}


def _stricter(base: int | None, override: int | None) -> int | None:
    if override is None:
        return base
    if base is None:
        return max(override, 0)
    return max(min(base, override), 0)


def _tighten_rules(
    rules: Rules,
    daily_cap: int | None,
    seven_day_cap: int | None,
    quiet_days: int | None,
    window: Window | None,
) -> Rules:
    new_window = rules.window
    if window is not None:
        new_window = Window(max(rules.window.start, window.start), min(rules.window.end, window.end))
    quiet = rules.quiet_days_after_conversation
    if quiet_days is not None:
        quiet = quiet_days if quiet is None else max(quiet, quiet_days)
    return replace(
        rules,
        window=new_window,
        daily_cap=_stricter(rules.daily_cap, daily_cap),
        seven_day_cap=_stricter(rules.seven_day_cap, seven_day_cap),
        quiet_days_after_conversation=quiet,
    )


def tighten(
    profile: Profile,
    *,
    daily_cap: int | None = None,
    seven_day_cap: int | None = None,
    quiet_days: int | None = None,
    window: Window | None = None,
    marketing_daily_cap: int | None = None,
) -> Profile:
    """Apply config overrides that can only make the profile stricter (smaller caps, narrower windows)."""
    servicing = _tighten_rules(profile.servicing, daily_cap, seven_day_cap, quiet_days, window)
    marketing = _tighten_rules(
        profile.marketing, _stricter(daily_cap, marketing_daily_cap), seven_day_cap, None, window
    )
    return replace(profile, servicing=servicing, marketing=marketing)


def get_profile(code: str) -> Profile | None:
    """Look up a jurisdiction profile by code ('CN', 'US'); None when unknown."""
    return PROFILES.get(code.upper())
