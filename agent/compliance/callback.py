"""The lender's registered official numbers (SPEC 7.9): a callback number must be one of them.

`OfficialNumbers` holds `compliance.official_numbers` in E.164 form and answers whether a number,
however written ('800-555-0123', '+1 (800) 555-0123', '4008001234' in a CN script), is one.
Pure; used by the pre-call gate for slot values and by the linter for numbers written in scripts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agent.compliance.phone import InvalidPhone, normalize_e164

__all__ = ["CALLBACK_SLOTS", "OfficialNumbers"]

CALLBACK_SLOTS: frozenset[str] = frozenset({"callback_number", "callback_phone", "hotline"})
"""Slots whose value is a number the customer is told to call."""


def _region(jurisdiction: str) -> str:
    return "CN" if jurisdiction.upper() == "CN" else "US"


@dataclass(frozen=True, slots=True)
class OfficialNumbers:
    """The registered numbers, normalised; `numbers` empty means none is registered (nothing passes)."""

    numbers: frozenset[str]

    @classmethod
    def parse(cls, raw: Iterable[str]) -> OfficialNumbers:
        """From config; ValueError naming an entry that is not a full international number."""
        out: set[str] = set()
        for entry in raw:
            if not str(entry).strip().startswith("+"):
                raise ValueError(f"compliance.official_numbers: write {entry!r} with its +country code")
            try:
                out.add(normalize_e164(str(entry)))
            except InvalidPhone as exc:
                raise ValueError(f"compliance.official_numbers: {exc}") from exc
        return cls(frozenset(out))

    def contains(self, number: str, jurisdiction: str = "US") -> bool:
        """Whether `number` (national numbers read in the jurisdiction's country) is registered."""
        try:
            return normalize_e164(number, _region(jurisdiction)) in self.numbers
        except InvalidPhone:
            return False

    def unofficial(self, slots: Mapping[str, str], jurisdiction: str = "US") -> list[str]:
        """The callback slots whose value is not a registered number (names only, never values)."""
        return sorted(
            k for k, v in slots.items() if k in CALLBACK_SLOTS and not self.contains(str(v), jurisdiction)
        )
