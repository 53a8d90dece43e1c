"""Redaction of PII in transcripts and logs (SPEC 7.7): cards, 身份证, phones and emails become tags.

Digit runs are found whether written as digits, English digit words ("four one five",
"oh", "double five") or Chinese numerals (一三八, 幺), mixed and separated by spaces,
dashes, dots or brackets, as ASR writes them; each run is classified by its digits.
Dates, times, grouped amounts and labelled order/reference numbers are kept as they are.

Linear time, by construction (hostile input arrives from the network and is logged):
- every pattern is anchored so that no start position is scanned twice: a local part
  starts where a local part can start (look-behind) and is taken possessively, separators
  between digit units are bounded, units start at a digit boundary;
- a run is searched for numbers only over windows of at most 19 digits (the longest number
  classified), so the search costs a bounded amount per unit;
- at most `SEARCH_BUDGET` characters of digit runs are searched per call; a longer text
  (no transcript or audit detail is) has its remaining runs of 10 or more characters
  masked whole as [DIGITS], which is cheaper and on the safe side.
"""

from __future__ import annotations

import re

__all__ = ["SEARCH_BUDGET", "classify", "cn_id_ok", "is_phone", "luhn_ok", "redact"]

SEARCH_BUDGET = 2048
"""Characters of digit runs searched for numbers per `redact` call; later runs are masked whole."""

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
_MIN_DIGITS, _MAX_DIGITS = 10, 19  # shortest phone, longest card
_WORD = r"(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine)"

# Things that look like digit runs but are not PII: kept whole, and no run may start inside one.
_DATE = (
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?!\d)"
    r"|\d{1,2}/\d{1,2}/\d{2,4}(?!\d)"
)
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?!\d)"
_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])"
_NOT_PII = rf"{_DATE}|{_TIME}|{_AMOUNT}"
# A number right after one of these labels is an order/reference number: its first unit is kept.
_LABEL_TAIL = re.compile(
    r"(?:\b(?:(?:order|reference|ref|invoice|tracking|confirmation|transaction)(?:\s{1,3}(?:number|no\.?|id))?"
    r"|(?:case|ticket)\s{1,3}(?:number|no\.?|id))\s{0,3}[#:：]?\s{0,3}"
    r"|(?:订单号|订单编号|单号|流水号|交易号|工单号|运单号|快递单号)[:：是为\s]{0,3})\Z",
    re.I,
)

_WORD_UNIT = rf"\b(?:(?:double|triple)\s{{1,3}})?{_WORD}\b"
_UNIT = rf"(?:(?<!\d)(?!{_NOT_PII})\d+|[零〇一幺二三四五六七八九]+|{_WORD_UNIT}|(?<=\d)[xX]\b)"
_SEP = r"[\s\-.,()/]{0,4}"
_UNIT_RE = re.compile(_UNIT, re.I)
# Two passes, each guarded by a one-character look-ahead so that the many branches are tried
# only where a token can start: runs led by a digit (or + or a bracket), then runs led by a word.
_NUMERIC = re.compile(
    rf"(?=[0-9零〇一幺二三四五六七八九+(])(?:(?P<keep>{_NOT_PII})|(?P<run>\+?\(?{_UNIT}(?:{_SEP}{_UNIT})*))",
    re.I,
)
_SPOKEN = re.compile(rf"(?=[zZoOtTfFsSeEnNdD])(?P<run>{_WORD_UNIT}(?:{_SEP}{_UNIT})*)", re.I)
_DIGIT_TOKEN = re.compile(
    rf"\d|[xX](?=\W|$)|[零〇一幺二三四五六七八九]|(?:double|triple)\s{{1,3}}{_WORD}|{_WORD}", re.I
)
# Emails: each '@' followed by a domain, found by its literal prefix; the local part is the
# run of local characters that ends at the '@', read from the reversed text. One scan each.
_DOMAIN = re.compile(r"@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_LOCAL_REVERSED = re.compile(r"[\w.+-]+")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]", re.I)


_DOUBLED = str.maketrans("0123456789", "0246813579")  # a digit doubled, digits of the result summed


def luhn_ok(digits: str) -> bool:
    """True when a digit string passes the Luhn checksum used by bank cards."""
    kept, doubled = digits[-1::-2], digits[-2::-2].translate(_DOUBLED)
    return (sum(map(int, kept)) + sum(map(int, doubled))) % 10 == 0


