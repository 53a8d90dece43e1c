"""Lint rules that keep a script unlike a fraudster's (SPEC 7.9).

- `callback-number-unofficial`: a phone number written into a sentence must be one of the
  lender's registered numbers (`compliance.official_numbers`, checked by the predicate the
  caller passes in); better, use `{callback_number}`, whose value the pre-call gate checks.
- `verification-offer-missing`: the customer is told how to check that the call is genuine
  through a channel they already know (the official app, website or number; a fraudster gives
  out numbers too): in the opening, or in every right-party state before its first account
  detail. What counts is data: `verify_call` in prompts/<locale>/lint.yaml, a sentence matching
  one of `says` and one of `via`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent.dialogue.lint_base import Finding, LintContext, YamlPath, all_templates, patterns, slots_in

__all__ = ["check"]

_SLOT = re.compile(r"\{[^{}]*\}")
_NUMBER = re.compile(
    r"(?<![0-9A-Za-z.])\+?\(?\d[\d\s().\-]{5,}\d(?![0-9A-Za-z])|[零〇一幺二三四五六七八九]{7,}"
)
_NOT_PHONE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}:\d{2}")
_ZH_DIGITS = str.maketrans("零〇一幺二三四五六七八九", "001123456789")


def check(ctx: LintContext) -> Iterator[Finding]:
    """Every finding of this family."""
    yield from _literal_numbers(ctx)
    yield from _verification_offer(ctx)


def _literal_numbers(ctx: LintContext) -> Iterator[Finding]:
    jurisdiction = ctx.script.meta.jurisdiction
    for path, text in all_templates(ctx.script):
        for match in _NUMBER.finditer(_SLOT.sub(" ", text)):
            number = match.group(0).strip().translate(_ZH_DIGITS)
            if _NOT_PHONE.search(number) or sum(ch.isdigit() for ch in number) < 7:
                continue
            if ctx.official is not None and ctx.official(number, jurisdiction):
                continue
            why = (
                "is not one of the lender's registered numbers (compliance.official_numbers)"
                if ctx.official is not None
                else "is written into the script and the linter was not given compliance.official_numbers"
            )
            yield Finding(
                ctx.file,
                ctx.at(*path),
                "callback-number-unofficial",
                f"phone number {number!r} {why}",
                "Say {callback_number} instead (the pre-call gate checks its value), or register the number.",
            )


def _offers(ctx: LintContext, text: str) -> bool:
    spec = ctx.rules.data.get("verify_call") or {}
    says, via = patterns(spec.get("says")), patterns(spec.get("via"))
    return any(p.search(text) for p in says) and any(p.search(text) for p in via)


def _before_account_details(ctx: LintContext, name: str) -> Iterator[str]:
    """The sentences a right-party state says before its first account detail."""
    state = ctx.script.states[name]
    account = ctx.script.account_slots
    for text in (*state.say, *state.ask):
        if set(slots_in(text)) & account or any(p.search(text) for p in ctx.rules.account_literals):
            return
        yield text


def _verification_offer(ctx: LintContext) -> Iterator[Finding]:
    if not ctx.rules.data.get("verify_call"):
        return  # the locale defines no wording to look for
    script = ctx.script
    start = script.states[script.start]
    if any(_offers(ctx, t) for t in (*start.disclosure, *start.say, *start.ask)):
        return
    confirming = [n for n, s in script.states.items() if s.confirms_right_party]
    missing = [n for n in confirming if not any(_offers(ctx, t) for t in _before_account_details(ctx, n))]
    if confirming and not missing:
        return
    for name in missing or [script.start]:
        where: YamlPath = ("states", name, "say") if missing else ("states", name)
        yield Finding(
            ctx.file,
            ctx.at(*where) or ctx.at(*where[:2]),
            "verification-offer-missing",
            "the customer is not told how to check that the call is really from the lender"
            + (f" before state {name!r} gives account details" if missing else ""),
            "Add a sentence such as 'You can check that this call is really from {company_name} by "
            "calling the number in our official app' to the opening or before the first account detail.",
        )
