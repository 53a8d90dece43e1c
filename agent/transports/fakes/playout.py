"""A fake gateway's speaker side: the runtime's audio and marks queued in order, like a jitter buffer.

Audio is drained 20 ms per tick; a mark reaches the front once the audio queued before it
has played. A clear (clear/killAudio/FLUSH_MEDIA) drops everything queued.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(slots=True)
class _Mark:
    """A mark waiting in the playout queue behind the audio sent before it."""

    name: str


class PlayoutQueue:
    """Runtime audio (at the gateway's out rate) and marks, in the order they were sent."""

    def __init__(self) -> None:
        self._items: deque[np.ndarray | _Mark] = deque()

    @property
    def samples(self) -> int:
        """Audio queued and not yet played."""
        return sum(len(item) for item in self._items if isinstance(item, np.ndarray))

    def audio(self, pcm: np.ndarray) -> None:
        """Queue audio."""
        if len(pcm):
            self._items.append(np.asarray(pcm, dtype=np.int16))

    def mark(self, name: str) -> None:
        """Queue a mark behind the audio queued so far."""
        self._items.append(_Mark(name))

    def drop(self) -> list[str]:
        """Drop everything queued; returns the names of the marks dropped with the audio."""
        names = [item.name for item in self._items if isinstance(item, _Mark)]
        self._items.clear()
        return names

    def drop_marks(self) -> None:
        """Forget queued marks, keep audio."""
        self._items = deque(item for item in self._items if not isinstance(item, _Mark))

    def marks_due(self) -> list[str]:
        """Marks now at the front (their audio has played), taken off the queue."""
        names = []
        while self._items and isinstance(self._items[0], _Mark):
            mark = self._items.popleft()
            assert isinstance(mark, _Mark)
            names.append(mark.name)
        return names

    def take(self, n: int) -> np.ndarray | None:
        """Pop up to n samples of queued audio (stopping at a mark); None when nothing is queued."""
        parts: list[np.ndarray] = []
        need = n
        while need and self._items and isinstance(self._items[0], np.ndarray):
            head = self._items[0]
            assert isinstance(head, np.ndarray)
            parts.append(head[:need])
            if len(head) > need:
                self._items[0] = head[need:]
                need = 0
            else:
                self._items.popleft()
                need -= len(head)
        return np.concatenate(parts) if parts else None


async def sleep_until(deadline: float) -> None:
    """Sleep to an absolute monotonic time, so the clocks do not drift."""
    await asyncio.sleep(max(0.0, deadline - time.monotonic()))