def cn_id_ok(value: str) -> bool:
    """True for an 18-character 身份证 number (region, birth date, sequence, check) whose check matches."""
    if not _ID_SHAPE.fullmatch(value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
_CN_LANDLINE = re.compile(r"0\d{9,11}")
_CN_AFTER_86 = re.compile(r"[1-9]\d{8,10}")
_NANP = re.compile(r"[2-9]\d{2}[2-9]\d{6}")


def is_phone(digits: str) -> bool:
    """True for CN mobile/landline and US (NANP) numbers, with or without country code."""
    d = digits
    if d.startswith("0086"):
        d = d[4:]
    elif d.startswith("86") and len(d) in (12, 13):
        d = d[2:]
    if _CN_MOBILE.fullmatch(d):
        return True  # CN mobile
    if _CN_LANDLINE.fullmatch(d) or (d != digits and _CN_AFTER_86.fullmatch(d)):
        return True  # CN landline with area code (0xx) or after +86
    if d.startswith("1") and len(d) == 11:
        d = d[1:]
    return _NANP.fullmatch(d) is not None  # NANP


def _digits_of(unit: str) -> str:
    out: list[str] = []
    for token in _DIGIT_TOKEN.findall(unit):
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


def _longest_at(units: list[tuple[int, int, str]], i: int) -> tuple[int, str] | None:
    """(last unit, tag) of the longest window of units starting at unit i that classifies."""
    windows: list[tuple[int, str]] = []
    digits = ""
    for j in range(i, len(units)):
        digits += units[j][2]
        if len(digits) > _MAX_DIGITS:
            break
        if len(digits) >= _MIN_DIGITS:
            windows.append((j, digits))
    for j, window in reversed(windows):
        tag = classify(window)
        if tag is not None:
            return j, tag
    return None


def _redact_run(run: str, *, skip_first: bool = False) -> str:
    """Tag, left to right, the longest sub-run of digit units at each place that classifies.

    `skip_first` keeps the first unit as it is (a labelled order or reference number).
    """
    units = [(m.start(), m.end(), _digits_of(m.group(0))) for m in _UNIT_RE.finditer(run)]
    out: list[str] = []
    pos = i = 0
    if skip_first and units:
        pos, i = units[0][1], 1
        out.append(run[:pos])
    while i < len(units):
        hit = _longest_at(units, i)
        if hit is None:
            i += 1
            continue
        j, tag = hit
        start = units[i][0]
        before = run[pos:start]
        lead = "+(" if before.endswith("+(") else before[-1:]
        if lead in ("+", "(", "+("):
            start -= len(lead)
        out += [run[pos:start], tag]
        pos, i = units[j][1], j + 1
    out.append(run[pos:])
    return "".join(out)


def _redact_emails(text: str) -> str:
    if "@" not in text:
        return text
    reversed_text = text[::-1]
    out: list[str] = []
    pos = 0
    for match in _DOMAIN.finditer(text):
        at = match.start()
        local = _LOCAL_REVERSED.match(reversed_text, len(text) - at)
        start = max(at - (local.end() - local.start()) if local else at, pos)
        if start < at:
            out += [text[pos:start], "[EMAIL]"]
            pos = match.end()
    out.append(text[pos:])
    return "".join(out)


def _labelled(text: str, start: int) -> bool:
    """True when the text just before `start` labels what follows as an order or reference number."""
    return _LABEL_TAIL.search(text, max(0, start - 40), start) is not None


def redact(text: str) -> str:
    """Replace cards, ID numbers, phone numbers and emails with tags; other text is unchanged."""
    budget = SEARCH_BUDGET

    def replace(match: re.Match[str]) -> str:
        nonlocal budget
        run = match.group("run")
        if run is None or len(run) < _MIN_DIGITS:
            return match.group(0)
        if len(run) > budget:
            budget = 0
            return "[DIGITS]"
        budget -= len(run)
        return _redact_run(run, skip_first=_labelled(match.string, match.start()))

    text = _NUMERIC.sub(replace, _redact_emails(text))
    return _SPOKEN.sub(replace, text)


_NUMBER_CHARS = frozenset(
    "0123456789零〇一幺二三四五六七八九 \t\n.,-+()/@_xX"
    + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_NUMBER_SPAN = 200  # the most characters one number or e-mail address can span (19 spoken digits)


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters with a marker, never ending in part of a number.

    Whatever could be the first half of a phone, card, ID or e-mail at the cut is dropped
    with the rest, so redacting the kept head cannot leave a partial number behind.
    """
    if len(text) <= limit:
        return text
    cut = limit
    floor = max(0, cut - _NUMBER_SPAN)
    while cut > floor and text[cut - 1] in _NUMBER_CHARS:
        cut -= 1
    return f"{text[:cut]}…[truncated {len(text) - cut} chars]"
