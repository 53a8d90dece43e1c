"""The sentences worth rendering before any call: every slot-free sentence of the loaded scripts.

A sentence with no slot ({customer_name}, {amount_due}, …) sounds the same in every call,
so it is rendered once, ahead of the first call, into the TTS disk cache
(Engines.start_prefill). Slot-bearing sentences are rendered per call, when it is granted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from agent.tts.base import split_sentences

if TYPE_CHECKING:
    from agent.dialogue.script import Script


def slot_free_sentences(scripts: Iterable[Script]) -> dict[str, list[str]]:
    """Locale → the distinct slot-free sentences of the scripts, in script order."""
    out: dict[str, dict[str, None]] = {}
    for script in scripts:
        texts = [t for state in script.states.values() for _, _, t in state.templates()]
        texts += [t for name in type(script.globals).model_fields for t in getattr(script.globals, name).say]
        bucket = out.setdefault(script.meta.locale, {})
        for text in texts:
            for sentence in split_sentences(text) or [text]:
                if "{" not in sentence:
                    bucket[sentence] = None
    return {locale: list(sentences) for locale, sentences in out.items()}
