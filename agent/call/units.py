"""Units of agent speech: how a sentence is cut for synthesis, and how the units' audio is joined.

A sentence already rendered (or being rendered) is played whole. Any other sentence is cut
so that what sounds the same on every call comes from the cache and only the rest waits for
live synthesis (issue 11.3: the reply to a promise was one clause, slots known only at that
moment, rendered while a 0.6 s "Thank you." played):

- a sentence with slots is cut at its slot boundaries: the script's own words between the
  slots are units of their own, the same on every call (cached per script version and voice,
  rendered at start-up); each slot value is a unit, and a short join ("on ", "还款") rides
  with the value after it (or, at the end of the sentence, before it), so that only values
  and short joins are rendered live, and the values known at grant (amount, due date, name)
  before the phone rings;
- a slot-free sentence, or script words between slots, not rendered yet either, is cut into
  its clauses, whose first plays while the rest renders.

Units are synthesised separately, so each comes with its own leading and trailing silence.
`shape` trims those at a join to the pause the sentence wants there (a word gap, or a
clause pause after a comma) with a short raised-cosine fade at each cut: no doubled
silence, no click, and nothing of the voiced audio lost or repeated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from agent.dialogue.render import Piece
from agent.tts.base import MIN_CLAUSE_CHARS, RATE, split_clauses

WORD_PAUSE_MS = 100
"""Quiet at a join inside a clause ("pay | one hundred dollars"): the kept onset and tail, no more."""
CLAUSE_PAUSE_MS = {"，": 300, ",": 250, "、": 120, "；": 260, ";": 260, "：": 220, ":": 220}
"""Quiet at a join after clause punctuation ("Friday, | December fifth"), as the Mandarin voice
pauses between the clauses it renders (agent/tts/kokoro_tts.py: PAUSE_MS)."""
LEAD_KEEP_MS = 60
"""Quiet kept before the voice at a cut: an aspirated onset (请 q, "th") rises for 30-40 ms
under the silence threshold and must not be clipped (docs/models.md, "Onset trimmed")."""
TAIL_KEEP_MS = 40
"""Quiet kept after the voice at a cut: the decay of its last sound."""
FADE_MS = 5
"""Raised-cosine fade at every cut (inside the kept quiet: voiced samples are untouched)."""
WINDOW_MS = 5
"""Silence is found in windows this long."""
SILENCE = 100
"""A window whose peak is under this (int16, 0.003 of full scale) is silence: Piper's is about 3,
Kokoro's exactly 0, speech onsets pass it within a few ms."""
JOIN_WORDS = 3
"""Script text between slots shorter than this many words (CJK: MIN_CLAUSE_CHARS characters)
rides with a slot value: a unit that short sounds clipped on its own."""

_CLAUSE_END = re.compile(r"[，,；;：:、]\W*$")
_LEAD_PUNCT = re.compile(r"^[^\w\s]+")
_WORD_CHARS = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Unit:
    """One piece of speech requested from the synthesiser.

    `slots`: the per-call slots whose values it speaks (empty: the same on every call of this
    script and voice). `known`: False when it needs a value nobody has yet (a date the customer
    will give); it cannot be rendered. `pause_ms`: the silence wanted before it when it
    continues a sentence, None when it starts one.
    """

    text: str
    slots: tuple[str, ...] = ()
    known: bool = True
    pause_ms: int | None = None


def sentence_text(pieces: Sequence[Piece]) -> str:
    """The whole sentence the pieces make."""
    return "".join(p.text for p in pieces).strip()


def slot_units(pieces: Sequence[Piece], fixed: Collection[str] = ()) -> list[Unit]:
    """Cut one sentence at its slot boundaries; `fixed` slots (deployment constants) count as script text.

    A sentence without a per-call slot is one unit. Units' texts joined with their pauses are
    the sentence: every character is in exactly one unit.
    """
    runs: list[Piece] = []
    for p in pieces:
        if p.slot is not None and p.slot in fixed:
            p = Piece(p.text)
        if p.slot is None and runs and runs[-1].slot is None:
            runs[-1] = Piece(runs[-1].text + p.text)
        elif p.text or not p.known:
            runs.append(p)
    if not any(r.slot is not None for r in runs):
        return [Unit(sentence_text(runs))] if sentence_text(runs) else []
    out: list[tuple[str, tuple[str, ...], bool]] = []  # (text, slots, known) being built
    join = ""  # short script text waiting for the next slot value
    for i, run in enumerate(runs):
        if run.slot is not None:
            out.append((join + run.text, (run.slot,), run.known))
            join = ""
            continue
        text = run.text
        lead = _LEAD_PUNCT.match(text.lstrip())
        if lead and out:  # "{amount}, and": the comma closes the value before it
            out[-1] = (out[-1][0] + lead.group(0), *out[-1][1:])
            text = text.lstrip()[lead.end() :]
        if not text.strip():
            continue
        later_slot = any(r.slot is not None for r in runs[i + 1 :])
        if _short(text) and later_slot:
            join = text
        elif _short(text) and out:
            out[-1] = (out[-1][0] + text, *out[-1][1:])
        else:
            out.append((text, (), True))
    units: list[Unit] = []
    for text, slots, known in out:
        pause = None if not units else join_pause_ms(units[-1].text)
        units.append(Unit(text.strip(), slots, known, pause))
    return units


