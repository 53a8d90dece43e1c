"""Speech normalisation of slot values per locale (SPEC 5.4), so TTS reads amounts, dates and phones right."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "NormalizeError",
    "cardinal_en",
    "cardinal_zh",
    "normalize_date",
    "normalize_money",
    "normalize_phone",
    "normalize_value",
    "ordinal_en",
]


class NormalizeError(ValueError):
    """A slot value cannot be read aloud as its declared type (e.g. a malformed amount)."""


_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_MONTHS_EN = ("January February March April May June July August September October November December").split()
MONTHS_EN = tuple(_MONTHS_EN)


def _below_thousand_en(n: int) -> str:
    """Words for 0 < n < 1000, US style (no 'and')."""
    parts: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        parts.append(f"{_ONES[hundreds]} hundred")
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        parts.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    elif rest:
        parts.append(_ONES[rest])
    return " ".join(parts)


def cardinal_en(n: int) -> str:
    """English words for a non-negative integer: 1234 -> 'one thousand two hundred thirty-four'."""
    if n < 0:
        return "minus " + cardinal_en(-n)
    if n == 0:
        return "zero"
    parts: list[str] = []
    for value, name in _SCALES:
        if n >= value:
            count, n = divmod(n, value)
            parts.append(f"{cardinal_en(count)} {name}")
    if n:
        parts.append(_below_thousand_en(n))
    return " ".join(parts)


def ordinal_en(n: int) -> str:
    """English ordinal words: 5 -> 'fifth', 21 -> 'twenty-first'."""
    words = cardinal_en(n)
    head, sep, last = words.rpartition("-") if "-" in words.split(" ")[-1] else words.rpartition(" ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head}{sep}{last}"


def _year_en(year: int) -> str:
    """How a year is spoken: 2026 -> 'twenty twenty-six', 2005 -> 'two thousand five'."""
    century, rest = divmod(year, 100)
    if year % 1000 < 10 or not 1100 <= year <= 9999:
        return cardinal_en(year)
    if rest == 0:
        return f"{cardinal_en(century)} hundred"
    if rest < 10:
        return f"{cardinal_en(century)} oh {cardinal_en(rest)}"
    return f"{cardinal_en(century)} {cardinal_en(rest)}"


_ZH_DIGITS = "零一二三四五六七八九"
ZH_DIGITS = _ZH_DIGITS  # public: the guard reads values the way speech says them
_ZH_UNITS = ("", "十", "百", "千")
_ZH_SECTIONS = ("", "万", "亿", "万亿")


def _section_zh(n: int) -> str:
    """Chinese reading of 0 < n < 10000, with 零 for inner gaps."""
    out: list[str] = []
    zero_pending = False
    for pos in range(3, -1, -1):
        digit = (n // 10**pos) % 10
        if digit == 0:
            if out:
                zero_pending = True
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(_ZH_DIGITS[digit] + _ZH_UNITS[pos])
    return "".join(out)


def cardinal_zh(n: int) -> str:
    """Chinese reading of a non-negative integer: 1234 -> 一千二百三十四, 10010 -> 一万零一十."""
    if n < 0:
        return "负" + cardinal_zh(-n)
    if n == 0:
        return "零"
    sections: list[int] = []
    while n:
        n, section = divmod(n, 10000)
        sections.append(section)
    out = ""
    need_zero = False
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or section < 1000):
            out += "零"
        out += _section_zh(section) + _ZH_SECTIONS[index]
        need_zero = False
    if out.startswith("一十"):
        out = out[1:]
    return out


_AMOUNT_RE = re.compile(
    r"^\s*(?:US\$|\$|¥|￥|RMB|CNY|USD)?\s*(-?[\d,]*\.?\d*)\s*(?:元|dollars?|USD|CNY)?\s*$", re.I
)


def _parse_amount(value: str) -> Decimal:
    """'$1,234.50' -> Decimal('1234.50'), rounded to cents."""
    match = _AMOUNT_RE.match(value)
    digits = match.group(1).replace(",", "") if match else ""
    if not digits or digits in {".", "-"}:
        raise NormalizeError(f"not an amount of money: {value!r} (write it like $1,234.50)")
    try:
        amount = Decimal(digits)
    except InvalidOperation as exc:
        raise NormalizeError(f"not an amount of money: {value!r} (write it like $1,234.50)") from exc
    if amount < 0:
        raise NormalizeError(f"a negative amount cannot be read out: {value!r}")
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def normalize_money(value: str, locale: str) -> str:
    """Amount to words: '$1,234.50' -> 'one thousand two hundred thirty-four dollars and fifty cents'."""
    amount = _parse_amount(value)
    whole = int(amount)
    cents = int((amount - whole) * 100)
    if locale == "zh-CN":
        if whole == 0 and cents == 0:
            return "零元"
        jiao, fen = divmod(cents, 10)
        out = f"{cardinal_zh(whole)}元" if whole else ""
        if jiao:
            out += f"{_ZH_DIGITS[jiao]}角"
        elif fen and whole:
            out += "零"
        if fen:
            out += f"{_ZH_DIGITS[fen]}分"
        return out
    dollars = f"{cardinal_en(whole)} dollar{'s' if whole != 1 else ''}"
    cent_words = f"{cardinal_en(cents)} cent{'s' if cents != 1 else ''}"
    if whole and cents:
        return f"{dollars} and {cent_words}"
    return cent_words if cents else dollars


def _parse_date(value: str) -> dt.date:
    """ISO 'YYYY-MM-DD' (a datetime's date part is accepted) -> date."""
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError as exc:
        raise NormalizeError(f"not an ISO date: {value!r} (write it like 2025-03-05)") from exc


def normalize_date(value: str, locale: str, today: dt.date | None = None) -> str:
    """ISO date to speech: 'March fifth' / '3月5日'; the year is added only when it is not today's year."""
    day = _parse_date(value)
    with_year = today is not None and day.year != today.year
    if locale == "zh-CN":
        return (f"{day.year}年" if with_year else "") + f"{day.month}月{day.day}日"
    text = f"{_MONTHS_EN[day.month - 1]} {ordinal_en(day.day)}"
    return f"{text}, {_year_en(day.year)}" if with_year else text


_PHONE_OK = re.compile(r"^\+?[\d\s().\-]+$")


def normalize_phone(value: str, locale: str) -> str:
    """Phone number read digit by digit, groups kept as pauses; zh-CN reads 1 as 幺."""
    if not _PHONE_OK.match(value) or not any(ch.isdigit() for ch in value):
        raise NormalizeError(f"not a phone number: {value!r} (digits, spaces, dashes only)")
    groups = [g for g in re.split(r"[\s().\-]+", value.strip()) if g]
    spoken: list[str] = []
    for group in groups:
        plus, digits = group.startswith("+"), group.lstrip("+")
        if locale == "zh-CN":
            words = "".join("幺" if d == "1" else _ZH_DIGITS[int(d)] for d in digits)
            spoken.append(("加" if plus else "") + words)
        else:
            words = " ".join(_ONES[int(d)] for d in digits)
            spoken.append(("plus " if plus else "") + words)
    return ("，" if locale == "zh-CN" else ", ").join(spoken)


def normalize_value(value: str, slot_type: str, locale: str, today: dt.date | None = None) -> str:
    """Normalise one slot value by its declared type; names and free text pass through trimmed."""
    if slot_type == "money":
        return normalize_money(value, locale)
    if slot_type == "date":
        return normalize_date(value, locale, today)
    if slot_type == "phone":
        return normalize_phone(value, locale)
    return " ".join(value.split())
