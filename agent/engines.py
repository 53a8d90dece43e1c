"""Process-wide model engines: VAD, one recogniser and one synthesiser per locale, and the pool."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np

from agent.asr.base import SpeechRecognizer, Transcript
from agent.asr.whisper import WhisperRecognizer
from agent.audio.vad import SileroVad, VadStream
from agent.models.resolver import ResolvedModel, resolve
from agent.tts.base import Speech, SpeechSynthesizer
from agent.workers import Priority, WorkerPool

log = logging.getLogger(__name__)

T = TypeVar("T")

SUPPORTED_LOCALES = ("en-US", "zh-CN")
ZH_DEFAULT_PROMPT = "以下是普通话的句子。"
"""Steers whisper to simplified-Chinese output with punctuation when no dialogue hint is given."""


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
        allow_hub: bool = False,
    ) -> Engines:
        """Resolve and load every model the locales need (blocking; call once at start-up)."""
        wanted = list(dict.fromkeys(["en-US", *locales]))
        unknown = [loc for loc in wanted if loc not in SUPPORTED_LOCALES]
        if unknown:
            raise ValueError(f"unsupported locale(s) {unknown}; choose from {list(SUPPORTED_LOCALES)}")
        models: dict[str, ResolvedModel] = {}
        load_ms: dict[str, int] = {}

        def get(name: str) -> ResolvedModel:
            models[name] = resolve(name, models_dir=models_dir, overrides=overrides, allow_hub=allow_hub)
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
                asr_model, language, prompt = get("asr-multi"), "zh", ZH_DEFAULT_PROMPT
            asr: SpeechRecognizer = timed(
                f"asr:{loc}",
                partial(
                    WhisperRecognizer,
                    asr_model.path,
                    language,
                    cpu_threads=asr_threads,
                    num_workers=pool_workers,
                    default_prompt=prompt,
                ),
            )
            tts_model = get("tts-en" if loc == "en-US" else "tts-zh")
            tts = timed(f"tts:{loc}", partial(_load_tts, tts_model))
            engines[loc] = LocaleEngines(asr, tts)
        pool = WorkerPool(pool_workers, pool_queue)
        log.info("engines loaded for %s: %s", wanted, load_ms)
        return cls(vad, engines, pool, models, load_ms)

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

    def new_vad_stream(self, *, enter: float = 0.5, leave: float = 0.35) -> VadStream:
        """A fresh per-call VAD stream sharing the process-wide model."""
        return self.vad.stream(enter=enter, leave=leave)

    def close(self) -> None:
        """Stop the pool; models are freed with the object."""
        self.pool.shutdown(wait=True, cancel_pending=True)


def _load_tts(model: ResolvedModel) -> SpeechSynthesizer:
    """Piper for any .onnx voice, espeak-ng Mandarin when that is what resolved."""
    if model.source == "espeak-ng":
        from agent.tts.espeak_tts import EspeakSynthesizer

        return EspeakSynthesizer(binary=model.path)
    from agent.tts.piper_tts import PiperSynthesizer

    return PiperSynthesizer(model.path)