def clause_units(sentence: str) -> list[Unit]:
    """A slot-free sentence cut into its clauses (one unit when it has a single clause)."""
    units: list[Unit] = []
    for clause in split_clauses(sentence) or [sentence]:
        units.append(Unit(clause, (), True, None if not units else join_pause_ms(units[-1].text)))
    return units


def plan(pieces: Sequence[Piece], ready: Callable[[str], bool], fixed: Collection[str] = ()) -> list[Unit]:
    """The units to request for one sentence: whole when `ready` (cached or in flight), else cut
    at its slots; script words among them not ready either are cut into their clauses."""
    whole = sentence_text(pieces)
    if all(p.known for p in pieces) and ready(whole):
        return [Unit(whole)]
    out: list[Unit] = []
    for unit in slot_units(pieces, fixed):
        if unit.slots or ready(unit.text):
            out.append(unit)
            continue
        clauses = clause_units(unit.text)  # script words not rendered yet: first clause first
        out += [Unit(clauses[0].text, (), True, unit.pause_ms), *clauses[1:]]
    return out


def join_pause_ms(before: str) -> int:
    """The quiet wanted after `before` when the sentence goes on (from voice to voice)."""
    end = _CLAUSE_END.search(before)
    return CLAUSE_PAUSE_MS.get(end.group(0)[0], WORD_PAUSE_MS) if end else WORD_PAUSE_MS


def _short(text: str) -> bool:
    cjk = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")
    if cjk:
        return len(_WORD_CHARS.sub("", text)) < MIN_CLAUSE_CHARS
    return len(text.split()) < JOIN_WORDS


def voiced_span(pcm: np.ndarray, rate: int = RATE) -> tuple[int, int] | None:
    """(first, end) sample of the voiced audio: windows louder than the silence threshold."""
    if len(pcm) == 0:
        return None
    win = max(1, rate * WINDOW_MS // 1000)
    n = -(-len(pcm) // win)
    padded = np.zeros(n * win, dtype=np.int32)
    padded[: len(pcm)] = np.abs(pcm.astype(np.int32))
    peaks = padded.reshape(n, win).max(axis=1)
    loud = np.flatnonzero(peaks >= SILENCE)
    if loud.size == 0:
        return None
    return int(loud[0]) * win, min(len(pcm), (int(loud[-1]) + 1) * win)


def shape(pcm: np.ndarray, *, lead_ms: int | None, trim_tail: bool, rate: int = RATE) -> np.ndarray:
    """One unit's audio ready to join: its leading quiet cut to LEAD_KEEP_MS and made up to what
    the join wants with the TAIL_KEEP_MS the unit before kept (`lead_ms`; None: left as it is), its
    trailing quiet cut to TAIL_KEEP_MS when the sentence goes on (`trim_tail`), faded at each cut.
    """
    if lead_ms is None and not trim_tail:
        return pcm
    span = voiced_span(pcm, rate)
    if span is None:  # nothing above the threshold (a very quiet voice): kept whole, never dropped
        return pcm
    fade = rate * FADE_MS // 1000
    start = max(0, span[0] - rate * LEAD_KEEP_MS // 1000) if lead_ms is not None else 0
    end = min(len(pcm), span[1] + rate * TAIL_KEEP_MS // 1000) if trim_tail else len(pcm)
    out = pcm[start:end].astype(np.float32)
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, min(fade, len(out) // 2), dtype=np.float32)))
    if lead_ms is not None and start > 0:
        out[: len(ramp)] *= ramp
    if trim_tail and end < len(pcm):
        out[len(out) - len(ramp) :] *= ramp[::-1]
    shaped = np.clip(np.round(out), -32768, 32767).astype(np.int16)
    if lead_ms is None:
        return shaped
    quiet_before = span[0] - start  # quiet still in front of the voice
    # the unit before kept TAIL_KEEP_MS of its tail: together they make lead_ms
    pad = max(0, rate * lead_ms // 1000 - rate * TAIL_KEEP_MS // 1000 - quiet_before)
    return np.concatenate([np.zeros(pad, dtype=np.int16), shaped]) if pad else shaped
