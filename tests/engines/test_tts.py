"""Piper and espeak-ng synthesis, sentence splitting, click-free edges."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from agent.tts.base import Speech, SpeechSynthesizer, fade_edges, split_sentences
from agent.tts.espeak_tts import parse_wav
from tests.conftest import missing_prerequisite


def test_split_sentences_en() -> None:
    assert split_sentences("Hello Mr. Smith. This is Anna! Can you pay $12.50 today? Thanks") == [
        "Hello Mr. Smith.",
        "This is Anna!",
        "Can you pay $12.50 today?",
        "Thanks",
    ]
    assert split_sentences("  ") == []
    assert split_sentences("One, two; three.") == ["One, two;", "three."]


def test_split_sentences_zh() -> None:
    assert split_sentences("您好。我是小王！请问您方便吗？好的") == [
        "您好。",
        "我是小王！",
        "请问您方便吗？",
        "好的",
    ]
    assert split_sentences("“好的。”谢谢") == ["“好的。”", "谢谢"]


def test_fade_edges() -> None:
    out = fade_edges(np.full(1600, 10000, np.int16))
    assert out[0] == 0 and out[-1] == 0 and out[800] == 10000
    assert len(fade_edges(np.zeros(1, np.int16))) == 1


def test_parse_wav_with_bogus_sizes() -> None:
    import struct

    pcm = np.array([1, -1, 300], np.int16).tobytes()
    header = (
        b"RIFF"
        + struct.pack("<I", 0x7FFFFFFF)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 22050, 44100, 2, 16)
    )
    data = header + b"data" + struct.pack("<I", 0x7FFFFFFF) + pcm
    samples, rate = parse_wav(data)
    assert rate == 22050 and samples.tolist() == [1, -1, 300]


@pytest.mark.models
def test_piper_synthesizes_16k(piper) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(piper, SpeechSynthesizer) and piper.native_rate == 22050
    sp = piper.synthesize("Hello, this is Anna from the credit union.")
    assert isinstance(sp, Speech) and sp.sample_rate == 16000 and sp.pcm16k.dtype == np.int16
    assert 1500 < sp.duration_ms < 5000
    assert abs(int(sp.pcm16k[0])) < 50 and abs(int(sp.pcm16k[-1])) < 50  # faded edges
    peak = int(np.abs(sp.pcm16k).max())
    assert 15000 < peak < 26000  # normalised with headroom for μ-law
    assert sp.compute_ms > 0


@pytest.mark.models
def test_piper_multi_sentence_and_empty(piper) -> None:  # type: ignore[no-untyped-def]
    one = piper.synthesize("Thank you.")
    two = piper.synthesize("Thank you. Goodbye.")
    assert two.duration_ms > one.duration_ms
    assert len(piper.synthesize("").pcm16k) == 0


@pytest.mark.models
def test_piper_round_trips_through_asr(piper, whisper_en) -> None:  # type: ignore[no-untyped-def]
    text = piper.synthesize("Can you confirm your date of birth?")
    assert "date of birth" in whisper_en.transcribe(text.pcm16k).text.lower()


def _need_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        missing_prerequisite("espeak-ng binary not on PATH (make setup installs it from Debian)")


def test_espeak_mandarin() -> None:
    from agent.tts.espeak_tts import EspeakSynthesizer

    _need_espeak()
    tts = EspeakSynthesizer()
    sp = tts.synthesize("您好，我是人工智能助理。")
    assert sp.sample_rate == 16000 and sp.pcm16k.dtype == np.int16 and sp.duration_ms > 1000
    assert np.abs(sp.pcm16k).max() > 3000
    assert len(tts.synthesize("  ").pcm16k) == 0


def test_espeak_bad_voice_says_what_to_do() -> None:
    from agent.tts.espeak_tts import EspeakSynthesizer

    _need_espeak()
    with pytest.raises(ValueError, match="espeak-ng --voices"):
        EspeakSynthesizer("no-such-voice-xyz")
