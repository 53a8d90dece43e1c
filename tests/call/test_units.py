"""Speech by units: sentences cut at slot boundaries, constant units from the cache, every unit
of a reply queued at once in the order heard, joins without long silences or lost pieces."""

from __future__ import annotations

import asyncio
import datetime as dt
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from agent.call.commands import Speak
from agent.call.speech_cache import SpeechCache
from agent.call.tasks import OwnedTasks
from agent.call.units import (
    CLAUSE_PAUSE_MS,
    FADE_MS,
    WINDOW_MS,
    WORD_PAUSE_MS,
    Unit,
    plan,
    sentence_text,
    shape,
    slot_units,
    voiced_span,
)
from agent.call.voice import AgentVoice
from agent.config import CallConfig
from agent.dialogue.events import Say
from agent.dialogue.render import render, render_sentences

TYPES = {"amount_due": "money", "promise_date": "date", "customer_name": "name", "company_name": "name"}
VALUES = {"amount_due": "120", "promise_date": "2025-12-05", "customer_name": "John Smith",
          "company_name": "Acme Finance"}
TODAY = dt.date(2025, 12, 1)
PROMISE = {"en-US": "Thank you. I've noted that you plan to pay {amount_due} on {promise_date}.",
           "zh-CN": "好的，已为您记录：{promise_date}还款{amount_due}。"}


def _say(template: str, locale: str = "en-US", values: Mapping[str, str] = VALUES,
         say_id: str = "confirm_promise.say.0") -> Say:
    return Say(say_id, render(template, values, TYPES, locale, TODAY), "confirm_promise",
               sentences=render_sentences(template, values, TYPES, locale, TODAY))


def _texts(units: list[Unit]) -> list[str]:
    return [u.text for u in units]


def test_a_slot_bearing_sentence_is_cut_at_its_slot_boundaries() -> None:
    thanks, promise = render_sentences(PROMISE["en-US"], VALUES, TYPES, "en-US", TODAY)
    assert slot_units(thanks) == [Unit("Thank you.")]
    units = slot_units(promise)
    # the script's words alone; each value with the short join before it ("on"), the full stop last
    assert _texts(units) == ["I've noted that you plan to pay", "one hundred twenty dollars",
                             "on December fifth."]
    assert [u.slots for u in units] == [(), ("amount_due",), ("promise_date",)]
    assert [u.pause_ms for u in units] == [None, WORD_PAUSE_MS, WORD_PAUSE_MS]
    assert " ".join(_texts(units)) == sentence_text(promise)  # every word once, in order


def test_mandarin_is_cut_at_its_slots_too_with_a_clause_pause_after_the_colon() -> None:
    (pieces,) = render_sentences(PROMISE["zh-CN"], VALUES, TYPES, "zh-CN", TODAY)
    units = slot_units(pieces)
    assert _texts(units) == ["好的，已为您记录：", "12月5日", "还款一百二十元。"]
    assert [u.slots for u in units] == [(), ("promise_date",), ("amount_due",)]
    assert [u.pause_ms for u in units] == [None, CLAUSE_PAUSE_MS["："], WORD_PAUSE_MS]
    assert "".join(_texts(units)) == sentence_text(pieces)


def test_deployment_constants_count_as_script_words_and_a_lone_value_keeps_its_words() -> None:
    template = "You can check this call is from {company_name} by calling the number in our official app."
    (pieces,) = render_sentences(template, VALUES, TYPES, "en-US")
    assert len(slot_units(pieces)) == 3  # a per-call name: cut around it
    whole = slot_units(pieces, fixed={"company_name"})
    assert whole == [Unit(sentence_text(pieces))]  # the lender's name is the same on every call
    (short,) = render_sentences("Thank you, {customer_name}.", VALUES, TYPES, "en-US")
    assert slot_units(short) == [Unit("Thank you, John Smith.", ("customer_name",))]  # no lone "Thank you,"


def test_a_value_not_known_yet_makes_its_unit_unknown_and_leaves_the_others() -> None:
    known_at_grant = {"amount_due": "120"}
    (_, pieces) = render_sentences(PROMISE["en-US"], known_at_grant, TYPES, "en-US", TODAY, partial=True)
    units = slot_units(pieces)
    assert [(u.text, u.known) for u in units[:2]] == [("I've noted that you plan to pay", True),
                                                      ("one hundred twenty dollars", True)]
    assert not units[2].known  # "on {promise_date}.": rendered when the customer has said it


def test_a_sentence_ready_whole_is_played_whole_else_cut() -> None:
    (_, pieces) = render_sentences(PROMISE["en-US"], VALUES, TYPES, "en-US", TODAY)
    whole = sentence_text(pieces)
    assert plan(pieces, lambda text: text == whole) == [Unit(whole)]
    assert len(plan(pieces, lambda text: False)) == 3
    (free,) = render_sentences("If anything changes, call us. ", {}, {}, "en-US")
    assert _texts(plan(free, lambda text: False)) == ["If anything changes,", "call us."]  # clause first


