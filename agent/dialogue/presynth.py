"""What the engine might say next, and every sentence a script can say: for pre-synthesis and previews."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping

from agent.dialogue.engine import DialogueState, step
from agent.dialogue.events import CustomerTurn, Event, KeyPress, MaxDuration, NoInput, Say
from agent.dialogue.normalize import NormalizeError
from agent.dialogue.render import RenderError, render
from agent.dialogue.script import Script
from agent.nlu.intents import OPT_OUT_CERTAIN
from agent.tts.base import split_sentences

__all__ = ["all_says", "fixed_sentences", "likely_next_says", "slot_free_sentences"]


def _probe_events(script: Script, state: DialogueState) -> Iterable[Event]:
    """Every event class the next step could see, for pre-synthesis."""
    spec = script.states[state.state]
    intents = dict.fromkeys(
        [*spec.expect, "ask_is_ai", "ask_who_is_calling", "complaint", "request_human", "repeat", "unknown"]
    )
    for intent in intents:
        yield CustomerTurn(intent, 1.0, {}, "")
    yield CustomerTurn("opt_out", 1.0, {}, "")
    yield CustomerTurn("opt_out", OPT_OUT_CERTAIN / 2, {}, "")  # a doubtful one: the confirmation question
    yield NoInput()
    for digit in spec.dtmf:
        yield KeyPress(digit)
    yield MaxDuration()


def likely_next_says(
    script: Script, state: DialogueState, slots: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """(say_id, text) the next step might say, in a stable order, for pre-synthesis."""
    if slots is not None:
        state = dataclasses.replace(state, values={**state.values, **slots})
    seen: dict[str, str] = {}
    for event in _probe_events(script, state):
        probe = dataclasses.replace(state, ended=False, outcome=None) if state.ended else state
        for action in step(script, probe, event)[1]:
            if isinstance(action, Say):
                seen.setdefault(action.say_id, action.text)
    return list(seen.items())


def all_says(
    script: Script, slots: Mapping[str, str], *, today: dt.date | None = None
) -> list[tuple[str, str]]:
    """(say_id, text) for every sentence in the script renderable with `slots` (others skipped)."""
    out: list[tuple[str, str]] = []
    types, locale = script.slot_types, script.meta.locale

    def add(say_id: str, template: str) -> None:
        try:
            out.append((say_id, render(template, slots, types, locale, today)))
        except (RenderError, NormalizeError):
            return

    for name, spec in script.states.items():
        for field_name, index, text in spec.templates():
            add(f"{name}.{field_name.replace('.say', '')}.{index}", text)
    for gname in type(script.globals).model_fields:
        for index, text in enumerate(getattr(script.globals, gname).say):
            add(f"global.{gname}.{index}", text)
    return out


def slot_free_sentences(scripts: Iterable[Script]) -> dict[str, list[str]]:
    """Locale -> the distinct slot-free sentences of the scripts, in script order.

    A sentence with no slot sounds the same in every call, so it is rendered once, before the
    first call, into the TTS disk cache (Engines.start_prefill); slot-bearing sentences are
    rendered per call, when it is granted.
    """
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


def fixed_sentences(script: Script, constants: Mapping[str, str]) -> list[str]:
    """Every sentence the script can say that is the same on every call, in script order.

    A sentence with no slot, or whose slots are all deployment constants
    (dialogue.constant_slots: "You can check this call is really from {company_name} ...");
    sentences that need a per-call value are left out.
    """
    types, locale = script.slot_types, script.meta.locale
    templates = [t for state in script.states.values() for _, _, t in state.templates()]
    templates += [t for name in type(script.globals).model_fields for t in getattr(script.globals, name).say]
    out: dict[str, None] = {}
    for template in templates:
        for sentence in split_sentences(template) or [template]:
            try:
                out[render(sentence, constants, types, locale)] = None
            except (RenderError, NormalizeError):
                continue
    return list(out)
