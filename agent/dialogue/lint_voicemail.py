"""Lint rule `voicemail-content`: the voicemail state is a Reg F limited-content message, nothing else.

12 CFR 1006.2(j): a limited-content message holds only a business name that does not say
the business collects debts, a request that the consumer reply, the name(s) of a person to
contact, a telephone number, and optionally a salutation, the date and time, and a generic
statement on how to opt out. The runtime enters the voicemail state (engine.VOICEMAIL_STATE)
when a machine answered under the US profile, before anyone confirmed who listens, so the
rule proves, for that state and any state that ends `voicemail`:

- its only slots are telephone numbers (no amount, date, name or text slot: no creditor,
  no customer, nothing about an account), and its literal text has no digits (no literal
  amount, date or account number);
- no word of the locale's `voicemail.forbidden` list (debt, collection, overdue, payment, ...);
- it asks for a reply (`voicemail.reply`) and gives a number (a phone slot);
- it has no AI disclosure block, no question (`ask`), no `needs`, and ends the call with
  `end: voicemail`: nothing follows it but the hang-up;
- the synthetic voice never introduces itself as a person (`voicemail.persona`: "this is…",
  "my name is…"): the message comes *from* the business and names the person to call back,
  so that a recipient is not led to believe a human named X left it.
"""

from __future__ import annotations

from collections.abc import Iterator

from agent.dialogue.engine import VOICEMAIL_STATE
from agent.dialogue.lint_base import Finding, LintContext, YamlPath, patterns, slots_in, state_templates

__all__ = ["RULE", "check", "voicemail_states"]

RULE = "voicemail-content"
_FIX = ("Say only a neutral business name, a person to ask for, a request to call back and "
        "{callback_number}; nothing about the account or the debt.")


def voicemail_states(ctx: LintContext) -> list[str]:
    """The states that are (or end as) the voicemail message."""
    script = ctx.script
    return [n for n, s in script.states.items() if n == VOICEMAIL_STATE or s.end == "voicemail"]


def check(ctx: LintContext) -> Iterator[Finding]:
    """Every voicemail state holds only what a limited-content message may hold."""
    for name in voicemail_states(ctx):
        yield from _state(ctx, name)


def _finding(ctx: LintContext, path: YamlPath, message: str, fix: str = _FIX) -> Finding:
    return Finding(ctx.file, ctx.at(*path), RULE, message, fix)


def _state(ctx: LintContext, name: str) -> Iterator[Finding]:
    script, state = ctx.script, ctx.script.states[name]
    where = ("states", name)
    data = ctx.rules.data.get("voicemail") or {}
    forbidden, reply = patterns(data.get("forbidden")), patterns(data.get("reply"))
    persona = patterns(data.get("persona"))
    if state.end != "voicemail":
        yield _finding(ctx, (*where, "end") if state.end else where,
                       f"state {name!r} must end the call with `end: voicemail` (nothing may follow it)",
                       "Add `end: voicemail` to the state.")
    for field in ("disclosure", "ask", "needs"):
        if getattr(state, field):
            yield _finding(ctx, (*where, field),
                           f"state {name!r} has `{field}`: a limited-content message holds nothing else",
                           f"Remove `{field}` from the voicemail state.")
    phones = {n for n, s in script.slots.items() if s.type == "phone"}
    texts = list(state_templates(script, name))
    said_phone = False
    for path, text in texts:
        for slot in slots_in(text):
            if slot in phones:
                said_phone = True
                continue
            kind = script.slots[slot].type if slot in script.slots else "undeclared"
            yield _finding(ctx, path, f"state {name!r} says slot {{{slot}}} ({kind}); only telephone "
                           "number slots may be in a limited-content message")
        literal = _literal(text)
        if any(ch.isdigit() for ch in literal):
            yield _finding(ctx, path, f"state {name!r} has digits in its text (an amount, a date or an "
                           "account number); a number to call back must be a phone slot")
        for pattern in forbidden:
            hit = pattern.search(literal)
            if hit:
                yield _finding(ctx, path, f"state {name!r} says {hit.group(0)!r}, which tells what the "
                               "call is about; a limited-content message must not")
                break
        for pattern in persona:
            hit = pattern.search(literal)
            if hit:
                yield _finding(ctx, path, f"state {name!r} says {hit.group(0)!r}: the synthetic voice "
                               "introduces itself as a person",
                               "Say the message is from the business and name the person to call: "
                               "'This is a message from Meridian Services. Please call Jordan Lee back at "
                               "{callback_number}.'")
                break
    if texts and not said_phone:
        yield _finding(ctx, where, f"state {name!r} gives no telephone number to reply to",
                       "Say a phone slot such as {callback_number}.")
    if texts and not any(p.search(_literal(t)) for _, t in texts for p in reply):
        yield _finding(ctx, where, f"state {name!r} does not ask the consumer to reply",
                       "Ask them to call back, e.g. 'Please call us back at {callback_number}.'")


def _literal(text: str) -> str:
    """The template's own words, slots taken out."""
    out, depth = [], 0
    for ch in text:
        if ch == "{":
            depth += 1
            out.append(" ")
        elif ch == "}":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)
