"""Utterance guard (SPEC 7.2, 7.4, 7.6): checks each rendered utterance before it is synthesised.

Two rules: `prohibited_content` (per-locale lists kept as data in prompts/<locale>/prohibited.yaml)
and `account_detail_before_right_party` (a slot value, raw or as spoken, said before the
customer confirmed their identity). A failed verdict means: replace with the safe close, record it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from agent.compliance.speech import value_forms

# Slots that may be said to anyone: they identify the caller or ask for the right party.
PUBLIC_SLOTS: frozenset[str] = frozenset(
    {
        "company",
        "company_name",
        "agent_name",
        "customer_name",
        "name",
        "first_name",
        "last_name",
        "callback_number",
        "callback_phone",
        "hotline",
        "opt_out_key",
    }
)


@dataclass(frozen=True, slots=True)
class ProhibitedRule:
    """One prohibited-content rule: literal terms and regular expressions, matched case-insensitively."""

    id: str
    description: str
    terms: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]

    def find(self, text: str) -> str | None:
        """The first matching fragment of `text`, or None."""
        low = text.lower()
        for term in self.terms:
            if term.lower() in low:
                return term
        for pattern in self.patterns:
            match = pattern.search(text)
            if match:
                return match.group(0)
        return None


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """ok, or the rule that failed with a short detail (never the slot value itself)."""

    ok: bool
    rule: str | None = None
    detail: str = ""


OK = GuardVerdict(True)


def parse_prohibited(text: str) -> tuple[ProhibitedRule, ...]:
    """Parse a prohibited.yaml document: `rules: [{id, description, terms: [...], patterns: [...]}]`."""
    doc = yaml.safe_load(text) or {}
    rules: list[ProhibitedRule] = []
    for raw in doc.get("rules", []):
        rules.append(
            ProhibitedRule(
                id=str(raw["id"]),
                description=str(raw.get("description", "")),
                terms=tuple(str(t) for t in raw.get("terms", []) or []),
                patterns=tuple(re.compile(str(p), re.I) for p in raw.get("patterns", []) or []),
            )
        )
    return tuple(rules)


def load_prohibited(prompts_dir: Path, locale: str) -> tuple[ProhibitedRule, ...]:
    """Read prompts/<locale>/prohibited.yaml (the one file read in this package)."""
    return parse_prohibited((prompts_dir / locale / "prohibited.yaml").read_text(encoding="utf-8"))


def find_prohibited(text: str, rules: Sequence[ProhibitedRule]) -> tuple[str, str] | None:
    """(rule id, matched fragment) for the first prohibited rule the text breaks; the linter uses it too."""
    for rule in rules:
        hit = rule.find(text)
        if hit is not None:
            return rule.id, hit
    return None


_ZH_NUM = "零〇一二三四五六七八九十百千万亿两幺"


def _edge_ok(ch: str | None, edge: str) -> bool:
    """True when the neighbouring character `ch` does not run on into the matched form's edge."""
    if ch is None:
        return True
    if edge.isascii() and edge.isalnum():
        return not (ch.isascii() and ch.isalnum())
    if edge in _ZH_NUM:
        return ch not in _ZH_NUM and not ch.isdigit()
    return True


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace("\u00a0", " ").split())


def find_form(text: str, forms: set[str]) -> str | None:
    """The first form found in normalised text with clean edges (3/15 does not match inside 13/15)."""
    norm = _normalise(text)
    for form in sorted(forms, key=len, reverse=True):
        start = norm.find(form)
        while start != -1:
            end = start + len(form)
            before = norm[start - 1] if start else None
            after = norm[end] if end < len(norm) else None
            if _edge_ok(before, form[0]) and _edge_ok(after, form[-1]):
                return form
            start = norm.find(form, start + 1)
    return None


def check(
    text: str,
    *,
    prohibited: Sequence[ProhibitedRule],
    slots: Mapping[str, str],
    right_party_confirmed: bool,
) -> GuardVerdict:
    """Check one rendered utterance; the first broken rule wins, prohibited content first."""
    hit = find_prohibited(text, prohibited)
    if hit is not None:
        return GuardVerdict(False, "prohibited_content", f"{hit[0]}: {hit[1]!r}")
    if not right_party_confirmed:
        for key, value in slots.items():
            if key in PUBLIC_SLOTS or not value or not str(value).strip():
                continue
            if find_form(text, value_forms(str(value))) is not None:
                return GuardVerdict(
                    False, "account_detail_before_right_party", f"slot {key!r} before right party"
                )
    return OK
