"""TTS protocol and shared helpers: 16 kHz int16 out, sentence splitting, click-free edges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

RATE = 16000
FADE_MS = 5


@dataclass(frozen=True, slots=True, eq=False)
class Speech:
    """Synthesised audio for one piece of text, 16 kHz mono int16."""

    pcm16k: np.ndarray
    text: str
    sample_rate: int = RATE
    compute_ms: int = 0

    @property
    def duration_ms(self) -> int:
        """Playback length."""
        return len(self.pcm16k) * 1000 // self.sample_rate


@runtime_checkable
class SpeechSynthesizer(Protocol):
    """Blocking synthesiser; the worker pool keeps it off the event loop."""

    def synthesize(self, text: str) -> Speech:
        """Render text (ideally one sentence) to 16 kHz speech."""
        ...


_ABBREVIATIONS = ("mr.", "mrs.", "ms.", "dr.", "st.", "no.", "vs.", "e.g.", "i.e.", "etc.", "jr.", "sr.")
_EN_END = re.compile(r"([.!?;]+[\"')\]]*)\s+")
_ZH_END = re.compile(r"([。！？；…]+[”’」』）)]*)\s*")
_CUT = "\x00"


def split_sentences(text: str) -> list[str]:
    """Split English or Chinese text into sentences so each can be synthesised as it is needed."""
    pieces: list[str] = []
    carry = ""
    marked = _ZH_END.sub(r"\1" + _CUT, _EN_END.sub(r"\1" + _CUT, text.strip()))
    for raw in marked.split(_CUT):
        piece = (carry + " " + raw.strip()).strip() if carry else raw.strip()
        if not piece:
            continue
        last_word = piece.rsplit(maxsplit=1)[-1].lower()
        if last_word in _ABBREVIATIONS or (
            len(last_word) == 2 and last_word[0].isalpha() and last_word[1] == "."
        ):
            carry = piece
            continue
        carry = ""
        pieces.append(piece)
    if carry:
        pieces.append(carry)
    return pieces


def fade_edges(pcm: np.ndarray, rate: int = RATE, fade_ms: int = FADE_MS) -> np.ndarray:
    """Apply a short raised-cosine fade-in and fade-out so utterances start and stop without clicks."""
    out = pcm.astype(np.float32)
    n = min(rate * fade_ms // 1000, len(out) // 2)
    if n > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float32))).astype(np.float32)
        out[:n] *= ramp
        out[-n:] *= ramp[::-1]
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def float_to_int16(audio: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """Float audio in [-1, 1] → int16 with the given gain, clipped."""
    return np.clip(np.round(audio.astype(np.float32) * gain * 32767.0), -32768, 32767).astype(np.int16)
