"""Silero VAD on real synthesised speech embedded in silence and noise."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from agent.audio.frames import split_frames
from agent.audio.vad import SileroVad, VadFrame

pytestmark = pytest.mark.models

PHRASES = ["Yes, this is John speaking.", "I will pay on Friday the fifteenth."]


def run_vad(model: SileroVad, pcm: np.ndarray) -> list[VadFrame]:
    stream = model.stream()
    return [stream.push(f) for f in split_frames(pcm)]


def test_model_io_is_silero_v5(vad_model: SileroVad) -> None:
    shapes = {i.name: i.shape for i in vad_model.session.get_inputs()}
    assert set(shapes) == {"input", "state", "sr"}
    assert shapes["state"][0] == 2 and shapes["state"][2] == 128
    assert [o.name for o in vad_model.session.get_outputs()] == ["output", "stateN"]


@pytest.mark.parametrize("text", PHRASES)
def test_speech_in_silence_is_found(vad_model: SileroVad, piper_en, text: str) -> None:  # type: ignore[no-untyped-def]
    speech = piper_en.synthesize(text).pcm16k
    lead, tail = 16000, 16000  # 1 s of silence each side
    rng = np.random.default_rng(1)
    pcm = np.concatenate([np.zeros(lead, np.int16), speech, np.zeros(tail, np.int16)])
    pcm = (pcm + rng.normal(0, 30, len(pcm))).clip(-32768, 32767).astype(np.int16)  # line hiss
    frames = run_vad(vad_model, pcm)
    # Ground truth from the synthesised signal's own energy envelope (20 ms frames).
    truth = [
        float(np.sqrt(np.mean(f.astype(np.float64) ** 2))) > 200
        for f in split_frames(np.concatenate([np.zeros(lead, np.int16), speech, np.zeros(tail, np.int16)]))
    ]
    first, last = truth.index(True), len(truth) - 1 - truth[::-1].index(True)
    region = [first <= i <= last for i in range(len(truth))]
    # Allow for VAD onset latency (one 32 ms window) and a hangover after speech.
    scored = [i for i in range(len(frames)) if not (first - 1 <= i <= first + 3 or last - 1 <= i <= last + 8)]
    accuracy = np.mean([frames[i].speech == region[i] for i in scored])
    assert accuracy > 0.9, accuracy
    assert not any(f.speech for f in frames[: first - 2])
    assert not any(f.speech for f in frames[last + 15 :])
    assert max(f.prob for f in frames) > 0.9


def test_silence_and_noise_are_not_speech(vad_model: SileroVad) -> None:
    rng = np.random.default_rng(0)
    for pcm in (np.zeros(48000, np.int16), rng.normal(0, 800, 48000).astype(np.int16)):
        assert not any(f.speech for f in run_vad(vad_model, pcm))


def test_hysteresis_and_reset(vad_model: SileroVad, piper_en) -> None:  # type: ignore[no-untyped-def]
    stream = vad_model.stream(enter=0.5, leave=0.35)
    speech = piper_en.synthesize("Please stop calling me.").pcm16k
    results = [stream.push(f) for f in split_frames(speech)]
    assert any(r.speech for r in results)
    for prev, cur in itertools.pairwise(results):
        if prev.speech:  # in speech: stays on until the probability drops below `leave`
            assert cur.speech == (cur.prob >= 0.35)
        else:  # out of speech: turns on only at `enter`
            assert cur.speech == (cur.prob >= 0.5)
    stream.reset()
    assert stream.push(np.zeros(320, np.int16)) == VadFrame(0.0, False)


def test_thresholds_validated(vad_model: SileroVad) -> None:
    with pytest.raises(ValueError):
        vad_model.stream(enter=0.3, leave=0.5)


def test_frame_time_is_small(vad_model: SileroVad) -> None:
    stream = vad_model.stream()
    frames = split_frames(np.random.default_rng(2).normal(0, 1000, 16000 * 5).astype(np.int16))
    started = time.perf_counter()
    for f in frames:
        stream.push(f)
    per_frame_ms = (time.perf_counter() - started) * 1000 / len(frames)
    assert per_frame_ms < 5.0, per_frame_ms
