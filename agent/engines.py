"""Process-wide model engines: VAD, one recogniser and one synthesiser per locale, and the pool."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    from agent.config import Settings

from agent.asr.base import SpeechRecognizer, Transcript
from agent.asr.whisper import WhisperRecognizer
from agent.audio.vad import SileroVad, VadStream
from agent.audio.vad_worker import VadWorker, WorkerVadStream
from agent.models.resolver import ResolvedModel, resolve
from agent.tts.base import Speech, SpeechSynthesizer
from agent.tts.disk_cache import CachedSynthesizer, ClauseSynthesizer, DiskCache
from agent.workers import PoolClosed, PoolOverloaded, Priority, WorkerPool

log = logging.getLogger(__name__)

T = TypeVar("T")

SUPPORTED_LOCALES = ("en-US", "zh-CN")
ZH_BEAM_SIZE = 5
"""Default beam width of the zh-CN recogniser (engines.zh_asr_beam_size). On real recorded
Mandarin (scripts/zh_asr_eval.py, docs/models.md) beam 5 cut CER from 18.0 % to 14.3 % at
16 kHz and from 29.2 % to 21.7 % over 8 kHz μ-law, against greedy. No default prompt:
'以下是普通话的句子。' only steered whisper to Simplified characters, which OpenCC now
guarantees, and it cost CER."""
ZH_WINDOW_S = 6.0
"""Default shortest encoder window of the zh-CN recogniser (engines.zh_asr_window_s); en-US keeps
whisper.WINDOW_MIN_S (10 s). In the zh bench on a quiet box 6 s cut ASR p50 from 344 to 197 ms
(1 call) and from 499 to 200 ms (8 calls); it lost one dev6 opt-out of 111 through audio and
was within a few characters on real clips, while 4 s made whisper repeat itself and lost five
(scripts/zh_window_cost.py, scripts/nlu_audio_eval.py, voice-agent bench; docs/models.md)."""
EN_BEAM_SIZE = 5
"""Default beam width of the en-US recogniser (engines.en_asr_beam_size). Through the line
(scripts/nlu_audio_eval.py, listener feed, 8 kHz μ-law, every 2nd row of
tests/nlu/train/corpus_en-US_trainB.tsv, n = 282) beam 5 raised opt-out recall from 0.925 to
0.950 at the same false opt-outs (0.008) and lost the first word of 12 lines instead of 19,
for about 65 ms more decode per turn (tiny.en, 1 thread: 259 → 324 ms wall, 361 → 429 ms CPU
per clip). Measured 2026-12-02, load 0.5-2.5."""

RUNNER_UPS = 4
"""Next-best readings a final turn's beam decode keeps (engines.asr_runner_ups) for the NLU's
runner-up doubt (agent.nlu.runner_up): an opt-out only a runner-up heard is asked about. Through
the line (scripts/nlu_audio_eval.py --paired, listener feed, 8 kHz mu-law; tests/nlu/dev6 and every
2nd / 8th row of trainB) opt-out recall rose 262 -> 266 of 274 en-US and 145 -> 155 of 169 zh-CN, false
opt-outs 3 -> 4 of 286 en-US (the new one a doubt: asked, not persisted) and 1 -> 1 of 197 zh-CN.
The best reading was the same on all 926 clips and the decode cost the same within noise (en
389 vs 390 ms, zh 806 vs 793 ms a clip, order alternating, load 3-9); the rules read the
runner-ups for ~2-7 ms more NLU a turn. Measured 2026-12-03."""


@dataclass(frozen=True, slots=True)
class LocaleEngines:
    """The recogniser and synthesiser serving one locale."""

    asr: SpeechRecognizer
    tts: SpeechSynthesizer


@dataclass(slots=True)
class Engines:
    """Models loaded once per process and shared by every call; model work runs in the pool."""

    vad: SileroVad
    locales: dict[str, LocaleEngines]
    pool: WorkerPool
    models: dict[str, ResolvedModel] = field(default_factory=dict)
    load_ms: dict[str, int] = field(default_factory=dict)
    vad_worker: VadWorker | None = None  # runs every call's VAD off the event loop (None: inline, per frame)

    @classmethod
    def from_settings(cls, settings: Settings) -> Engines:
        """Load what the configuration asks for (engines.* and models.* keys)."""
        eng = settings.engines
        return cls.load(
            eng.locales,
            models_dir=settings.models.dir,
            overrides=settings.models.paths,
            asr_threads=eng.asr_threads,
            pool_workers=eng.pool_workers,
            pool_queue=eng.pool_queue,
            zh_voice=eng.zh_voice,
            zh_speed=eng.zh_speed,
            tts_cache_dir=eng.tts_cache_dir,
            tts_cache_mb=eng.tts_cache_mb,
            zh_asr_beam_size=eng.zh_asr_beam_size,
            en_asr_beam_size=eng.en_asr_beam_size,
            asr_runner_ups=eng.asr_runner_ups,
            vad_thread=eng.vad_thread,
            zh_asr_window_s=eng.zh_asr_window_s,
        )

    @classmethod
    def load(
        cls,
        locales: Sequence[str],
        *,
        models_dir: Path = Path("models"),
        overrides: Mapping[str, Path] | None = None,
        asr_threads: int = 1,
        pool_workers: int = 2,
        pool_queue: int = 64,
        zh_voice: str | None = None,
        zh_speed: float = 1.0,
        tts_cache_dir: Path | None = None,
        tts_cache_mb: int = 512,
        zh_asr_beam_size: int = ZH_BEAM_SIZE,
        en_asr_beam_size: int = EN_BEAM_SIZE,
        asr_runner_ups: int = RUNNER_UPS,
        vad_thread: bool = True,
        zh_asr_window_s: float = ZH_WINDOW_S,
    ) -> Engines:
        """Resolve and load every model the locales need (blocking; call once at start-up)."""
        wanted = list(dict.fromkeys(["en-US", *locales]))
        unknown = [loc for loc in wanted if loc not in SUPPORTED_LOCALES]
        if unknown:
            raise ValueError(f"unsupported locale(s) {unknown}; choose from {list(SUPPORTED_LOCALES)}")
        models: dict[str, ResolvedModel] = {}
        load_ms: dict[str, int] = {}

        def get(name: str) -> ResolvedModel:
            models[name] = resolve(name, models_dir=models_dir, overrides=overrides)
            return models[name]

        def timed(label: str, make: Callable[[], T]) -> T:
            started = time.perf_counter()
            obj = make()
            load_ms[label] = int((time.perf_counter() - started) * 1000)
            return obj

        vad = timed("vad", partial(SileroVad, get("vad").path))
        engines: dict[str, LocaleEngines] = {}
        for loc in wanted:
            if loc == "en-US":
                asr_model, language, prompt = get("asr-en"), "en", None
            else:
                asr_model, language, prompt = get("asr-multi"), "zh", None
            asr: SpeechRecognizer = timed(
                f"asr:{loc}",
                partial(
                    WhisperRecognizer,
                    asr_model.path,
                    language,
                    cpu_threads=asr_threads,
                    num_workers=pool_workers,
                    default_prompt=prompt,
                    beam_size=zh_asr_beam_size if language == "zh" else en_asr_beam_size,
                    runner_ups=asr_runner_ups,
                    window_min_s=zh_asr_window_s if language == "zh" else None,
                ),
            )
            tts_model = get("tts-en" if loc == "en-US" else "tts-zh")
            tts = timed(f"tts:{loc}", partial(_load_tts, tts_model, voice=zh_voice, speed=zh_speed))
            if tts_cache_dir is not None and isinstance(tts, ClauseSynthesizer):
                tts = CachedSynthesizer(tts, DiskCache(Path(tts_cache_dir), tts_cache_mb << 20))
            engines[loc] = LocaleEngines(asr, tts)
        pool = WorkerPool(pool_workers, pool_queue)
        log.info("engines loaded for %s: %s", wanted, load_ms)
        return cls(vad, engines, pool, models, load_ms, VadWorker(vad) if vad_thread else None)

    def _locale(self, locale: str) -> LocaleEngines:
        """Engines for a loaded locale."""
        try:
            return self.locales[locale]
        except KeyError:
            raise KeyError(f"locale {locale} is not loaded; add it to engines.locales in config") from None

    async def transcribe(
        self, locale: str, pcm16k: np.ndarray, hint: str | None = None, partial: bool = False
    ) -> Transcript:
        """Recognise one customer segment; running (partial) transcripts go at low priority."""
        asr = self._locale(locale).asr
        priority: Priority = "low" if partial else "high"
        return await self.pool.run(asr.transcribe, pcm16k, hint, partial, priority=priority)

    async def synthesize(
        self, locale: str, text: str, priority: str = "high", *, due: float | None = None
    ) -> Speech:
        """Render agent speech; priority='low' for speculative pre-rendering, `due` = when it is heard."""
        tts = self._locale(locale).tts
        level: Priority = "low" if priority == "low" else "high"
        return await self.pool.run(tts.synthesize, text, priority=level, due=due)

    def busy(self) -> bool:
        """True while model jobs wait for a worker (running transcripts are then skipped)."""
        return self.pool.queue_depth > 0

    async def synthesize_clauses(
        self, locale: str, text: str, priority: Priority = "high"
    ) -> AsyncIterator[Speech]:
        """Render text clause by clause, yielding each clause's audio as soon as it is ready.

        Played back to back, the clauses are the same audio as `synthesize` returns. A clause
        already in the disk cache is yielded without queueing in the pool; the rest are
        rendered one pool job each, so the first clause of a long sentence can play while
        the others render. A synthesiser without clauses yields the whole text as one piece.
        """
        tts = self._locale(locale).tts
        if not isinstance(tts, ClauseSynthesizer):
            yield await self.pool.run(tts.synthesize, text, priority=priority)
            return
        for clause in tts.clauses(text):
            cached = tts.cached_clause(clause) if isinstance(tts, CachedSynthesizer) else None
            yield cached if cached is not None else await self.pool.run(
                tts.synthesize_clause, clause, priority=priority
            )

    def keep_on_disk(self, texts: Mapping[str, Sequence[str]]) -> None:
        """Locale -> the text that sounds the same on every call: the only audio the disk cache keeps."""
        for locale, said in texts.items():
            tts = self.locales.get(locale)
            if tts is not None and isinstance(tts.tts, CachedSynthesizer):
                tts.tts.keep_only(said)

    def start_prefill(self, sentences: Mapping[str, Sequence[str]]) -> Future[int]:
        """Render, one low-priority pool job at a time, every clause missing from the disk cache.

        `sentences` maps locale → sentences (the slot-free sentences of the loaded scripts, see
        agent.dialogue.presynth.slot_free_sentences).
        Returns a future resolved with the number of clauses rendered;
        locales without a disk cache are skipped. Thread-safe; needs no event loop.
        """
        todo: list[tuple[CachedSynthesizer, str]] = []
        for locale, texts in sentences.items():
            tts = self.locales.get(locale)
            if tts is not None and isinstance(tts.tts, CachedSynthesizer):
                cached = tts.tts
                todo += [(cached, c) for c in dict.fromkeys(c for t in texts for c in cached.missing(t))]
        done: Future[int] = Future()
        rendered = 0

        def next_job(_: object = None) -> None:
            nonlocal rendered
            if not todo:
                done.set_result(rendered)
                log.info("tts prefill: %d clause(s) rendered to the disk cache", rendered)
                return
            tts, clause = todo.pop(0)
            try:
                job = self.pool.submit(tts.synthesize_clause, clause, priority="low")
            except (PoolClosed, PoolOverloaded) as exc:
                log.warning("tts prefill stopped with %d clause(s) left: %s", len(todo) + 1, exc)
                done.set_result(rendered)
                return
            rendered += 1
            job.add_done_callback(next_job)

        next_job()
        return done

    def new_vad_stream(self, *, enter: float = 0.5, leave: float = 0.35) -> VadStream | WorkerVadStream:
        """A fresh per-call VAD stream sharing the process-wide model (on the VAD thread if there is one)."""
        if self.vad_worker is not None:
            return self.vad_worker.stream(enter=enter, leave=leave)
        return self.vad.stream(enter=enter, leave=leave)

    def close(self) -> None:
        """Stop the pool and the VAD thread; models are freed with the object."""
        self.pool.shutdown(wait=True, cancel_pending=True)
        if self.vad_worker is not None:
            self.vad_worker.close()


def _load_tts(model: ResolvedModel, *, voice: str | None = None, speed: float = 1.0) -> SpeechSynthesizer:
    """Kokoro for the Mandarin folder, Piper for an .onnx voice, espeak-ng when that is what resolved.

    `voice` and `speed` pick the Kokoro voice and rate (engines.zh_voice, engines.zh_speed); Piper and
    espeak-ng have one voice each, at their own rate.
    """
    if model.source == "espeak-ng":
        from agent.tts.espeak_tts import EspeakSynthesizer

        log.warning("zh-CN speaks with the espeak-ng fallback; install Kokoro (make setup) for a real voice")
        return EspeakSynthesizer(binary=model.path)
    if model.name == "tts-zh":
        from agent.tts.kokoro_tts import DEFAULT_VOICE, KokoroSynthesizer

        return KokoroSynthesizer(model.path, voice or DEFAULT_VOICE, speed=speed)
    from agent.tts.piper_tts import PiperSynthesizer

    return PiperSynthesizer(model.path)
