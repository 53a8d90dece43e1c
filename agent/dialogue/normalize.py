"""Speech normalisation of slot values per locale (SPEC 5.4), so TTS reads amounts, dates and phones right."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from agent.text.numbers import MONTHS_EN, ONES_EN, ZH_DIGITS, cardinal_en, cardinal_zh, ordinal_en, year_en

__all__ = [
    "MONTHS_EN",
    "ZH_DIGITS",
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
            out += f"{ZH_DIGITS[jiao]}角"
        elif fen and whole:
            out += "零"
        if fen:
            out += f"{ZH_DIGITS[fen]}分"
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
    text = f"{MONTHS_EN[day.month - 1]} {ordinal_en(day.day)}"
    return f"{text}, {year_en(day.year)}" if with_year else text


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
            words = "".join("幺" if d == "1" else ZH_DIGITS[int(d)] for d in digits)
            spoken.append(("加" if plus else "") + words)
        else:
            words = " ".join(ONES_EN[int(d)] for d in digits)
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
