"""Kokoro's clause trimming (pure: synthetic audio, no model)."""

from __future__ import annotations

import numpy as np

from agent.tts.kokoro_tts import LEAD_MS, SILENCE, TAIL_MS, trim

RATE = 24000


def _clause(onset_ms: int = 40) -> np.ndarray:
    """0.4 s of exact silence, a weak onset rising 0.001 → 0.02 over onset_ms, 0.3 s of speech, silence."""
    ramp = np.linspace(0.001, 0.02, RATE * onset_ms // 1000, dtype=np.float32)
    body = (0.3 * np.sin(np.arange(RATE * 3 // 10) / 5.0)).astype(np.float32)
    silence = np.zeros(RATE * 4 // 10, dtype=np.float32)
    return np.concatenate((silence, ramp, body, silence))


def test_the_weak_onset_of_an_aspirated_initial_is_kept() -> None:
    audio = _clause()
    out = trim(audio, 200)
    # every sample of the onset above the silence floor survives, and at most LEAD_MS of silence before it
    assert np.count_nonzero(np.abs(out) > SILENCE) == np.count_nonzero(np.abs(audio) > SILENCE)
    first = np.flatnonzero(np.abs(out) > SILENCE)[0]
    assert first == RATE * LEAD_MS // 1000  # LEAD_MS of the quiet start (0.001 … SILENCE) before it
    assert np.abs(out[:first]).max() > 0  # and that quiet start is the ramp itself, not added silence


def test_the_pause_after_a_clause_is_its_punctuation_pause() -> None:
    audio = _clause()
    for pause_ms in (120, 200, 260):
        out = trim(audio, pause_ms)
        last_sound = np.flatnonzero(np.abs(out) > 0)[-1]
        assert len(out) - 1 - last_sound >= RATE * (pause_ms - TAIL_MS) // 1000
        assert len(out) - 1 - last_sound <= RATE * pause_ms // 1000


def test_silence_alone_trims_to_nothing() -> None:
    assert len(trim(np.zeros(RATE, dtype=np.float32), 200)) == 0
    assert len(trim(np.full(RATE, SILENCE / 2, dtype=np.float32), 200)) == 0
