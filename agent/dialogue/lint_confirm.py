"""Lint rules for the opt-out confirmation question (SPEC 6.2a): it is there, and it says nothing else.

`opt-out-confirm-missing`: the script has no `global.confirm_opt_out` question.
`opt-out-confirm-wording`: the question is not one question asking whether to stop the calls
(prompts/<locale>/lint.yaml `confirm_opt_out.asks`), or it says anything else: a pitch, a
second sentence, a slot (`confirm_opt_out.extra`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.dialogue.lint_base import Finding, LintContext
    from agent.dialogue.script import Script

__all__ = ["check", "check_confirm"]

_Patterns = tuple[re.Pattern[str], ...]
_QUESTION_END = re.compile(r"[?？]$|吗[。]?$")
_SENTENCE_BREAK = re.compile(r"[.!?。！？]\s*\S")


def _patterns(data: object) -> tuple[_Patterns, _Patterns]:
    """(asks, extra) regexes from the locale's lint.yaml `confirm_opt_out` entry."""
    spec = data.get("confirm_opt_out") if isinstance(data, dict) else None
    spec = spec if isinstance(spec, dict) else {}
    asks = tuple(re.compile(str(p), re.I) for p in spec.get("asks") or ())
    extra = tuple(re.compile(str(p), re.I) for p in spec.get("extra") or ())
    return asks, extra


def check(ctx: LintContext) -> Iterator[Finding]:
    """Findings about the script's opt-out confirmation question."""
    from agent.dialogue.lint_base import Finding

    script, at = ctx.script, ctx.at
    file = ctx.file
    handler = script.globals.confirm_opt_out
    if not handler.say:
        yield Finding(
            file,
            at("global"),
            "opt-out-confirm-missing",
            "the script has no question to confirm a doubtful opt-out",
            "Add `confirm_opt_out: {say: Would you like us to stop calling you?}` under `global:`.",
        )
        return
    text = handler.say[0].strip()
    asks, extra = _patterns(dict(ctx.rules.data))
    problems = []
    if not _QUESTION_END.search(text) or _SENTENCE_BREAK.search(text.rstrip("?？。. ")):
        problems.append("it must be a single question")
    if asks and not any(p.search(text) for p in asks):
        problems.append("it must ask whether to stop calling")
    hit = next((p for p in extra if p.search(text)), None)
    if hit is not None:
        problems.append(f"it must say nothing else ({hit.pattern!r})")
    if problems:
        yield Finding(
            file,
            at("global", "confirm_opt_out", "say"),
            "opt-out-confirm-wording",
            f"the opt-out confirmation question {text!r} is not right: {'; '.join(problems)}",
            "Ask only whether the customer wants the calls to stop, in one short question.",
        )


def check_confirm(script: Script, prompts_dir: Path) -> list[Finding]:
    """The confirmation findings for one script, with its locale's rules read from `prompts_dir`."""
    from agent.dialogue.lint_base import LintContext, rules_for

    return list(check(LintContext(script, rules_for(prompts_dir, script.meta.locale), prompts_dir)))
