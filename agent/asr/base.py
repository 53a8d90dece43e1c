"""ASR protocol: 16 kHz PCM in, one Transcript out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True, slots=True)
class Transcript:
    """What the recogniser heard in one customer segment, and what it cost."""

    text: str
    language: str
    confidence: float
    audio_ms: int
    compute_ms: int
    is_partial: bool = False


@runtime_checkable
class SpeechRecognizer(Protocol):
    """Blocking recogniser; the worker pool keeps it off the event loop."""

    language: str

    def transcribe(self, pcm16k: np.ndarray, hint: str | None = None, partial: bool = False) -> Transcript:
        """Transcribe one segment of 16 kHz mono audio (int16 or float32 in [-1, 1])."""
        ...
