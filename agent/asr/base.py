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
    runner_ups: tuple[str, ...] = ()
    """The decoder's next-best readings of a final turn, best first, each distinct from `text` (in
    case and from each other): what the NLU's runner-up doubt reads (agent.nlu.runner_up). Empty
    for running transcripts, greedy decodes and recognisers that keep none."""


@runtime_checkable
class SpeechRecognizer(Protocol):
    """Blocking recogniser; the worker pool keeps it off the event loop."""

    language: str

    def transcribe(self, pcm16k: np.ndarray, hint: str | None = None, partial: bool = False) -> Transcript:
        """Transcribe one segment of 16 kHz mono audio (int16 or float32 in [-1, 1])."""
        ...
