"""en-US slot parsers: spoken dates and callback times, resolved against a passed-in `today`."""

from __future__ import annotations

import calendar
import datetime as dt
import re

__all__ = ["has_date_expression", "parse_date", "parse_time"]

_UNITS = "one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_ORD_UNITS = "first second third fourth fifth sixth seventh eighth ninth".split()
_ORD_TEENS = (
    "tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"
).split()


def _number_words() -> tuple[dict[str, int], dict[str, int]]:
    """Cardinal and ordinal words for 1..31 ('twenty one', 'thirty first')."""
    cardinal: dict[str, int] = {}
    ordinal: dict[str, int] = {}
    for i, word in enumerate(_UNITS, 1):
        cardinal[word], ordinal[_ORD_UNITS[i - 1]] = i, i
    for i, word in enumerate(_TEENS, 10):
        cardinal[word], ordinal[_ORD_TEENS[i - 10]] = i, i
    cardinal["twenty"], ordinal["twentieth"] = 20, 20
    cardinal["thirty"], ordinal["thirtieth"] = 30, 30
    for tens, name in ((20, "twenty"), (30, "thirty")):
        for i in range(1, 10 if tens == 20 else 2):
            cardinal[f"{name} {_UNITS[i - 1]}"] = tens + i
            ordinal[f"{name} {_ORD_UNITS[i - 1]}"] = tens + i
    return cardinal, ordinal


_CARDINAL, _ORDINAL = _number_words()
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_WEEKDAYS.update({"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4})


def _ALT(words: object) -> str:  # noqa: N802 - reads like a regex macro
    """Regex alternation of words, longest first so 'twenty first' beats 'twenty'."""
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))  # type: ignore[call-overload]


_DAY = rf"(?:(?P<dnum>[0-3]?\d)(?:st|nd|rd|th)?|(?P<dword>{_ALT(list(_ORDINAL) + list(_CARDINAL))}))"
_NTH = rf"(?:(?P<dnum>[0-3]?\d)(?:st|nd|rd|th)?|(?P<dword>{_ALT(_ORDINAL)}))"
_MONTH = rf"(?P<month>{_ALT(_MONTHS)})"
_AMOUNT = rf"(?P<n>\d+|a|an|one|a couple of|a few|{_ALT(_CARDINAL)})"

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rf"\b{pattern}\b"))
    for name, pattern in (
        ("after_tomorrow", r"day after tomorrow"),
        ("tomorrow", r"tomorrow|tmrw"),
        ("end_month", r"end of (?P<which>the|this|next) month|(?P<which2>month) end"),
        ("end_week", r"end of (?:the|this) week"),
        ("month_day", rf"{_MONTH} (?:the )?{_DAY}"),
        ("day_of_month", rf"(?:the )?{_DAY} of {_MONTH}"),
        ("numeric", r"(?P<m>1[0-2]|0?[1-9])/(?P<d>[0-3]?\d)"),
        ("in_period", rf"(?:in|within) {_AMOUNT} (?P<unit>days?|weeks?|months?)"),
        ("from_now", rf"{_AMOUNT} (?P<unit>days?|weeks?|months?) from (?:now|today)"),
        ("next_week", r"next week"),
        ("weekend", r"(?:this )?weekend"),
        ("weekday", rf"(?P<rel>next |this |coming |on )?(?P<wd>{_ALT(_WEEKDAYS)})"),
        ("nth", rf"(?:on |by )?the {_NTH}"),
        ("nth", r"(?P<dnum>[0-3]?\d)(?:st|nd|rd|th)(?P<dword>)"),
        ("today", r"today|tonight|this (?:morning|afternoon|evening)|right now|later today"),
    )
)


def _clean(text: str) -> str:
    """Lowercase, hyphens to spaces, drop punctuation other than '/' and ':'."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^\w\s/:]", " ", text)
    return " ".join(text.split())


def _amount(word: str) -> int:
    """'a' -> 1, 'a couple of' -> 2, 'three' -> 3, '10' -> 10."""
    if word.isdigit():
        return int(word)
    return {"a": 1, "an": 1, "a couple of": 2, "a few": 3}.get(word) or _CARDINAL.get(word, 1)


def _day_of(match: re.Match[str]) -> int | None:
    """The day-of-month a match names, if it is 1..31."""
    number = match.group("dnum")
    day = int(number) if number else _ORDINAL.get(match.group("dword")) or _CARDINAL.get(match.group("dword"))
    return day if day and 1 <= day <= 31 else None


def _add_months(day: dt.date, months: int, *, last: bool = False) -> dt.date:
    """Same day `months` later, clamped to the month's length (or its last day)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    length = calendar.monthrange(year, month)[1]
    return dt.date(year, month, length if last else min(day.day, length))


def _month_day(today: dt.date, month: int, day: int) -> dt.date | None:
    """That month and day this year, or next year when already past."""
    for year in (today.year, today.year + 1):
        if day <= calendar.monthrange(year, month)[1]:
            candidate = dt.date(year, month, day)
            if candidate >= today:
                return candidate
    return None


