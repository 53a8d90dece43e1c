"""Redaction of PII in transcripts and logs (SPEC 7.7): cards, 身份证, phones and emails become tags.

Digit runs are found whether written as digits, English digit words ("four one five",
"oh", "double five") or Chinese numerals (一三八, 幺), mixed and separated by spaces,
dashes, dots or brackets, as ASR writes them; each run is classified by its digits.
"""

from __future__ import annotations

import re

_EN = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_ZH = {
    "零": "0",
    "〇": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
_WORD = r"(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine)"
_UNIT = rf"(?:\d+|[零〇一幺二三四五六七八九]+|\b(?:(?:double|triple)\s+)?{_WORD}\b|(?<=\d)[xX]\b)"
_SEP = r"[\s\-.,()/]*"
_RUN = re.compile(rf"\+?\(?{_UNIT}(?:{_SEP}{_UNIT})*", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def luhn_ok(digits: str) -> bool:
    """True when a digit string passes the Luhn checksum used by bank cards."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def cn_id_ok(value: str) -> bool:
    """True for an 18-character 身份证 number (17 digits + digit/X) whose ISO 7064 check matches."""
    if not re.fullmatch(r"\d{17}[\dXx]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


def is_phone(digits: str) -> bool:
    """True for CN mobile/landline and US (NANP) numbers, with or without country code."""
    d = digits
    if d.startswith("0086"):
        d = d[4:]
    elif d.startswith("86") and len(d) in (13, 12, 13):
        d = d[2:]
    if re.fullmatch(r"1[3-9]\d{9}", d):
        return True  # CN mobile
    if re.fullmatch(r"0\d{9,11}", d) or (re.fullmatch(r"[1-9]\d{8,10}", d) and d != digits):
        return True  # CN landline with area code (0xx) or after +86
    if d.startswith("1") and len(d) == 11:
        d = d[1:]
    return bool(re.fullmatch(r"[2-9]\d{2}[2-9]\d{6}", d))  # NANP


def _digits_of(run: str) -> str:
    out: list[str] = []
    for token in re.findall(
        rf"\d|[xX](?=\W|$)|[零〇一幺二三四五六七八九]|(?:double|triple)\s+{_WORD}|{_WORD}", run, re.I
    ):
        low = token.lower()
        if low.startswith(("double", "triple")):
            times = 2 if low.startswith("double") else 3
            out.append(_EN[low.split()[-1]] * times)
        elif low in _EN:
            out.append(_EN[low])
        elif token in _ZH:
            out.append(_ZH[token])
        else:
            out.append(token.upper())
    return "".join(out)


def classify(digits: str) -> str | None:
    """The tag for a run of digits, or None when it is none of ID, phone or card."""
    if len(digits) == 18 and cn_id_ok(digits):
        return "[ID]"
    if "X" in digits:
        return None
    if 10 <= len(digits) <= 14 and is_phone(digits):
        return "[PHONE]"
    if 13 <= len(digits) <= 19 and luhn_ok(digits):
        return "[CARD]"
    return None


_UNIT_RE = re.compile(_UNIT, re.I)


def _redact_run(text: str) -> str:
    """Tag the longest leftmost sub-run of digit units that classifies; keep the rest of the run."""
    units = list(_UNIT_RE.finditer(text))
    for i in range(len(units)):
        for j in range(len(units) - 1, i - 1, -1):
            start, end = units[i].start(), units[j].end()
            tag = classify(_digits_of(text[start:end]))
            if tag is not None:
                lead = "+(" if text[:start].endswith("+(") else text[start - 1 : start]
                if lead in ("+", "(", "+(") and start >= len(lead):
                    start -= len(lead)
                return text[:start] + tag + _redact_run(text[end:])
    return text


def _replace_run(match: re.Match[str]) -> str:
    return _redact_run(match.group(0))


def redact(text: str) -> str:
    """Replace cards, ID numbers, phone numbers and emails with tags; other text is unchanged."""
    text = _EMAIL.sub("[EMAIL]", text)
    return _RUN.sub(_replace_run, text)
