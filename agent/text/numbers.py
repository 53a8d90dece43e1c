"""Number words in English and Chinese: cardinals, ordinals, years, digits and month names."""

from __future__ import annotations

__all__ = ["MONTHS_EN", "ONES_EN", "ZH_DIGITS", "cardinal_en", "cardinal_zh", "ordinal_en", "year_en"]

ONES_EN: tuple[str, ...] = tuple(
    (
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen"
    ).split()
)
"""English words for 0..19 (ONES_EN[d] reads one digit)."""
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
MONTHS_EN: tuple[str, ...] = tuple(
    "January February March April May June July August September October November December".split()
)
ZH_DIGITS = "零一二三四五六七八九"
"""Chinese digits 0..9 (ZH_DIGITS[d]); phone numbers say 幺 for 1."""
_ZH_UNITS = ("", "十", "百", "千")
_ZH_SECTIONS = ("", "万", "亿", "万亿")


def _below_thousand_en(n: int) -> str:
    """Words for 0 < n < 1000, US style (no 'and')."""
    parts: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        parts.append(f"{ONES_EN[hundreds]} hundred")
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        parts.append(_TENS[tens] + (f"-{ONES_EN[ones]}" if ones else ""))
    elif rest:
        parts.append(ONES_EN[rest])
    return " ".join(parts)


def cardinal_en(n: int) -> str:
    """English words for an integer: 1234 -> 'one thousand two hundred thirty-four'."""
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


def year_en(year: int) -> str:
    """How a year is spoken: 2026 -> 'twenty twenty-six', 2005 -> 'two thousand five'."""
    century, rest = divmod(year, 100)
    if year % 1000 < 10 or not 1100 <= year <= 9999:
        return cardinal_en(year)
    if rest == 0:
        return f"{cardinal_en(century)} hundred"
    if rest < 10:
        return f"{cardinal_en(century)} oh {cardinal_en(rest)}"
    return f"{cardinal_en(century)} {cardinal_en(rest)}"


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
        out.append(ZH_DIGITS[digit] + _ZH_UNITS[pos])
    return "".join(out)


def cardinal_zh(n: int) -> str:
    """Chinese reading of an integer: 1234 -> 一千二百三十四, 10010 -> 一万零一十."""
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