def _resolve(name: str, m: re.Match[str], today: dt.date) -> dt.date | None:
    """Turn one matched rule into a date."""
    if name == "after_tomorrow":
        return today + dt.timedelta(days=2)
    if name == "tomorrow":
        return today + dt.timedelta(days=1)
    if name == "today":
        return today
    if name == "end_month":
        return _add_months(today, 1 if m.group("which") == "next" else 0, last=True)
    if name == "end_week":
        return today + dt.timedelta(days=(4 - today.weekday()) % 7)
    if name in ("month_day", "day_of_month"):
        day = _day_of(m)
        return _month_day(today, _MONTHS[m.group("month")], day) if day else None
    if name == "numeric":
        day, month = int(m.group("d")), int(m.group("m"))
        return _month_day(today, month, day) if 1 <= day <= 31 else None
    if name in ("in_period", "from_now"):
        n, unit = _amount(m.group("n")), m.group("unit")
        if unit.startswith("month"):
            return _add_months(today, n)
        return today + dt.timedelta(days=n * (7 if unit.startswith("week") else 1))
    if name == "next_week":
        return today + dt.timedelta(days=7 - today.weekday())
    if name == "weekend":
        return today + dt.timedelta(days=(5 - today.weekday()) % 7)
    if name == "weekday":
        return _weekday(today, _WEEKDAYS[m.group("wd")], (m.group("rel") or "").strip())
    if name == "nth":
        day = _day_of(m)
        if not day:
            return None
        base = today if day >= today.day else _add_months(today.replace(day=1), 1)
        length = calendar.monthrange(base.year, base.month)[1]
        return dt.date(base.year, base.month, min(day, length))
    return None


def _weekday(today: dt.date, weekday: int, rel: str) -> dt.date:
    """'Friday' is the next Friday after today ('this Friday' may be today); 'next Friday' is
    the Friday of next week when the coming one is still in this week."""
    ahead = (weekday - today.weekday()) % 7
    if rel == "this" and ahead == 0:
        return today
    ahead = ahead or 7
    if rel == "next" and today.weekday() + ahead <= 6:
        ahead += 7
    return today + dt.timedelta(days=ahead)


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """The date a customer names ('next Friday', 'the fifteenth', 'in two weeks'), or None."""
    cleaned = _clean(text)
    for name, pattern in _RULES:
        match = pattern.search(cleaned)
        if match:
            return _resolve(name, match, today)
    return None


def has_date_expression(text: str) -> bool:
    """Whether the text names a date at all (no `today` needed), for end-of-turn decisions."""
    cleaned = _clean(text)
    return any(pattern.search(cleaned) for _, pattern in _RULES)


_HOUR = rf"(?P<h>1[0-2]|0?[1-9]|{_ALT(_UNITS + ['ten', 'eleven', 'twelve'])})"
_CLOCK = re.compile(
    rf"\b(?:at |around |about |after |before )?{_HOUR}(?::(?P<min>[0-5]\d))?"
    r"(?: ?(?P<ampm>a ?m|p ?m|o ?clock|in the morning|in the afternoon|in the evening))?\b"
)
_PARTS = (
    ("noon", 12),
    ("lunch", 12),
    ("morning", 9),
    ("afternoon", 14),
    ("evening", 18),
    ("tonight", 19),
    ("night", 19),
)


def _clock(cleaned: str) -> tuple[int, int] | None:
    """Hour and minute of 'at 3 pm', 'at 3:30', 'three o'clock'; a bare '3' needs 'at'."""
    for match in _CLOCK.finditer(cleaned):
        hour_text, ampm = match.group("h"), (match.group("ampm") or "").replace(" ", "")
        if (
            not ampm
            and not match.group("min")
            and not match.group(0).startswith(("at ", "around ", "about "))
        ):
            continue
        hour = (
            int(hour_text)
            if hour_text.isdigit()
            else (_UNITS + ["ten", "eleven", "twelve"]).index(hour_text) + 1
        )
        minute = int(match.group("min") or 0)
        if ampm in ("pm", "intheafternoon", "intheevening") and hour < 12:
            hour += 12
        elif ampm in ("am", "inthemorning") and hour == 12:
            hour = 0
        elif ampm in ("", "oclock") and 1 <= hour <= 7:
            hour += 12
        return hour, minute
    return None


def parse_time(text: str, today: dt.date | None = None) -> str | None:
    """A callback time: 'HH:MM', or 'YYYY-MM-DDTHH:MM' when a day is named (and `today` given)."""
    cleaned = _clean(text)
    clock = _clock(cleaned)
    if clock is None:
        clock = next(((h, 0) for word, h in _PARTS if re.search(rf"\b{word}\b", cleaned)), None)
    if clock is None:
        return None
    day = parse_date(cleaned, today) if today is not None else None
    hhmm = f"{clock[0]:02d}:{clock[1]:02d}"
    return f"{day.isoformat()}T{hhmm}" if day is not None else hhmm
