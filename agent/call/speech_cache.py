"""Pre-rendered agent speech, shared by all calls of the process (SPEC 4.5).

Keyed by (locale, sentence text): a slot-free sentence is synthesised once for every call,
and a sentence with this customer's slots is synthesised ahead of need for this call. A
request for a sentence already being synthesised waits for that job instead of starting
another, so pre-rendering and an urgent request never duplicate work.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import numpy as np

Synthesize = Callable[[str, str, str], Awaitable[np.ndarray]]  # (locale, text, priority) -> pcm16k


class SpeechCache:
    """An LRU of synthesised sentences plus the jobs in flight."""

    def __init__(self, synthesize: Synthesize, max_entries: int = 512) -> None:
        self._synthesize = synthesize
        self._max = max_entries
        self._done: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._pending: dict[tuple[str, str], asyncio.Task[np.ndarray]] = {}
        self.hits = 0
        self.misses = 0

    def cached(self, locale: str, text: str) -> bool:
        """True when the sentence is ready to play without waiting."""
        return (locale, text) in self._done

    async def get(self, locale: str, text: str, *, priority: str = "high") -> np.ndarray:
        """The sentence's 16 kHz PCM, synthesising it (or joining a job in flight) if needed."""
        key = (locale, text)
        pcm = self._done.get(key)
        if pcm is not None:
            self._done.move_to_end(key)
            self.hits += 1
            return pcm
        self.misses += 1
        task = self._pending.get(key)
        if task is None:
            task = self._start(key, priority)
        return await asyncio.shield(task)

    def prefetch(self, locale: str, text: str) -> None:
        """Start synthesising a sentence at low priority unless it is cached or in flight."""
        key = (locale, text)
        if key not in self._done and key not in self._pending:
            self._start(key, "low")

    def _start(self, key: tuple[str, str], priority: str) -> asyncio.Task[np.ndarray]:
        task = asyncio.ensure_future(self._synthesize(key[0], key[1], priority))
        self._pending[key] = task
        task.add_done_callback(lambda t: self._finish(key, t))
        return task

    def _finish(self, key: tuple[str, str], task: asyncio.Task[np.ndarray]) -> None:
        self._pending.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        if self._max == 0:
            return
        self._done[key] = task.result()
        self._done.move_to_end(key)
        while len(self._done) > self._max:
            self._done.popitem(last=False)
