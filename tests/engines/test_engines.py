"""Engines: shared models, pool-backed async calls, per-call VAD streams."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from agent.audio.frames import split_frames
from agent.audio.vad import VadFrame
from tests.conftest import missing_prerequisite

pytestmark = pytest.mark.models


@pytest.mark.asyncio
async def test_en_round_trip(engines_en) -> None:  # type: ignore[no-untyped-def]
    assert set(engines_en.locales) == {"en-US"}
    assert {"vad", "asr:en-US", "tts:en-US"} <= set(engines_en.load_ms)
    assert engines_en.models["asr-en"].source == "package"
    speech = await engines_en.synthesize("en-US", "Please stop calling me.")
    heard = await engines_en.transcribe("en-US", speech.pcm16k)
    assert "stop calling me" in heard.text.lower()
    vad = engines_en.vad.stream()
    assert any(vad.push(f).speech for f in split_frames(speech.pcm16k))
    frames = split_frames(speech.pcm16k)
    verdicts: list[bool] = []
    done = asyncio.Event()

    def heard_frame(verdict: VadFrame) -> None:
        verdicts.append(verdict.speech)
        if len(verdicts) == len(frames):
            done.set()

    stream = engines_en.new_vad_stream()  # on the VAD thread (engines.vad_thread, the default)
    for frame in frames:
        stream.submit(frame, heard_frame)
    await asyncio.wait_for(done.wait(), 30)
    assert any(verdicts)


@pytest.mark.asyncio
async def test_concurrent_calls_share_models(engines_en) -> None:  # type: ignore[no-untyped-def]
    """Jobs of several calls at once on the shared models give what each gives alone.

    Compared with the same audio transcribed one at a time (not with expected words: Piper
    samples noise per call and whisper may hear "goodbye" as "bye bye"; that is not the point).
    """
    texts = ["Yes.", "No.", "Friday.", "Goodbye."]
    speeches = await asyncio.gather(*(engines_en.synthesize("en-US", t, priority="low") for t in texts))
    alone = [await engines_en.transcribe("en-US", s.pcm16k) for s in speeches]
    together = await asyncio.gather(*(engines_en.transcribe("en-US", s.pcm16k) for s in speeches))
    assert [h.text for h in together] == [h.text for h in alone]
    assert all(h.text.strip() for h in together)
    assert engines_en.new_vad_stream() is not engines_en.new_vad_stream()


@pytest.mark.asyncio
async def test_unknown_locale(engines_en) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KeyError, match=r"engines\.locales"):
        await engines_en.transcribe("zh-CN", np.zeros(1600, np.int16))


def test_bad_locale_refused(models_dir: Path) -> None:
    from agent.engines import Engines

    with pytest.raises(ValueError, match="unsupported locale"):
        Engines.load(["fr-FR"], models_dir=models_dir)


@pytest.mark.asyncio
async def test_zh_cn_engines(models_dir: Path, tmp_path: Path) -> None:
    from agent.engines import Engines
    from agent.models.resolver import MissingModelError
    from agent.tts.disk_cache import CachedSynthesizer

    try:
        engines = Engines.load(["zh-CN"], models_dir=models_dir, pool_workers=1, pool_queue=4,
                               zh_voice="zm_yunxi", tts_cache_dir=tmp_path / "tts")
    except MissingModelError as exc:
        missing_prerequisite(f"zh-CN models unavailable: {exc}")
    try:
        assert set(engines.locales) == {"en-US", "zh-CN"}
        assert engines.models["asr-multi"].path == models_dir / "whisper-base"
        tts = engines.locales["zh-CN"].tts
        if engines.models["tts-zh"].source == "espeak-ng":
            missing_prerequisite("Kokoro not installed (make setup installs it); zh-CN speaks espeak-ng")
        assert isinstance(tts, CachedSynthesizer) and tts.voice == "zm_yunxi"
        speech = await engines.synthesize("zh-CN", "您好。")
        assert speech.duration_ms > 200
        text = "好的，已为您记录，如有变化可以拨打客服电话。"
        pieces = [p async for p in engines.synthesize_clauses("zh-CN", text)]
        assert len(pieces) == 2 and all(p.duration_ms > 300 for p in pieces)
        assert tts.missing(text) == []  # rendered once, now on disk
        rendered = engines.start_prefill({"zh-CN": [text, "请问您是本人吗？"], "en-US": ["Hello."]})
        assert rendered.result(timeout=300) == 1 and tts.missing("请问您是本人吗？") == []
        silent = await engines.transcribe("zh-CN", np.zeros(16000, np.int16))
        assert silent.text == "" and silent.language == "zh"
        heard = await engines.transcribe("zh-CN", speech.pcm16k)
        assert heard.language == "zh"
    finally:
        engines.close()


@pytest.mark.asyncio
async def test_a_final_turn_carries_runner_ups_a_running_one_none(engines_en, piper, phone_line) -> None:  # type: ignore[no-untyped-def]
    """The recogniser fills Transcript.runner_ups on a final beam decode: distinct, the same best reading."""
    asr = engines_en.locales["en-US"].asr
    assert asr.beam_size > 1 and asr.runner_ups >= 1
    line = phone_line(piper.synthesize("I can't pay right now, call me next week.").pcm16k)
    final = await engines_en.transcribe("en-US", line)
    assert final.runner_ups and len(final.runner_ups) <= asr.runner_ups
    readings = [final.text.lower(), *(r.lower() for r in final.runner_ups)]
    assert all(r.strip() for r in readings) and len(set(readings)) == len(readings)
    running = await engines_en.transcribe("en-US", line, partial=True)
    assert running.runner_ups == () and running.is_partial
    keep, asr.runner_ups = asr.runner_ups, 0
    try:
        plain = await engines_en.transcribe("en-US", line)
    finally:
        asr.runner_ups = keep
    assert plain.runner_ups == () and plain.text == final.text
