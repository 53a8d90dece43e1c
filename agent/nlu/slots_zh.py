"""zh-CN slot parsers: spoken dates ("周五", "下个月5号") and callback times ("明天下午三点").

Same interface as the en-US parsers in `agent.nlu.slots`; relative dates resolve against a
passed-in `today`. Numbers may be digits or Chinese numerals (十五, 二十一, 两).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

__all__ = ["has_date_expression", "parse_date", "parse_time", "zh_number"]

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "幺": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUM = r"[0-9]{1,2}|[零〇一二两三四五六七八九十廿]{1,3}"
_WEEKDAY = {
    "一": 0,
    "1": 0,
    "二": 1,
    "2": 1,
    "三": 2,
    "3": 2,
    "四": 3,
    "4": 3,
    "五": 4,
    "5": 4,
    "六": 5,
    "6": 5,
    "日": 6,
    "天": 6,
    "7": 6,
    "末": 5,
}


def zh_number(text: str) -> int | None:
    """'15' -> 15, '十五' -> 15, '二十' -> 20, '廿一' -> 21, '两' -> 2; None if not a number."""
    if text.isdigit():
        return int(text)
    text = text.replace("廿", "二十")
    if not text or any(c not in _DIGITS and c != "十" for c in text):
        return None
    if "十" in text:
        tens, _, units = text.partition("十")
        value = (_DIGITS.get(tens, 0) if tens else 1) * 10
        return value + (_DIGITS.get(units, 0) if units else 0)
    if len(text) == 1:
        return _DIGITS[text]
    return None


_WEEK = r"(?:周|星期|礼拜|禮拜)"
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        (
            "month_day",
            rf"(?P<rel>下个?月|下下个?月|这个?月|本月|(?P<m>{_NUM})月)(?:份)?(?P<d>{_NUM})(?:号|日)?",
        ),
        ("month_edge", r"(?P<rel>下个?月|这个?月|本月|月)(?P<edge>底|末|初)"),
        ("weekday", rf"(?P<rel>下下个?|下个?|这个?|本|这)?{_WEEK}(?P<wd>[一二三四五六日天末1-7])"),
        ("week_rel", rf"(?P<rel>下个?){_WEEK}"),
        ("weekend", r"(?:这个?|本)?周末"),
        ("after_days", rf"(?:过|再过)?(?P<n>{_NUM}|几|两)(?:天|日)(?:之?后|以后|之内|内)"),
        ("in_days", rf"过(?P<n>{_NUM}|几|两)天"),
        ("after_weeks", rf"(?P<n>{_NUM}|两)个?(?:周|星期|礼拜)(?:之?后|以后|之内|内)"),
        ("after_months", rf"(?P<n>{_NUM}|两)个月(?:之?后|以后)"),
        ("day", rf"(?<![0-9一二三四五六七八九十点:])(?P<d>{_NUM})(?:号|日)(?!元)"),
        ("relday", r"(?P<w>大后天|后天|明天|明儿|明早|明晚|今天|今晚|今儿|今日|当天|马上|现在就|立刻)"),
    )
)


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + year, month + 1, 1)


def _month_day(today: dt.date, month: int, day: int, *, roll: bool = True) -> dt.date | None:
    """That month and day this year (next year when past and `roll`)."""
    for year in (today.year, today.year + 1):
        if 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]:
            candidate = dt.date(year, month, day)
            if candidate >= today or not roll:
                return candidate
    return None


def _weekday(today: dt.date, weekday: int, rel: str) -> dt.date:
    """'周五' is the coming Friday; '下周五' is Friday of next week; '这周五' this week's."""
    monday = today - dt.timedelta(days=today.weekday())
    if rel.startswith("下下"):
        return monday + dt.timedelta(days=14 + weekday)
    if rel.startswith("下"):
        return monday + dt.timedelta(days=7 + weekday)
    if rel.startswith(("这", "本")):
        return monday + dt.timedelta(days=weekday)
    ahead = (weekday - today.weekday()) % 7
    return today + dt.timedelta(days=ahead or 7)


def _count(text: str) -> int:
    return 3 if text == "几" else zh_number(text) or 1


