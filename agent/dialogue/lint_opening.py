"""Lint rules for what the customer must hear (SPEC 7.2, 7.3): the disclosure, opt-out, the AI answer.

Rules: `disclosure-missing`, `opt-out-instruction-missing`, `opt-out-overridden`,
`opt-out-retention`, `ai-answer-untruthful`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent.dialogue.lint_base import Finding, LintContext, slots_in

__all__ = ["check"]


def check(ctx: LintContext) -> Iterator[Finding]:
    """Every finding of this family."""
    yield from _opening(ctx)
    yield from _opt_out(ctx)
    yield from _ai_answer(ctx)


def _opening(ctx: LintContext) -> Iterator[Finding]:
    """The start state's disclosure: AI, (zh-CN) synthetic voice, company, opt-out by voice and key."""
    script, rules = ctx.script, ctx.rules
    start = script.start
    texts = script.states[start].disclosure
    line = ctx.at("states", start, "disclosure")
    joined = " ".join(texts)
    if not texts or not any(p.search(joined) for p in rules.ai):
        yield Finding(
            ctx.file,
            line or ctx.at("states", start),
            "disclosure-missing",
            "the opening does not say that the caller is an AI",
            "Start the disclosure by saying this is an automated AI assistant.",
        )
    if rules.synthetic_voice and not any(p.search(joined) for p in rules.synthetic_voice):
        yield Finding(
            ctx.file,
            line,
            "disclosure-missing",
            "the opening does not say that the voice is synthesised",
            "Say in the disclosure that the voice is computer-generated (合成语音).",
        )
    if not any(set(slots_in(t)) & rules.company_slots for t in texts):
        yield Finding(
            ctx.file,
            line,
            "disclosure-missing",
            "the opening does not name the company",
            "Name the company in the disclosure with {company_name}.",
        )
    if not any(p.search(joined) for p in rules.opt_out_voice):
        yield Finding(
            ctx.file,
            line,
            "opt-out-instruction-missing",
            "the opening does not tell the customer how to stop the calls by voice",
            "Add a sentence such as 'say stop calling or press 9' to the disclosure.",
        )
    key = re.escape(script.opt_out_key)
    if not any(re.search(p.replace("{key}", key), joined, re.I) for p in rules.opt_out_key):
        yield Finding(
            ctx.file,
            line,
            "opt-out-instruction-missing",
            f"the opening does not say that pressing {script.opt_out_key} stops the calls",
            f"Tell the customer in the disclosure to press {script.opt_out_key} to stop the calls.",
        )


def _opt_out(ctx: LintContext) -> Iterator[Finding]:
    """The opt-out confirmation is one plain sentence, and no state rebinds its key."""
    script = ctx.script
    text = script.globals.opt_out.say[0]
    if any(p.search(text) for p in ctx.rules.retention_pitch):
        yield Finding(
            ctx.file,
            ctx.at("global", "opt_out", "say"),
            "opt-out-retention",
            "the opt-out confirmation asks a question or tries to keep the customer",
            "Confirm the opt-out in one plain sentence and say goodbye.",
        )
    for name, state in script.states.items():
        if "opt_out" in state.expect or state.dtmf.get(script.opt_out_key, "opt_out") != "opt_out":
            yield Finding(
                ctx.file,
                ctx.at("states", name, "expect"),
                "opt-out-overridden",
                f"state {name!r} overrides the opt-out handler",
                "Remove the state's own opt-out handling; the global opt-out always applies.",
            )


def _ai_answer(ctx: LintContext) -> Iterator[Finding]:
    """Asked whether it is an AI, the agent says so."""
    joined = " ".join(ctx.script.globals.ask_is_ai.say)
    if ctx.rules.ai and not any(p.search(joined) for p in ctx.rules.ai):
        yield Finding(
            ctx.file,
            ctx.at("global", "ask_is_ai", "say"),
            "ai-answer-untruthful",
            "the answer to 'are you a robot' does not say that this is an AI",
            "Answer ask_is_ai truthfully: say this is an AI assistant with a generated voice.",
        )
