"""Scripted customer speech: frames that carry their own VAD probability and words.

A scripted line is a run of 20 ms frames whose first samples are a header: the speech
probability the fake VAD reports (x 10 000), the line's id and the frame's index in the
line. Silence is all zeros (probability 0). The fake recogniser reads the headers of the
segment it is given and answers with the words of the lines present, in proportion to
how much of each line it got, so partial transcripts grow as the customer speaks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from agent.audio.frames import FRAME_SAMPLES

PROB_SCALE = 10000


@dataclass(frozen=True, slots=True)
class Line:
    """One scripted stretch of customer audio and what a recogniser hears in it."""

    line_id: int
    text: str  # what the recogniser returns for the whole line ("" for noise)
    frames: int


class SpeechBook:
    """Makes scripted lines and reads them back out of audio (shared by customer, VAD and ASR)."""

    def __init__(self) -> None:
        self._lines: dict[int, Line] = {}

    def line(self, text: str, ms: int, *, prob: float = 0.9) -> np.ndarray:
        """`ms` of speech heard as `text` (empty text: a noise such as a cough), as 16 kHz PCM."""
        frames = max(1, ms // 20)
        line = Line(len(self._lines) + 1, text, frames)
        self._lines[line.line_id] = line
        pcm = np.zeros((frames, FRAME_SAMPLES), dtype=np.int16)
        pcm[:, 0] = round(prob * PROB_SCALE)
        pcm[:, 1] = line.line_id
        pcm[:, 2] = np.arange(frames)
        return pcm.reshape(-1)

    @staticmethod
    def silence(ms: int) -> np.ndarray:
        """`ms` of digital silence."""
        return np.zeros(max(1, ms // 20) * FRAME_SAMPLES, dtype=np.int16)

    @staticmethod
    def prob(frame: np.ndarray) -> float:
        """The speech probability a frame was scripted with (0 for silence or foreign audio)."""
        if len(frame) < 3 or frame[1] <= 0:
            return 0.0
        return float(frame[0]) / PROB_SCALE

    def words(self, pcm: np.ndarray) -> str:
        """What a recogniser hears in `pcm`: each line's words, in proportion to its frames present."""
        usable = len(pcm) - len(pcm) % FRAME_SAMPLES
        frames = pcm[:usable].reshape(-1, FRAME_SAMPLES)
        seen: dict[int, int] = {}
        for frame in frames:
            line_id = int(frame[1])
            if line_id in self._lines and frame[0] > 0:
                seen[line_id] = seen.get(line_id, 0) + 1
        out: list[str] = []
        for line_id, count in seen.items():
            line = self._lines[line_id]
            words = line.text.split()
            share = count / line.frames
            keep = len(words) if share >= 0.9 else math.floor(len(words) * share)
            out.extend(words[:keep])
        return " ".join(out)
