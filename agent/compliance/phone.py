"""Phone numbers: E.164 normalisation, keyed HMAC-SHA256 hash and a masked form (SPEC 7.7)."""

from __future__ import annotations

import hashlib
import hmac
import re

_COUNTRY_CODES = (
    "1",
    "7",
    "20",
    "27",
    "30",
    "31",
    "32",
    "33",
    "34",
    "36",
    "39",
    "40",
    "41",
    "43",
    "44",
    "45",
    "46",
    "47",
    "48",
    "49",
    "51",
    "52",
    "54",
    "55",
    "56",
    "57",
    "60",
    "61",
    "62",
    "63",
    "64",
    "65",
    "66",
    "81",
    "82",
    "84",
    "86",
    "90",
    "91",
    "852",
    "853",
    "886",
    "971",
    "972",
    "966",
)


class InvalidPhone(ValueError):
    """The text is not a phone number that can be written in E.164."""


def normalize_e164(raw: str, default_region: str = "US") -> str:
    """'(415) 555-1234' -> '+14155551234'; '138 1234 5678' with region CN -> '+8613812345678'."""
    text = raw.strip()
    if not re.fullmatch(r"\+?[\d\s().\-]+", text):
        raise InvalidPhone(f"not a phone number: {raw!r} (digits, spaces, dashes, brackets, a leading +)")
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        e164 = digits
    elif digits.startswith("00"):
        e164 = digits[2:]
    elif default_region.upper() == "CN":
        e164 = "86" + (digits[1:] if digits.startswith("0") else digits)
    elif len(digits) == 10:
        e164 = "1" + digits
    elif len(digits) == 11 and digits.startswith("1"):
        e164 = digits
    else:
        raise InvalidPhone(f"cannot tell the country of {raw!r}; write it with a leading +country code")
    if not 8 <= len(e164) <= 15 or e164.startswith("0"):
        raise InvalidPhone(f"not a valid international number: {raw!r}")
    return "+" + e164


def country_code(e164: str) -> str:
    """The country calling code of an E.164 number ('+14155551234' -> '1')."""
    digits = e164.lstrip("+")
    for size in (3, 2, 1):
        if digits[:size] in _COUNTRY_CODES:
            return digits[:size]
    return digits[:1]


def hash_phone(e164: str, key: str) -> str:
    """Keyed hash (HMAC-SHA256 hex) of an E.164 number: stable lookups without storing the number."""
    if not key:
        raise ValueError("the phone hash key must not be empty")
    return hmac.new(key.encode("utf-8"), e164.encode("ascii"), hashlib.sha256).hexdigest()


def mask_phone(e164: str) -> str:
    """'+14155554567' -> '+1******4567': country code and last four digits only."""
    cc = country_code(e164)
    rest = e164.lstrip("+")[len(cc) :]
    keep = rest[-4:]
    return f"+{cc}{'*' * (len(rest) - len(keep))}{keep}"