# --- the voice: what it asks the synthesiser for, and what the customer hears ---------------------


def _unit_audio(text: str, lead_ms: int = 150, tail_ms: int = 220) -> tuple[np.ndarray, np.ndarray]:
    """(audio as a synthesiser gives it: quiet, voice, quiet; the voiced core alone)."""
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    core = rng.integers(-12000, 12000, 16 * (200 + 10 * len(text)), dtype=np.int16)
    core[:16] = 9000  # loud from its first sample to its last: the core is what must be heard
    core[-16:] = -9000
    lead, tail = (rng.integers(-40, 40, 16 * ms, dtype=np.int16) for ms in (lead_ms, tail_ms))
    return np.concatenate([lead, core, tail]), core


class Synth:
    """A synthesiser that records each request and answers only when released."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, float | None]] = []
        self.release = asyncio.Event()

    async def __call__(self, locale: str, text: str, priority: str, due: float | None) -> np.ndarray:
        self.asked.append((text, priority, due))
        await self.release.wait()
        return _unit_audio(text)[0]


class Wire:
    """The gateway side: keeps every frame sent."""

    buffers_audio = True

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []

    async def audio(self, pcm16k: np.ndarray) -> None:
        self.frames.append(pcm16k.copy())

    async def clear(self) -> None: ...

    async def mark(self, name: str) -> None: ...

    async def hangup(self, reason: str) -> None: ...

    async def notify(self, event: Mapping[str, Any]) -> None: ...


def _voice(synth: Synth, wire: Wire, locale: str = "en-US") -> tuple[AgentVoice, SpeechCache]:
    cache = SpeechCache(synth)
    voice = AgentVoice(wire, cache, locale, CallConfig(send_ahead_ms=2000), OwnedTasks(),
                       on_quiet=lambda n, played: None, on_timed=lambda timed: None)
    return voice, cache


async def test_every_unit_of_a_reply_is_queued_at_once_in_the_order_heard() -> None:
    synth, wire = Synth(), Wire()
    voice, _ = _voice(synth, wire)
    then = "If anything changes, you can reach us at {customer_name}. Goodbye."
    reply = [_say(PROMISE["en-US"]), _say(then, say_id="confirm_promise.say.1")]
    for say in reply:
        voice.speak(Speak(say))
    await asyncio.sleep(0)  # the jobs start; none has finished (the synthesiser holds them all)
    texts = [text for text, _, _ in synth.asked]
    assert texts == ["Thank you.", "I've noted that you plan to pay", "one hundred twenty dollars",
                     "on December fifth.", "If anything changes,", "you can reach us at", "John Smith.",
                     "Goodbye."]  # script words not rendered yet go by clause
    dues = [due for _, _, due in synth.asked if due is not None]
    assert len(dues) == len(synth.asked) and dues == sorted(dues)  # soonest heard, soonest due
    assert len(set(dues)) == len(dues)
    assert {priority for _, priority, _ in synth.asked} == {"high"}
    synth.release.set()


async def test_constant_units_come_from_the_cache() -> None:
    synth, wire = Synth(), Wire()
    voice, cache = _voice(synth, wire)
    synth.release.set()
    await cache.get("en-US", "Thank you.")  # warmed at start-up, like every constant unit
    await cache.get("en-US", "I've noted that you plan to pay")
    before = len(synth.asked)
    voice.speak(Speak(_say(PROMISE["en-US"])))
    await asyncio.sleep(0)
    asked = [text for text, _, _ in synth.asked[before:]]
    assert asked == ["one hundred twenty dollars", "on December fifth."]  # only what has this call's values
    assert cache.hits == 2


@pytest.mark.looptime
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_joined_units_are_exactly_what_the_customer_should_hear(locale: str) -> None:
    synth, wire = Synth(), Wire()
    voice, _ = _voice(synth, wire, locale)
    synth.release.set()
    say = _say(PROMISE[locale], locale)
    units = voice.units(say)
    player = asyncio.create_task(voice.run())
    utt = voice.speak(Speak(say))
    await asyncio.wait_for(utt.done.wait(), 30)
    player.cancel()
    heard = np.concatenate(wire.frames)
    cores = [_unit_audio(u.text)[1] for u in units]
    # what is voiced, in order, is each unit's voice once: nothing missing, nothing repeated
    loud = np.flatnonzero(np.abs(heard.astype(np.int32)) >= 8000)
    assert len(loud)
    voiced = heard[loud[0] : loud[-1] + 1]
    found, at = [], 0
    for core in cores:
        hit = _find(voiced, core, at)
        assert hit is not None, "a unit's audio is missing or cut"
        found.append(hit)
        at = hit + len(core)
    assert found[0] == 0 and at == len(voiced)
    assert _silent_between(voiced, found, cores)
    # the silence at each join is the pause the sentence wants there, not the units' own padding
    for (end, start), unit in zip(_joins(found, cores), units[1:], strict=True):
        gap_ms = (start - end) / 16
        wanted = unit.pause_ms if unit.pause_ms is not None else 500  # a new sentence keeps its padding
        assert gap_ms <= wanted + 2 * WINDOW_MS  # silence is found in windows
        if unit.pause_ms is not None:
            assert gap_ms >= unit.pause_ms - 2 * FADE_MS


def _find(haystack: np.ndarray, needle: np.ndarray, start: int) -> int | None:
    """Where `needle` occurs exactly in `haystack` at or after `start`."""
    first = np.flatnonzero(haystack[start:] == needle[0]) + start
    for i in first:
        if i + len(needle) <= len(haystack) and np.array_equal(haystack[i : i + len(needle)], needle):
            return int(i)
    return None


def _joins(found: list[int], cores: list[np.ndarray]) -> list[tuple[int, int]]:
    return [(found[i] + len(cores[i]), found[i + 1]) for i in range(len(cores) - 1)]


def _silent_between(voiced: np.ndarray, found: list[int], cores: list[np.ndarray]) -> bool:
    """Between the cores there is only quiet (faded hiss and the pauses)."""
    joins = _joins(found, cores)
    return all(np.abs(voiced[end:start].astype(np.int32)).max(initial=0) < 200 for end, start in joins)


def test_a_join_is_trimmed_to_the_pause_and_starts_and_ends_without_a_click() -> None:
    padded, core = _unit_audio("on December fifth.", lead_ms=400, tail_ms=400)
    tail = shape(padded, lead_ms=None, trim_tail=True)
    head = shape(padded, lead_ms=WORD_PAUSE_MS, trim_tail=False)
    joined = np.concatenate([tail, head])
    span = voiced_span(joined[len(tail):])
    assert span is not None
    quiet_ms = (len(tail) - (voiced_span(tail) or (0, 0))[1] + span[0]) / 16
    assert WORD_PAUSE_MS - 2 * FADE_MS <= quiet_ms <= WORD_PAUSE_MS + 2 * WINDOW_MS
    assert abs(int(tail[-1])) <= 40 and abs(int(head[0])) <= 40  # cut where it is quiet, faded to zero
    assert _find(tail, core, 0) is not None and _find(head, core, 0) is not None  # the voice untouched
    assert np.array_equal(shape(padded, lead_ms=None, trim_tail=False), padded)  # a whole sentence as it is


def test_a_soft_onset_and_a_decaying_tail_under_the_threshold_are_kept() -> None:
    onset = np.linspace(5, 95, 16 * 35).astype(np.int16)  # an aspiration rising for 35 ms (请 q, "th")
    decay = np.linspace(95, 5, 16 * 30).astype(np.int16)
    _, core = _unit_audio("请")
    quiet = np.zeros(16 * 300, dtype=np.int16)
    shaped = shape(np.concatenate([quiet, onset, core, decay, quiet]), lead_ms=WORD_PAUSE_MS, trim_tail=True)
    assert _find(shaped, np.concatenate([onset, core, decay]), 0) is not None
    assert len(shaped) < 16 * 200 + len(onset) + len(core) + len(decay)  # the long quiet is gone


async def test_a_sentence_only_prerendered_at_low_priority_is_cut_when_its_words_are_cached() -> None:
    synth, wire = Synth(), Wire()
    voice, cache = _voice(synth, wire)
    synth.release.set()
    await cache.get("en-US", "If anything changes, you can reach us at")  # warmed: the same on every call
    synth.release.clear()
    say = _say("If anything changes, you can reach us at {customer_name}.")
    cache.prefetch("en-US", say.text, priority="low")  # the likely next sentence, queued behind others
    await asyncio.sleep(0)
    voice.speak(Speak(say))
    await asyncio.sleep(0)
    assert [text for text, _, _ in synth.asked[2:]] == ["John Smith."]  # only the value is rendered now
    assert not cache.pending("en-US", say.text)  # nobody will wait for the whole any more
    promise = _say(PROMISE["en-US"])
    whole = sentence_text(promise.sentences[1])
    cache.prefetch("en-US", whole, priority="low")
    assert voice.units(promise)[1:] == [Unit(whole)]  # nothing of it cached to start with: promoted whole
    needed = _say("Am I speaking with {customer_name}?")
    cache.prefetch("en-US", needed.text, priority="high")  # the opening a grant queued: someone needs it
    assert voice.units(needed) == [Unit(needed.text)]
