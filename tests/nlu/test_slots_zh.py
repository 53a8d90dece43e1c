"""zh-CN date and time slots, resolved against a fixed Wednesday."""

from __future__ import annotations

import datetime as dt

import pytest

from agent.nlu.slots_zh import has_date_expression, parse_date, parse_time, zh_number

TODAY = dt.date(2025, 3, 5)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("周五", "2025-03-07"),
        ("星期五", "2025-03-07"),
        ("礼拜五吧", "2025-03-07"),
        ("下周五", "2025-03-14"),
        ("下个月5号", "2025-04-05"),
        ("下个月五号", "2025-04-05"),
        ("15号", "2025-03-15"),
        ("二十号一定还", "2025-03-20"),
        ("3号", "2025-04-03"),
        ("3月20日", "2025-03-20"),
        ("月底", "2025-03-31"),
        ("下个月初", "2025-04-01"),
        ("明天", "2025-03-06"),
        ("后天", "2025-03-07"),
        ("过两天", "2025-03-07"),
        ("三天之内", "2025-03-08"),
        ("一周后", "2025-03-12"),
        ("这个周末", "2025-03-08"),
        ("下周", "2025-03-10"),
        ("周五還", "2025-03-07"),
    ],
)
def test_dates(text: str, expected: str) -> None:
    assert has_date_expression(text)
    day = parse_date(text, TODAY)
    assert day is not None and day.isoformat() == expected


@pytest.mark.parametrize("text", ["不要再打了", "我没钱", "你好", "我要投诉"])
def test_no_date(text: str) -> None:
    assert not has_date_expression(text)
    assert parse_date(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天下午三点", "2025-03-06T15:00"),
        ("晚上八点", "20:00"),
        ("下午两点半", "14:30"),
        ("明天上午", "2025-03-06T10:00"),
        ("10点", "10:00"),
    ],
)
def test_times(text: str, expected: str) -> None:
    assert parse_time(text, TODAY) == expected


def test_numbers() -> None:
    assert [zh_number(t) for t in ("15", "十五", "二十", "二十一", "廿一", "两", "十")] == [
        15,
        15,
        20,
        21,
        21,
        2,
        10,
    ]
    assert zh_number("号") is None
