"""Speech normalisation per locale (SPEC 5.4): amounts, dates, phone numbers, number words."""

from __future__ import annotations

import datetime as dt

import pytest

from agent.dialogue.normalize import (
    NormalizeError,
    cardinal_en,
    cardinal_zh,
    normalize_date,
    normalize_money,
    normalize_phone,
    normalize_value,
    ordinal_en,
)


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (1, "one"),
        (7, "seven"),
        (10, "ten"),
        (13, "thirteen"),
        (20, "twenty"),
        (21, "twenty-one"),
        (45, "forty-five"),
        (99, "ninety-nine"),
        (100, "one hundred"),
        (101, "one hundred one"),
        (110, "one hundred ten"),
        (999, "nine hundred ninety-nine"),
        (1000, "one thousand"),
        (1001, "one thousand one"),
        (1234, "one thousand two hundred thirty-four"),
        (20000, "twenty thousand"),
        (100000, "one hundred thousand"),
        (1000000, "one million"),
        (1234567, "one million two hundred thirty-four thousand five hundred sixty-seven"),
        (2000000001, "two billion one"),
    ],
)
def test_cardinal_en(n: int, words: str) -> None:
    assert cardinal_en(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (4, "fourth"),
        (5, "fifth"),
        (8, "eighth"),
        (9, "ninth"),
        (11, "eleventh"),
        (12, "twelfth"),
        (20, "twentieth"),
        (21, "twenty-first"),
        (22, "twenty-second"),
        (23, "twenty-third"),
        (30, "thirtieth"),
        (31, "thirty-first"),
        (100, "one hundredth"),
    ],
)
def test_ordinal_en(n: int, words: str) -> None:
    assert ordinal_en(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "零"),
        (1, "一"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (110, "一百一十"),
        (1004, "一千零四"),
        (1234, "一千二百三十四"),
        (10010, "一万零一十"),
        (20300, "二万零三百"),
        (100000, "十万"),
        (100001, "十万零一"),
        (101000, "十万一千"),
        (100000000, "一亿"),
        (100010000, "一亿零一万"),
    ],
)
def test_cardinal_zh(n: int, words: str) -> None:
    assert cardinal_zh(n) == words


@pytest.mark.parametrize(
    ("value", "en", "zh"),
    [
        ("$1,234.50", "one thousand two hundred thirty-four dollars and fifty cents", "一千二百三十四元五角"),
        ("¥1,234.50", "one thousand two hundred thirty-four dollars and fifty cents", "一千二百三十四元五角"),
        (
            "1234.56",
            "one thousand two hundred thirty-four dollars and fifty-six cents",
            "一千二百三十四元五角六分",
        ),
        ("$1.00", "one dollar", "一元"),
        ("$1", "one dollar", "一元"),
        ("$2", "two dollars", "二元"),
        ("$0.50", "fifty cents", "五角"),
        ("$0.01", "one cent", "一分"),
        ("$0", "zero dollars", "零元"),
        ("$1,000", "one thousand dollars", "一千元"),
        ("1204.05", "one thousand two hundred four dollars and five cents", "一千二百零四元零五分"),
        ("$12.345", "twelve dollars and thirty-five cents", "十二元三角五分"),
        (" $ 300.00 ", "three hundred dollars", "三百元"),
    ],
)
def test_money(value: str, en: str, zh: str) -> None:
    assert normalize_money(value, "en-US") == en
    assert normalize_money(value, "zh-CN") == zh


@pytest.mark.parametrize("bad", ["", "abc", "$", "12.3.4", "-$5", "-5", "$1,2a"])
def test_money_rejects_garbage(bad: str) -> None:
    with pytest.raises(NormalizeError):
        normalize_money(bad, "en-US")


@pytest.mark.parametrize(
    ("value", "today", "en", "zh"),
    [
        ("2025-03-05", dt.date(2025, 1, 1), "March fifth", "3月5日"),
        ("2025-12-31", dt.date(2025, 1, 1), "December thirty-first", "12月31日"),
        ("2025-01-01", None, "January first", "1月1日"),
        ("2026-03-21", dt.date(2025, 12, 30), "March twenty-first, twenty twenty-six", "2026年3月21日"),
        ("2005-07-04", dt.date(2025, 1, 1), "July fourth, two thousand five", "2005年7月4日"),
        ("2025-03-05T10:00:00", dt.date(2025, 3, 1), "March fifth", "3月5日"),
    ],
)
def test_date(value: str, today: dt.date | None, en: str, zh: str) -> None:
    assert normalize_date(value, "en-US", today) == en
    assert normalize_date(value, "zh-CN", today) == zh


@pytest.mark.parametrize("bad", ["", "March 5", "2025-13-01", "2025-02-30", "05/03/2025"])
def test_date_rejects_non_iso(bad: str) -> None:
    with pytest.raises(NormalizeError):
        normalize_date(bad, "en-US")


@pytest.mark.parametrize(
    ("value", "en", "zh"),
    [
        ("800-555-0123", "eight zero zero, five five five, zero one two three", "八零零，五五五，零幺二三"),
        (
            "+1 (800) 555-0123",
            "plus one, eight zero zero, five five five, zero one two three",
            "加幺，八零零，五五五，零幺二三",
        ),
        ("400-123-4567", "four zero zero, one two three, four five six seven", "四零零，幺二三，四五六七"),
        ("95555", "nine five five five five", "九五五五五"),
        (
            "138 0013 8000",
            "one three eight, zero zero one three, eight zero zero zero",
            "幺三八，零零幺三，八零零零",
        ),
    ],
)
def test_phone(value: str, en: str, zh: str) -> None:
    assert normalize_phone(value, "en-US") == en
    assert normalize_phone(value, "zh-CN") == zh


@pytest.mark.parametrize("bad", ["", "call us", "555-CALL", "---"])
def test_phone_rejects_garbage(bad: str) -> None:
    with pytest.raises(NormalizeError):
        normalize_phone(bad, "en-US")


@pytest.mark.parametrize(
    ("value", "kind", "out"),
    [
        ("  Jane   Doe ", "name", "Jane Doe"),
        ("free text", "text", "free text"),
        ("$5", "money", "five dollars"),
        ("2025-03-05", "date", "March fifth"),
        ("911", "phone", "nine one one"),
    ],
)
def test_normalize_value_dispatches_on_type(value: str, kind: str, out: str) -> None:
    assert normalize_value(value, kind, "en-US") == out
