"""Utterance guard (SPEC 7.2, 7.4, 7.6): checks each rendered utterance before it is synthesised.

Three rules: `prohibited_content` (threats, impersonation, pressure: per-locale lists kept as data
in prompts/<locale>/prohibited.yaml), `fraud_like_request` (SPEC 7.9: asking for a password, PIN,
code or full number, or directing payment off the lender's channels: the same file's
`impersonation:` rules) and `account_detail_before_right_party` (a slot value, raw or as spoken,
said before the customer confirmed their identity). A failed verdict means: replace with the safe
close, record it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.compliance.speech import value_forms
from agent.text.phrases import PhraseRule, find_phrase, load_phrase_rules, parse_phrase_rules

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
class GuardVerdict:
    """ok, or the rule that failed with a short detail (never the slot value itself)."""

    ok: bool
    rule: str | None = None
    detail: str = ""


OK = GuardVerdict(True)


ProhibitedRule = PhraseRule
parse_prohibited = parse_phrase_rules
load_prohibited = load_phrase_rules


def find_prohibited(text: str, rules: Sequence[PhraseRule]) -> tuple[str, str] | None:
    """(rule id, matched fragment) for the first prohibited rule the text breaks; the linter uses it too."""
    hit = find_phrase(text, rules)
    return (hit[0].id, hit[1]) if hit is not None else None


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
    prohibited: Sequence[PhraseRule],
    slots: Mapping[str, str],
    right_party_confirmed: bool,
) -> GuardVerdict:
    """Check one rendered utterance; the first broken rule wins, prohibited content first."""
    hit = find_phrase(text, prohibited)
    if hit is not None:
        rule = "fraud_like_request" if hit[0].kind == "impersonation" else "prohibited_content"
        return GuardVerdict(False, rule, f"{hit[0].id}: {hit[1]!r}")
    if not right_party_confirmed:
        for key, value in slots.items():
            if key in PUBLIC_SLOTS or not value or not str(value).strip():
                continue
            if find_form(text, value_forms(str(value))) is not None:
                return GuardVerdict(
                    False, "account_detail_before_right_party", f"slot {key!r} before right party"
                )
    return OK
