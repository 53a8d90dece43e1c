"""Lint rules on phrases: `prohibited-phrase` (SPEC 7.6) and `fraud-like-request` (SPEC 7.9).

No sentence may threaten, impersonate or pressure (the `rules:` of prompts/<locale>/prohibited.yaml),
nor sound like a fraudster: ask for a password, PIN, one-time code or full card/account/ID number,
or direct payment outside the lender's channels (its `impersonation:` rules). The runtime guard
reads the same file.
`scan_raw` also checks scripts the model rejected, so a threat is reported with the other errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from agent.dialogue.lint_base import Finding, LintContext, YamlPath, all_templates, rules_for
from agent.dialogue.loader import ScriptError, read_yaml
from agent.text.phrases import PhraseRule, find_phrase

__all__ = ["check", "scan_raw"]

_RULES: dict[str, tuple[str, str, str]] = {
    # phrase-rule kind: (lint rule id, what it is, fix)
    "prohibited": (
        "prohibited-phrase",
        "is prohibited content",
        "Rephrase the sentence without threats, impersonation or pressure.",
    ),
    "impersonation": (
        "fraud-like-request",
        "sounds like a fraudster's request",
        "Never ask for passwords, PINs, codes or full card/account/ID numbers, and send payments only "
        "to the lender's official app, website or number ('we will never ask for your PIN' is fine).",
    ),
}
_SPOKEN = ("say", "disclosure", "ask")


def _finding(file: str, line: int | None, text: str, rules: Sequence[PhraseRule]) -> Finding | None:
    hit = find_phrase(text, rules)
    if hit is None:
        return None
    rule, fragment = hit
    lint_rule, what, fix = _RULES.get(rule.kind, _RULES["prohibited"])
    return Finding(file, line, lint_rule, f"{rule.id}: {fragment!r} {what}", fix)


def check(ctx: LintContext) -> Iterator[Finding]:
    """Every sentence of a loaded script against the locale's prohibited list."""
    for path, text in all_templates(ctx.script):
        finding = _finding(ctx.file, ctx.at(*path), text, ctx.rules.prohibited)
        if finding is not None:
            yield finding


def scan_raw(text: str, file: str, prompts_dir: Path) -> list[Finding]:
    """Prohibited phrases in a script the model rejected: scan every string it would say."""
    try:
        data, lines = read_yaml(text, file)
    except ScriptError:
        return []
    locale = (data.get("meta") or {}).get("locale") if isinstance(data, dict) else None
    if locale not in ("en-US", "zh-CN"):
        return []
    rules = rules_for(prompts_dir, str(locale)).prohibited
    out: list[Finding] = []
    for path, node in _strings(data, ()):
        if path[:1] in (("states",), ("global",)) and any(p in _SPOKEN for p in path):
            finding = _finding(file, lines.get(path), node, rules)
            if finding is not None:
                out.append(finding)
    return out


def _strings(node: Any, path: YamlPath) -> Iterator[tuple[YamlPath, str]]:
    """(path, text) for every string inside plain YAML data."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, (*path, str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _strings(v, (*path, i))
    elif isinstance(node, str):
        yield path, node
