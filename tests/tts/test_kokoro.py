"""Kokoro-82M Mandarin: real model, 16 kHz int16 out, clauses, voices sharing one model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.models


def test_speaks_mandarin_at_16k(kokoro) -> None:  # type: ignore[no-untyped-def]
    sp = kokoro.synthesize("您好，请按时还款。")
    assert sp.sample_rate == 16000 and sp.pcm16k.dtype == np.int16
    assert 1000 < sp.duration_ms < 6000
    assert 3000 < int(np.abs(sp.pcm16k).max()) <= int(0.96 * 32767)
    assert len(kokoro.synthesize("  ").pcm16k) == 0


def test_clauses_played_in_turn_are_the_sentence(kokoro) -> None:  # type: ignore[no-untyped-def]
    text = "您好，我是安心金融的人工智能客服，本次通话使用的是合成语音。"
    parts = list(kokoro.synthesize_clauses(text))
    assert [p.text for p in parts] == kokoro.clauses(text) and len(parts) == 2
    whole = kokoro.synthesize(text)
    assert np.array_equal(np.concatenate([p.pcm16k for p in parts]), whole.pcm16k)
    assert parts[0].duration_ms < 0.75 * whole.duration_ms  # the first clause is ready well before the rest


def test_a_clause_ends_with_its_pause(kokoro) -> None:  # type: ignore[no-untyped-def]
    from agent.tts.kokoro_tts import PAUSE_MS

    pcm = kokoro.synthesize_clause("温馨提醒，").pcm16k
    tail = pcm[-16 * PAUSE_MS["，"] :]
    assert int(np.abs(tail).max()) < 200  # silence, not speech cut short


def test_another_voice_shares_the_model(kokoro) -> None:  # type: ignore[no-untyped-def]
    male = kokoro.with_voice("zm_yunxi")
    assert male._m is kokoro._m and male.voice == "zm_yunxi"
    assert male.fingerprint != kokoro.fingerprint
    a, b = kokoro.synthesize("再见。").pcm16k, male.synthesize("再见。").pcm16k
    assert len(a) and len(b) and not (len(a) == len(b) and np.array_equal(a, b))


def test_unknown_voice_names_the_choices(kokoro) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="zf_xiaobei"):
        kokoro.with_voice("zf_nobody")


def test_folder_without_the_model_says_how_to_install(tmp_path: Path) -> None:
    from agent.tts.kokoro_tts import KokoroSynthesizer

    with pytest.raises(FileNotFoundError, match="models install"):
        KokoroSynthesizer(tmp_path)


def test_heard_right_by_whisper_over_the_phone(kokoro, models_dir_asr: Path) -> None:  # type: ignore[no-untyped-def]
    """The reason for this voice: the recogniser understands it (espeak-ng was not understood)."""
    from agent.asr.whisper import WhisperRecognizer
    from agent.asr.zh_text import cer
    from agent.audio.codecs import ulaw_decode, ulaw_encode
    from agent.audio.resample import resample

    def phone_line(pcm: np.ndarray) -> np.ndarray:
        return resample(ulaw_decode(ulaw_encode(resample(pcm, 16000, 8000))), 8000, 16000)

    asr = WhisperRecognizer(models_dir_asr, "zh", cpu_threads=2)
    text = "如果您不希望再接到我们的电话，可以随时说不要再打了。"
    heard = asr.transcribe(phone_line(kokoro.synthesize(text).pcm16k)).text
    edits, n = cer(text, heard)
    assert edits <= 0.15 * n, heard  # the round-trip script measures the real figure



