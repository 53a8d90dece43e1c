"""Speech forms of slot values (digits, words, zh numerals), so the guard finds a value however rendered."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from agent.text.numbers import MONTHS_EN as _MONTHS
from agent.text.numbers import ZH_DIGITS, cardinal_en, cardinal_zh, ordinal_en

MONTHS_EN = [m.lower() for m in _MONTHS]  # lower-case: the guard compares normalised text
_ONES = [cardinal_en(n) for n in range(10)]


def digits_spoken(digits: str) -> set[str]:
    """A digit string read digit by digit, in English and Chinese (1 as 一 or 幺)."""
    en = " ".join(_ONES[int(d)] for d in digits)
    zh = "".join(ZH_DIGITS[int(d)] for d in digits)
    return {en, en.replace("zero", "oh"), zh, zh.replace("一", "幺")}


_AMOUNT = re.compile(
    r"^\s*(?:US\$|\$|¥|￥|RMB|CNY|USD)?\s*([\d,]*\.?\d+)\s*(?:元|dollars?|USD|CNY)?\s*$", re.I
)


def amount_forms(value: str) -> set[str]:
    """Written and spoken forms of a money amount ('1234.50' -> '1,234.50', '一千二百三十四元五角', ...)."""
    match = _AMOUNT.match(value)
    if not match:
        return set()
    try:
        amount = Decimal(match.group(1).replace(",", "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        return set()
    whole = int(amount)
    cents = int((amount - whole) * 100)
    forms = {
        f"{whole}",
        f"{whole:,}",
        cardinal_en(whole),
        cardinal_zh(whole) + "元",
        cardinal_zh(whole) + "块",
    }
    if whole >= 10000 and whole % 100 == 0:
        forms.add(f"{whole / 10000:g}万")
    if whole >= 1000 and whole % 100 == 0:
        forms.add(f"{whole / 1000:g}千")
    if cents:
        forms |= {f"{amount}", f"{whole:,}.{cents:02d}", f"{cardinal_en(whole)} dollars and"}
        forms.add(f"{whole}.{cents:02d}".rstrip("0"))
        forms.add(f"{cardinal_zh(whole)}点{''.join(ZH_DIGITS[int(d)] for d in f'{cents:02d}'.rstrip('0'))}")
    if whole == 0:
        forms -= {"0", "zero", "零元", "零块"}
    return {f for f in forms if f}


def date_forms(value: str) -> set[str]:
    """Written and spoken forms of an ISO date ('2025-03-15' -> 'march 15', '3月15日', '三月十五号', ...)."""
    try:
        day = date.fromisoformat(value.strip()[:10])
    except ValueError:
        return set()
    month = MONTHS_EN[day.month - 1]
    short = month[:3]
    m, d = day.month, day.day
    forms = {
        day.isoformat(),
        f"{m}/{d}",
        f"{m:02d}/{d:02d}",
        f"{m}/{d}/{day.year}",
        f"{m}-{d}",
        f"{d}/{m}/{day.year}",
    }
    for name in {month, short}:
        forms |= {
            f"{name} {d}",
            f"{name} {ordinal_en(d)}",
            f"{name} {cardinal_en(d)}",
            f"{d} {name}",
            f"{ordinal_en(d)} of {name}",
            f"{name} {d}{_suffix(d)}",
        }
    for mm in (str(m), cardinal_zh(m)):
        for dd in (str(d), cardinal_zh(d)):
            forms |= {f"{mm}月{dd}日", f"{mm}月{dd}号"}
    return forms


def _suffix(d: int) -> str:
    if 10 <= d % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")


def value_forms(value: str) -> set[str]:
    """Every form in which a slot value may appear in rendered text, lower-cased."""
    value = value.strip()
    forms = {value} if len(value) >= 2 else set()
    forms |= amount_forms(value) | date_forms(value)
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 3 and re.fullmatch(r"[\d\s\-().+]+", value):
        forms.add(digits)
        forms |= digits_spoken(digits)
    return {f.lower() for f in forms if f.strip()}