def _resolve(name: str, m: re.Match[str], today: dt.date) -> dt.date | None:
    """Turn one matched rule into a date."""
    if name == "month_day":
        day, rel = zh_number(m.group("d")), m.group("rel")
        if day is None:
            return None
        if m.group("m"):
            month = zh_number(m.group("m"))
            return _month_day(today, month, day) if month else None
        base = _add_months(today, 2 if rel.startswith("下下") else 1 if rel.startswith("下") else 0)
        return _month_day(base, base.month, day, roll=False)
    if name == "month_edge":
        base = _add_months(today, 1 if m.group("rel").startswith("下") else 0)
        if m.group("edge") == "初":
            return base if base >= today else today
        return base.replace(day=calendar.monthrange(base.year, base.month)[1])
    if name == "weekday":
        return _weekday(today, _WEEKDAY[m.group("wd")], m.group("rel") or "")
    if name == "week_rel":
        return _weekday(today, 0, "下")
    if name == "weekend":
        return _weekday(today, 5, "这" if today.weekday() <= 5 else "")
    if name in ("after_days", "in_days"):
        return today + dt.timedelta(days=_count(m.group("n")))
    if name == "after_weeks":
        return today + dt.timedelta(days=7 * _count(m.group("n")))
    if name == "after_months":
        later = _add_months(today, _count(m.group("n")))
        return later.replace(day=min(today.day, calendar.monthrange(later.year, later.month)[1]))
    if name == "day":
        day = zh_number(m.group("d"))
        if not day or not 1 <= day <= 31:
            return None
        base = today if day >= today.day else _add_months(today.replace(day=1), 1)
        return base.replace(day=min(day, calendar.monthrange(base.year, base.month)[1]))
    if name == "relday":
        word = m.group("w")
        offset = {"大后天": 3, "后天": 2, "明天": 1, "明儿": 1, "明早": 1, "明晚": 1}.get(word, 0)
        return today + dt.timedelta(days=offset)
    return None


def _clean(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("號", "号").replace("週", "周").replace("後", "后")


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """The date a customer names ('周五', '下个月5号', '月底', '过两天'), or None."""
    cleaned = _clean(text)
    for name, pattern in _RULES:
        match = pattern.search(cleaned)
        if match:
            return _resolve(name, match, today)
    return None


def has_date_expression(text: str) -> bool:
    """Whether the text names a date at all (no `today` needed)."""
    cleaned = _clean(text)
    return any(pattern.search(cleaned) for _, pattern in _RULES)


_CLOCK = re.compile(
    rf"(?P<part>凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|今晚|明晚)?(?P<h>{_NUM})[点點时](?:(?P<half>半)|(?P<min>{_NUM})分?)?"
)
_PARTS = (
    ("中午", 12),
    ("下午", 14),
    ("傍晚", 18),
    ("晚上", 19),
    ("今晚", 19),
    ("明晚", 19),
    ("早上", 9),
    ("上午", 10),
    ("明早", 9),
)


def parse_time(text: str, today: dt.date | None = None) -> str | None:
    """A callback time: 'HH:MM', or 'YYYY-MM-DDTHH:MM' when a day is named (and `today` given)."""
    cleaned = _clean(text)
    match = _CLOCK.search(cleaned)
    clock: tuple[int, int] | None = None
    if match:
        hour = zh_number(match.group("h"))
        minute = 30 if match.group("half") else zh_number(match.group("min") or "") or 0
        if hour is not None and 0 <= hour <= 24 and 0 <= minute < 60:
            part = match.group("part") or ""
            if part in ("下午", "傍晚", "晚上", "今晚", "明晚") and hour < 12:
                hour += 12
            elif part == "中午" and hour < 6:
                hour += 12
            elif not part and 1 <= hour <= 7:
                hour += 12
            clock = (hour % 24, minute)
    if clock is None:
        clock = next(((h, 0) for word, h in _PARTS if word in cleaned), None)
    if clock is None:
        return None
    day = parse_date(cleaned, today) if today is not None else None
    hhmm = f"{clock[0]:02d}:{clock[1]:02d}"
    return f"{day.isoformat()}T{hhmm}" if day is not None else hhmm
