"""Phrase rules: literal terms and regular expressions that a sentence must not contain.

Read from prompts/<locale>/prohibited.yaml by the runtime guard (every rendered utterance) and
by the script linter (every template). A rule may list `allow` patterns: safe phrasings whose
text is blanked out before the rule looks (so "we will never ask for your PIN" does not count
as asking for a PIN). A rule's `kind` names the document section it came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["SECTIONS", "PhraseRule", "find_phrase", "load_phrase_rules", "parse_phrase_rules"]

SECTIONS: Mapping[str, str] = {"rules": "prohibited", "impersonation": "impersonation"}
"""Top-level keys of a phrase document and the kind their rules get."""


@dataclass(frozen=True, slots=True)
class PhraseRule:
    """One rule: literal terms and regular expressions, matched case-insensitively, minus safe phrasings."""

    id: str
    description: str
    terms: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    allow: tuple[re.Pattern[str], ...] = ()
    kind: str = "prohibited"

    def find(self, text: str) -> str | None:
        """The first matching fragment of `text` outside its allowed phrasings, or None."""
        for pattern in self.allow:
            text = pattern.sub(lambda m: " " * len(m.group(0)), text)
        low = text.lower()
        for term in self.terms:
            if term.lower() in low:
                return term
        for rx in self.patterns:
            match = rx.search(text)
            if match:
                return match.group(0)
        return None


def _strings(raw: Mapping[str, Any], key: str) -> list[str]:
    return [str(item) for item in raw.get(key) or []]


def _compile(raw: Mapping[str, Any], key: str, rule_id: str) -> tuple[re.Pattern[str], ...]:
    out: list[re.Pattern[str]] = []
    for pattern in _strings(raw, key):
        try:
            out.append(re.compile(pattern, re.I))
        except re.error as exc:
            raise ValueError(
                f"phrase rule {rule_id!r}: {key} pattern {pattern!r} is not valid: {exc}"
            ) from exc
    return tuple(out)


def parse_phrase_rules(text: str) -> tuple[PhraseRule, ...]:
    """Parse a phrase document: `rules:` and `impersonation:` lists of {id, terms, patterns, allow}."""
    doc = yaml.safe_load(text) or {}
    rules: list[PhraseRule] = []
    for section, kind in SECTIONS.items():
        for raw in doc.get(section) or []:
            rule_id = str(raw["id"])
            rules.append(
                PhraseRule(
                    id=rule_id,
                    description=str(raw.get("description", "")),
                    terms=tuple(_strings(raw, "terms")),
                    patterns=_compile(raw, "patterns", rule_id),
                    allow=_compile(raw, "allow", rule_id),
                    kind=kind,
                )
            )
    return tuple(rules)


def load_phrase_rules(prompts_dir: Path, locale: str) -> tuple[PhraseRule, ...]:
    """Read prompts/<locale>/prohibited.yaml."""
    return parse_phrase_rules((prompts_dir / locale / "prohibited.yaml").read_text(encoding="utf-8"))


def find_phrase(text: str, rules: Sequence[PhraseRule]) -> tuple[PhraseRule, str] | None:
    """(rule, matched fragment) for the first rule the text breaks, or None."""
    for rule in rules:
        hit = rule.find(text)
        if hit is not None:
            return rule, hit
    return None
