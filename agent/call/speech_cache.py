"""Pre-rendered agent speech, shared by all calls of the process (SPEC 4.5).

Keyed by (locale, sentence text): a slot-free sentence is synthesised once for every call,
and a sentence with this customer's slots is synthesised ahead of need for this call. A
request for a sentence already being synthesised waits for that job instead of starting
another; if that job was speculative (low priority) and now someone waits for it, a high
priority job races it and the first result wins (the other is dropped, or cancelled while
still queued), so pre-rendering never delays what a customer is about to hear (issue
11.2: the greeting waited behind every pre-render of the script). What to request for a
sentence not rendered yet (its clauses, or its pieces between slots) is agent.call.units'.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Protocol

import numpy as np


class Synthesize(Protocol):
    """(locale, text, priority, due) -> 16 kHz PCM; `due` is the loop time it will be heard."""

    def __call__(self, locale: str, text: str, priority: str, due: float | None) -> Awaitable[np.ndarray]: ...


class SpeechCache:
    """An LRU of synthesised sentences plus the jobs in flight."""

    def __init__(self, synthesize: Synthesize, max_entries: int = 512) -> None:
        self._synthesize = synthesize
        self._max = max_entries
        self._done: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._pending: dict[tuple[str, str], tuple[asyncio.Task[np.ndarray], str]] = {}
        self.hits = 0
        self.misses = 0
        self.promoted = 0  # speculative jobs restarted at high priority because someone waited

    def cached(self, locale: str, text: str) -> bool:
        """True when the sentence is ready to play without waiting."""
        return (locale, text) in self._done

    def pending(self, locale: str, text: str) -> bool:
        """True while the sentence is being synthesised (or waits in the pool's queue)."""
        return (locale, text) in self._pending

    def needed(self, locale: str, text: str) -> bool:
        """True while the sentence is in flight at high priority: someone waits for it, it runs by need."""
        pending = self._pending.get((locale, text))
        return pending is not None and pending[1] == "high"

    def drop_speculative(self, locale: str, text: str) -> bool:
        """Cancel a low-priority pre-render nobody waits for (a job still queued never runs)."""
        pending = self._pending.get((locale, text))
        if pending is None or pending[1] != "low":
            return False
        pending[0].cancel()
        self._pending.pop((locale, text), None)
        return True

    async def get(
        self, locale: str, text: str, *, priority: str = "high", due: float | None = None
    ) -> np.ndarray:
        """The sentence's 16 kHz PCM, synthesising it (or joining a job in flight) if needed."""
        return await self.request(locale, text, priority=priority, due=due)

    def request(
        self, locale: str, text: str, *, priority: str = "high", due: float | None = None
    ) -> asyncio.Future[np.ndarray]:
        """Like `get`, but the job is in the queue when this returns (cancelling the future leaves it)."""
        key = (locale, text)
        pcm = self._done.get(key)
        if pcm is not None:
            self._done.move_to_end(key)
            self.hits += 1
            ready: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
            ready.set_result(pcm)
            return ready
        self.misses += 1
        return asyncio.shield(self._job(key, priority, due))

    def prefetch(self, locale: str, text: str, *, priority: str = "low", due: float | None = None) -> None:
        """Start synthesising a sentence ahead of need unless it is cached or in flight."""
        key = (locale, text)
        if key not in self._done:
            self._job(key, priority, due)

    def _job(self, key: tuple[str, str], priority: str, due: float | None) -> asyncio.Task[np.ndarray]:
        pending = self._pending.get(key)
        if pending is not None:
            task, running_at = pending
            if not (priority == "high" and running_at == "low"):
                return task
            self.promoted += 1  # a job nobody waited for: race it where someone does
            high = asyncio.ensure_future(self._synthesize(key[0], key[1], priority, due))
            task = asyncio.ensure_future(_first_of(task, high))
        else:
            task = asyncio.ensure_future(self._synthesize(key[0], key[1], priority, due))
        self._pending[key] = (task, priority)
        task.add_done_callback(lambda t: self._finish(key, t))
        return task

    def _finish(self, key: tuple[str, str], task: asyncio.Task[np.ndarray]) -> None:
        if self._pending.get(key, (None, ""))[0] is task:
            self._pending.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        if self._max == 0:
            return
        self._done[key] = task.result()
        self._done.move_to_end(key)
        while len(self._done) > self._max:
            self._done.popitem(last=False)


async def _first_of(*jobs: asyncio.Future[np.ndarray]) -> np.ndarray:
    """The first successful result of `jobs`; the others are cancelled."""
    waiting = set(jobs)
    try:
        while waiting:
            done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            for job in done:
                if not job.cancelled() and job.exception() is None:
                    return job.result()
        return await jobs[-1]  # every job failed: raise the last one's error
    finally:
        for job in jobs:
            job.cancel()
