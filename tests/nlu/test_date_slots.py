"""en-US date and callback-time parsing relative to a passed-in today."""

from __future__ import annotations

import datetime as dt

import pytest

from agent.nlu.slots import has_date_expression, parse_date, parse_time

WED = dt.date(2025, 3, 5)
SAT = dt.date(2025, 3, 8)
DEC = dt.date(2025, 12, 20)


@pytest.mark.parametrize(
    ("text", "today", "iso"),
    [
        ("Friday", WED, "2025-03-07"),
        ("friday.", WED, "2025-03-07"),
        ("this Friday", WED, "2025-03-07"),
        ("next Friday", WED, "2025-03-14"),
        ("next Friday", SAT, "2025-03-14"),
        ("Friday", SAT, "2025-03-14"),
        ("on Wednesday", WED, "2025-03-12"),
        ("this Wednesday", WED, "2025-03-05"),
        ("next wednesday", WED, "2025-03-12"),
        ("Monday", WED, "2025-03-10"),
        ("fri", WED, "2025-03-07"),
        ("the fifteenth", WED, "2025-03-15"),
        ("on the 5th", WED, "2025-03-05"),
        ("on the 3rd", WED, "2025-04-03"),
        ("the first", WED, "2025-04-01"),
        ("by the 31st", WED, "2025-03-31"),
        ("the 31st", dt.date(2025, 4, 2), "2025-04-30"),
        ("on the twenty first", WED, "2025-03-21"),
        ("20th", WED, "2025-03-20"),
        ("tomorrow", WED, "2025-03-06"),
        ("tmrw", WED, "2025-03-06"),
        ("day after tomorrow", WED, "2025-03-07"),
        ("today", WED, "2025-03-05"),
        ("later today", WED, "2025-03-05"),
        ("March 3rd", WED, "2026-03-03"),
        ("March 20th", WED, "2025-03-20"),
        ("march twentieth", WED, "2025-03-20"),
        ("march the third", WED, "2026-03-03"),
        ("April 1", WED, "2025-04-01"),
        ("the 3rd of April", WED, "2025-04-03"),
        ("January 5th", DEC, "2026-01-05"),
        ("Feb 28th", WED, "2026-02-28"),
        ("3/15", WED, "2025-03-15"),
        ("1/2", DEC, "2026-01-02"),
        ("in two weeks", WED, "2025-03-19"),
        ("in a week", WED, "2025-03-12"),
        ("in 10 days", WED, "2025-03-15"),
        ("in a couple of weeks", WED, "2025-03-19"),
        ("two weeks from now", WED, "2025-03-19"),
        ("in a month", dt.date(2025, 1, 31), "2025-02-28"),
        ("end of the month", WED, "2025-03-31"),
        ("end of this month", dt.date(2025, 2, 3), "2025-02-28"),
        ("end of next month", WED, "2025-04-30"),
        ("end of the month", DEC, "2025-12-31"),
        ("end of next month", DEC, "2026-01-31"),
        ("end of the week", WED, "2025-03-07"),
        ("next week", WED, "2025-03-10"),
        ("this weekend", WED, "2025-03-08"),
        ("I'll pay on the 20th", WED, "2025-03-20"),
        ("I get paid Friday", WED, "2025-03-07"),
    ],
)
def test_parse_date(text: str, today: dt.date, iso: str) -> None:
    found = parse_date(text, today)
    assert found is not None and found.isoformat() == iso


@pytest.mark.parametrize(
    "text",
    [
        "",
        "I can't pay",
        "hold on a second",
        "I sat down",
        "the one I paid",
        "yes",
        "call me later",
        "February 30th",
        "13/45",
        "Feb 29th",
    ],
)
def test_no_date(text: str) -> None:
    assert parse_date(text, WED) is None


@pytest.mark.parametrize(
    ("text", "has"),
    [
        ("next Friday", True),
        ("on the 5th", True),
        ("in two weeks", True),
        ("yes", False),
        ("I'll pay on", False),
        ("wait a second", False),
    ],
)
def test_has_date_expression(text: str, has: bool) -> None:
    assert has_date_expression(text) is has


@pytest.mark.parametrize(
    ("text", "today", "out"),
    [
        ("at 3 pm", WED, "15:00"),
        ("at 3", WED, "15:00"),
        ("around three", WED, "15:00"),
        ("at 10:30 am", WED, "10:30"),
        ("at 9 in the morning", WED, "09:00"),
        ("at 12 am", WED, "00:00"),
        ("at noon", WED, "12:00"),
        ("tomorrow morning", WED, "2025-03-06T09:00"),
        ("this afternoon", WED, "2025-03-05T14:00"),
        ("friday at 2", WED, "2025-03-07T14:00"),
        ("tomorrow at 11 am", WED, "2025-03-06T11:00"),
        ("this evening", None, "18:00"),
        ("tonight", WED, "2025-03-05T19:00"),
        ("five o'clock", WED, "17:00"),
        ("call me later", WED, None),
        ("in an hour", WED, None),
        ("I have 3 kids", WED, None),
    ],
)
def test_parse_time(text: str, today: dt.date | None, out: str | None) -> None:
    assert parse_time(text, today) == out
