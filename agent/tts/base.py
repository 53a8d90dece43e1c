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


_CLAUSE_END = re.compile(r"([，,；;：:]+[”’」』）)]*)\s*")
MIN_CLAUSE_CHARS = 4
"""A clause shorter than this (好的，) rides with the next one: a tiny render sounds clipped."""


def split_clauses(sentence: str) -> list[str]:
    """Split one sentence at clause punctuation (，；： and , ; :), punctuation kept on the clause.

    A clause that would be shorter than MIN_CLAUSE_CHARS characters (punctuation aside) is
    joined to the next one, and text inside quotation marks is never split.
    """
    text = sentence.strip()
    if not text:
        return []
    pieces: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "“‘「『（(":
            depth += 1
        elif ch in "”’」』）)":
            depth = max(0, depth - 1)
        elif depth == 0 and _CLAUSE_END.match(ch) and not _CLAUSE_END.match(text[i + 1 : i + 2]):
            pieces.append(text[start : i + 1])
            start = i + 1
    if start < len(text):
        pieces.append(text[start:])
    out: list[str] = []
    carry = ""
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        piece = carry + piece
        if len(_PUNCT_OR_SPACE.sub("", piece)) < MIN_CLAUSE_CHARS:
            carry = piece
            continue
        carry = ""
        out.append(piece)
    if carry:
        if out:
            out[-1] += carry
        else:
            out.append(carry)
    return out


_PUNCT_OR_SPACE = re.compile(r"[\W_]+", re.UNICODE)
