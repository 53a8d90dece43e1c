"""The demo and bench customer's due date moves with the calendar: never a date already past."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.demo.runner import daytime_zone
from agent.demo.scenarios import DUE_IN_DAYS, demo_slots

DAYS = [date(2026, 12, 2), date(2026, 12, 30), date(2027, 2, 26), date(2028, 2, 27), date(2030, 6, 1)]


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
@pytest.mark.parametrize("today", DAYS)
def test_due_date_is_ahead_of_the_call(locale: str, today: date) -> None:
    slots = demo_slots(locale, today)
    due = date.fromisoformat(slots["due_date"])
    assert due == today + timedelta(days=DUE_IN_DAYS) and due > today
    assert demo_slots(locale, today + timedelta(days=400))["customer_name"] == slots["customer_name"]


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_some_demo_zone_is_in_daytime_at_every_hour(locale: str) -> None:
    for month, hour, minute in ((m, h, mi) for m in (1, 7) for h in range(24) for mi in (0, 30)):
        now = datetime(2026, month, 2, hour, minute, tzinfo=UTC)
        local = now.astimezone(ZoneInfo(daytime_zone(locale, now)))
        assert 9 <= local.hour < 20, (locale, now, local)
