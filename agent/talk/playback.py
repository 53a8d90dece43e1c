"""The speaker side of a talk call: a thread-safe buffer of agent audio, its marks and its echo guard."""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

RATE = 16000


class Playback:
    """Agent audio waiting to play; PortAudio's callback pulls from it, the socket pushes into it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chunks: deque[np.ndarray] = deque()
        self._buffered = 0
        self._queued = 0  # samples ever queued (mark positions count in these)
        self._played = 0  # samples of agent audio handed to the device
        self._marks: deque[tuple[int, str]] = deque()
        self.last_audio_at = 0.0  # monotonic time the last agent sample went to the device

    @property
    def buffered(self) -> int:
        """Samples not yet handed to the device."""
        with self._lock:
            return self._buffered

    def add(self, pcm: np.ndarray) -> None:
        """Queue agent audio (16 kHz int16)."""
        if pcm.size == 0:
            return
        with self._lock:
            self._chunks.append(pcm.astype(np.int16, copy=False))
            self._buffered += pcm.size
            self._queued += pcm.size

    def mark(self, name: str) -> None:
        """Remember a server mark; it is due once the audio queued before it has played."""
        with self._lock:
            self._marks.append((self._queued, name))

    def clear(self) -> list[str]:
        """Barge-in: drop unplayed audio; returns the marks dropped with it (not echoed)."""
        with self._lock:
            self._chunks.clear()
            self._queued -= self._buffered
            self._buffered = 0
            dropped = [name for _, name in self._marks]
            self._marks.clear()
            return dropped

    def read(self, n: int) -> np.ndarray:
        """The next n samples for the device, padded with silence."""
        out = np.zeros(n, dtype=np.int16)
        filled = 0
        with self._lock:
            while filled < n and self._chunks:
                chunk = self._chunks[0]
                take = min(n - filled, chunk.size)
                out[filled : filled + take] = chunk[:take]
                filled += take
                if take == chunk.size:
                    self._chunks.popleft()
                else:
                    self._chunks[0] = chunk[take:]
            self._buffered -= filled
            self._played += filled
            if filled:
                self.last_audio_at = time.monotonic()
        return out

    def due_marks(self) -> list[str]:
        """Marks whose audio has now played, in order."""
        due: list[str] = []
        with self._lock:
            while self._marks and self._marks[0][0] <= self._played:
                due.append(self._marks.popleft()[1])
        return due

    def speaking(self, hangover_s: float, now: float | None = None) -> bool:
        """True while agent audio is buffered or played within the last hangover_s seconds."""
        now = time.monotonic() if now is None else now
        return self.buffered > 0 or (self.last_audio_at > 0 and now - self.last_audio_at < hangover_s)
