"""Lint rules for the opt-out confirmation question (SPEC 6.2a): it is there, and it says nothing else.

`opt-out-confirm-missing`: the script has no `global.confirm_opt_out` question.
`opt-out-confirm-wording`: the question is not one question asking whether to stop the calls
(prompts/<locale>/lint.yaml `confirm_opt_out.asks`), or it says anything else: a pitch, a
second sentence, a slot (`confirm_opt_out.extra`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from agent.dialogue.linter import Finding
    from agent.dialogue.script import Script

__all__ = ["check_confirm"]

_Patterns = tuple[re.Pattern[str], ...]
_QUESTION_END = re.compile(r"[?？]$|吗[。]?$")
_SENTENCE_BREAK = re.compile(r"[.!?。！？]\s*\S")


@lru_cache(maxsize=16)
def _patterns(lint_file: Path, stamp: float) -> tuple[_Patterns, _Patterns]:
    """(asks, extra) regexes from the locale's lint.yaml, re-read when the file changes."""
    data = yaml.safe_load(lint_file.read_text(encoding="utf-8")) or {}
    spec = data.get("confirm_opt_out") or {}
    asks = tuple(re.compile(str(p), re.I) for p in spec.get("asks") or ())
    extra = tuple(re.compile(str(p), re.I) for p in spec.get("extra") or ())
    return asks, extra


def check_confirm(
    script: Script, prompts_dir: Path, at: Callable[..., int | None]
) -> Iterator[Finding]:
    """Findings about the script's opt-out confirmation question."""
    from agent.dialogue.linter import Finding

    file = script.source or ""
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
    lint_file = prompts_dir / script.meta.locale / "lint.yaml"
    asks, extra = _patterns(lint_file, lint_file.stat().st_mtime) if lint_file.is_file() else ((), ())
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
