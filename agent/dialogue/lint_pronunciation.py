"""Lint rule `pronunciation-unknown` (zh-CN): every polyphonic word a script says has a reviewed reading.

A word resolves to a known reading when the pronunciation lexicon lists it (or a phrase of
whole words around it, or the character as a standalone word), or pypinyin's phrase
dictionary holds it. A polyphonic character read only by pypinyin's single-character
default (还 read hái in 还上, 行 read xíng in 行长) is refused: the voice would guess.
Slots are left out; their spoken forms (amounts, dates, digits) are checked by tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.dialogue.lint_base import Finding, LintContext

RULE = "pronunciation-unknown"
LEXICON_FILE = "pronunciation.yaml"
LOCALES = frozenset({"zh-CN"})
_SLOT = re.compile(r"\{[^{}]*\}")


def check(ctx: LintContext) -> Iterator[Finding]:
    """Findings for polyphonic words without a known reading, one per word and sentence."""
    script, at = ctx.script, ctx.at
    prompts_dir = ctx.prompts_dir or Path("prompts")
    locale = script.meta.locale
    if locale not in LOCALES:
        return
    from agent.dialogue.lint_base import Finding, global_templates, state_templates
    from agent.tts.zh_g2p import MandarinG2P  # jieba and pypinyin load only for zh-CN scripts
    from agent.tts.zh_lexicon import LexiconError, PronunciationLexicon

    path = prompts_dir / locale / LEXICON_FILE
    file = script.source or ""
    try:
        g2p = MandarinG2P(PronunciationLexicon.load(path))
    except LexiconError as exc:
        yield Finding(file, None, RULE, str(exc).rstrip("."), f"Fix {path} so every entry has a reading.")
        return
    items = [(p, t) for name in script.states for p, t in state_templates(script, name)]
    items += [(p, t) for _, p, t in global_templates(script)]
    for yaml_path, template in items:
        seen: set[str] = set()
        for reading in g2p.analyse(_SLOT.sub(" ", template)):
            if reading.source != "default" or not reading.polyphonic or reading.text in seen:
                continue
            seen.add(reading.text)
            yield Finding(
                file,
                at(*yaml_path),
                RULE,
                f"{reading.text!r} in {template!r} is polyphonic and has no reviewed reading "
                f"(the voice would guess {' '.join(reading.syllables)})",
                f"Add the word around {reading.text!r} with its reading to {path.name}.",
            )
