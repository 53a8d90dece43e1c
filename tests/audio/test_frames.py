"""20 ms framing of arbitrary chunks."""

from __future__ import annotations

import numpy as np
import pytest

from agent.audio.frames import FRAME_BYTES, FRAME_MS, FRAME_SAMPLES, Framer, frame_samples, split_frames


def test_constants() -> None:
    assert (FRAME_MS, FRAME_SAMPLES, FRAME_BYTES) == (20, 320, 640)
    assert frame_samples(8000) == 160 and frame_samples(24000) == 480
    with pytest.raises(ValueError):
        frame_samples(11025)


def test_framer_rechunks_odd_sizes_exactly() -> None:
    pcm = np.arange(5000, dtype=np.int16)
    framer = Framer()
    frames: list[np.ndarray] = []
    raw = pcm.tobytes()
    pos = 0
    for size in [1, 3, 639, 640, 641, 1000, 7, 2000]:
        frames += framer.push(raw[pos : pos + size])
        pos += size
    frames += framer.push(pcm[pos // 2 :] if pos % 2 == 0 else raw[pos:])
    assert all(len(f) == 320 and f.dtype == np.int16 for f in frames)
    assert len(frames) == 5000 // 320
    assert np.array_equal(np.concatenate(frames), pcm[: len(frames) * 320])
    assert framer.pending_samples == 5000 - len(frames) * 320
    last = framer.flush()
    assert last is not None and len(last) == 320
    assert np.array_equal(last[: 5000 % 320], pcm[-(5000 % 320) :])
    assert not last[5000 % 320 :].any()
    assert framer.flush() is None


def test_framer_at_8k() -> None:
    framer = Framer(8000)
    assert [len(f) for f in framer.push(np.zeros(400, np.int16))] == [160, 160]


def test_split_frames_pads() -> None:
    frames = split_frames(np.ones(700, np.int16))
    assert [len(f) for f in frames] == [320, 320, 320]
    assert frames[-1][:60].all() and not frames[-1][60:].any()
    assert split_frames(np.zeros(0, np.int16)) == []
