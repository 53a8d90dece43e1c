"""The warm-up a server runs at start, before it reports ready and before it admits a call.

What the first call after a start waited on (`voice-agent bench`, cold start: 2.5 s to the
first word in en-US, seconds more in zh-CN) was the synthesis of its opening, queued at
the first grant, plus whatever a model does lazily on its first run. So, for every served
locale, this renders into the speech cache (and the TTS disk cache, where there is one)
every piece of every served script's opening that is the same on every call (slot-free
sentences, sentences completed by dialogue.constant_slots, the script's words between the
slots of the others: agent.call.script_units.opening_units, and those words in every
sentence of the default use case: constant_units), and runs one real inference of each
model a call uses: the synthesiser (those renders), the VAD and the recogniser on the first
rendered sentence, the NLU (its sentence encoder) on a short answer.

A model that fails here fails the warm-up (the server then never reports ready: a broken
model should not take calls); a piece that cannot be rendered is logged and skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from agent.audio.frames import FRAME_SAMPLES
from agent.call.script_units import constant_units, opening_units

if TYPE_CHECKING:
    from agent.call.ports import CallEngines
    from agent.call.speech_cache import SpeechCache
    from agent.dialogue.script import Script

log = logging.getLogger(__name__)

PROBE_ANSWER = {"en-US": "Yes, this is John.", "zh-CN": "对，是我。"}
"""What the NLU classifies once per locale (any short answer runs its encoder)."""


class WarmUpFailed(RuntimeError):
    """A model did not run at start-up; the server must not report ready."""


@dataclass(slots=True)
class WarmReport:
    """What the warm-up did: pieces rendered per locale, and how long each step took."""

    units: dict[str, int] = field(default_factory=dict)  # locale -> opening pieces now in the cache
    skipped: list[str] = field(default_factory=list)  # pieces that could not be rendered
    steps_ms: dict[str, int] = field(default_factory=dict)  # "tts:en-US" -> ms, ...
    seconds: float = 0.0


def served_openings(
    scripts: Mapping[tuple[str, str], Script], locales: Sequence[str],
    constants: Mapping[Any, Mapping[str, str]], default_use_case: str | None = None,
) -> dict[str, list[str]]:
    """Locale -> the opening pieces of every script it serves, in the order they are heard; then
    the script's words between the slots of the default use case's sentences (`constant_units`):
    else the first calls render them live inside a reply (measured: 1.25 s of silence after
    "Thank you." on the first call after a start, the words of "I've noted that you plan to pay
    {amount_due} on {promise_date}." still waiting in the low-priority warm-up)."""
    out: dict[str, dict[str, None]] = {locale: {} for locale in locales}
    for (_, locale), script in sorted(scripts.items()):
        if locale in out:
            out[locale].update(dict.fromkeys(opening_units(script, constants.get(locale, {}))))
    for (use_case, locale), script in sorted(scripts.items()):
        if locale in out and use_case == default_use_case:
            out[locale].update(dict.fromkeys(constant_units(script, constants.get(locale, {}))))
    return {locale: list(units) for locale, units in out.items()}


async def warm(
    engines: CallEngines, cache: SpeechCache, nlu: Mapping[str, Any],
    openings: Mapping[str, list[str]],
) -> WarmReport:
    """Render the openings and run every model once; raises WarmUpFailed if a model fails."""
    started = time.perf_counter()
    report = WarmReport()
    try:
        first = await asyncio.gather(*(_render(cache, loc, units, report) for loc, units in openings.items()))
        await _timed(report, "vad", _vad_probe(engines, next((p for p in first if len(p)), _tone())))
        for locale, pcm in zip(openings, first, strict=True):
            await _timed(report, f"asr:{locale}", engines.transcribe(locale, pcm if len(pcm) else _tone()))
            if locale in nlu:
                answer = PROBE_ANSWER.get(locale, PROBE_ANSWER["en-US"])
                await _timed(report, f"nlu:{locale}", asyncio.to_thread(nlu[locale].classify, answer, None))
    except WarmUpFailed:
        raise
    except Exception as exc:
        raise WarmUpFailed(f"a model failed its first run: {type(exc).__name__}: {exc}") from exc
    report.seconds = time.perf_counter() - started
    log.info("warm-up done in %.1fs: opening pieces cached %s, steps %s ms%s", report.seconds, report.units,
             report.steps_ms, f", {len(report.skipped)} skipped" if report.skipped else "")
    return report


async def _render(cache: SpeechCache, locale: str, units: list[str], report: WarmReport) -> np.ndarray:
    """Every piece into the cache, soonest heard first; returns the first piece's audio (may be empty)."""
    started = time.perf_counter()
    jobs = [cache.request(locale, unit, priority="high") for unit in units]
    first = np.zeros(0, dtype=np.int16)
    for i, (unit, job) in enumerate(zip(units, jobs, strict=True)):
        try:
            pcm = await job
        except Exception as exc:
            if i == 0:  # the synthesiser's own first run: a broken voice
                raise WarmUpFailed(f"{locale} synthesis failed: {type(exc).__name__}: {exc}") from exc
            log.warning("warm-up: could not render %r (%s)", unit, type(exc).__name__)
            report.skipped.append(unit)
            continue
        if i == 0:
            first = pcm
    report.units[locale] = sum(1 for unit in units if cache.cached(locale, unit))
    report.steps_ms[f"tts:{locale}"] = int((time.perf_counter() - started) * 1000)
    return first


async def _timed(report: WarmReport, step: str, job: Any) -> Any:
    started = time.perf_counter()
    result = await job
    report.steps_ms[step] = int((time.perf_counter() - started) * 1000)
    return result


async def _vad_probe(engines: CallEngines, pcm: np.ndarray) -> None:
    """Run a fresh VAD stream over real audio, frame by frame, as a call does; wait for every verdict."""
    stream = engines.new_vad_stream()
    starts = range(0, len(pcm) - FRAME_SAMPLES + 1, FRAME_SAMPLES)
    done = asyncio.get_running_loop().create_future()
    heard = 0

    def verdict(_: object) -> None:
        nonlocal heard
        heard += 1
        if heard == len(starts) and not done.done():
            done.set_result(None)

    for start in starts:
        stream.submit(np.ascontiguousarray(pcm[start : start + FRAME_SAMPLES], dtype=np.int16), verdict)
        await asyncio.sleep(0)  # an inline VAD runs on the loop: let the rest go on between frames
    if starts:
        await done
    stream.close()


def _tone(seconds: float = 0.5) -> np.ndarray:
    """A plain tone, for a locale whose opening rendered nothing."""
    t = np.arange(int(16000 * seconds)) / 16000
    return (3000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
