"""The units of a script that can be rendered ahead of need (agent.call.units cuts them).

- `opening_units`: what of the opening is the same on every call, rendered before the server
  reports ready (agent.warmup);
- `constant_units`: the script's own words between the slots of every slot-bearing sentence,
  the same on every call of this script version and voice: rendered once, at start-up, and
  kept (speech cache, TTS disk cache) like every other constant sentence;
- `grant_units`: for a granted call, the units of its sentences that still wait for a value
  the customer will give (a promise date) but carry values known now (the amount due, the
  due date, the name): rendered before the phone rings, so that when the customer gives
  the date only the date and its short join are synthesised live (issue 13.3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping

from agent.call.units import Unit, sentence_text, slot_units
from agent.dialogue.normalize import NormalizeError
from agent.dialogue.render import Piece, RenderError, render_sentences
from agent.dialogue.script import Script


def templates(script: Script) -> Iterator[str]:
    """Every template the script can say, in script order."""
    for state in script.states.values():
        for _, _, text in state.templates():
            yield text
    for name in type(script.globals).model_fields:
        yield from getattr(script.globals, name).say


def _sentences(
    script: Script, values: Mapping[str, str], today: dt.date | None
) -> Iterator[tuple[Piece, ...]]:
    types, locale = script.slot_types, script.meta.locale
    for template in templates(script):
        try:
            yield from render_sentences(template, values, types, locale, today, partial=True)
        except (RenderError, NormalizeError):
            continue  # a value the slot's type cannot say: that sentence waits for the call


def constant_units(script: Script, constants: Mapping[str, str]) -> list[str]:
    """The script-text units of every sentence that has a per-call slot, in script order (no duplicates)."""
    out: dict[str, None] = {}
    for pieces in _sentences(script, constants, None):
        units = slot_units(pieces, constants.keys())
        if len(units) > 1:
            out.update(dict.fromkeys(u.text for u in units if not u.slots and u.known and u.text))
    return list(out)


def grant_units(
    script: Script, slots: Mapping[str, str], fixed: Collection[str], today: dt.date | None
) -> list[Unit]:
    """Units with this call's values in sentences that also need a value not known yet, in script order."""
    out: dict[str, Unit] = {}
    for pieces in _sentences(script, slots, today):
        if all(p.known for p in pieces):
            continue  # said whole: pre-rendered as the call goes (likely next sentences)
        for unit in slot_units(pieces, fixed):
            if unit.known and unit.slots and unit.text:
                out.setdefault(unit.text, unit)
    return list(out.values())


def opening_units(script: Script, constants: Mapping[str, str]) -> list[str]:
    """What of the script's opening sounds the same on every call, in the order it is heard.

    Each sentence of the start state's disclosure and `say`, whole when the deployment's
    constant slots (dialogue.constant_slots) complete it; of a sentence that still needs a
    per-call value (the customer's name), its units of script words (slot_units). These are
    what the call's voice asks for first when that sentence is not rendered yet.
    """
    spec = script.states[script.start]
    types, locale = script.slot_types, script.meta.locale
    out: dict[str, None] = {}
    for template in (*spec.disclosure, *spec.say):
        try:
            sentences = render_sentences(template, constants, types, locale, partial=True)
        except (RenderError, NormalizeError):
            continue
        for pieces in sentences:
            if all(p.known for p in pieces):
                out[sentence_text(pieces)] = None
                continue
            units = slot_units(pieces, constants.keys())
            out.update(dict.fromkeys(u.text for u in units if not u.slots and u.text))
    return list(out)
