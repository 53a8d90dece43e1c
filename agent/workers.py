"""Bounded two-priority thread pool for CPU-heavy model calls (ASR, TTS) off the event loop.

ctranslate2 and onnxruntime release the GIL, so threads give real parallelism. High-priority
jobs (ASR, TTS a customer is waiting for) always run before low-priority ones (speculative
pre-rendering); with two or more workers, low jobs may occupy at most workers - 1 threads, so a
high job never waits behind low work, and with one worker it waits for at most one low job.
Among high jobs the one needed soonest runs first (`due`, a time.monotonic() deadline; default:
now), so a sentence a customer hears in five seconds never delays one they should hear now.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Priority = Literal["high", "low"]


class PoolOverloaded(RuntimeError):
    """Too many jobs are already waiting; the caller should shed load (e.g. refuse a new call)."""


class PoolClosed(RuntimeError):
    """The pool has been shut down."""


@dataclass(slots=True)
class _Job:
    """One queued call and the future its caller awaits."""

    fn: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)


class WorkerPool:
    """Fixed worker threads fed by a high and a low queue, each bounded."""

    def __init__(self, max_workers: int, max_queue: int, *, name: str = "model") -> None:
        if max_workers < 1 or max_queue < 0:
            raise ValueError(f"need max_workers >= 1 and max_queue >= 0, got {max_workers}, {max_queue}")
        self.max_workers = max_workers
        self.max_queue = max_queue
        self.max_low_in_flight = max(1, max_workers - 1)
        self._high: list[tuple[float, int, _Job]] = []  # heap by (due, order)
        self._order = itertools.count()
        self._low: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._low_in_flight = 0
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-worker-{i}", daemon=True)
            for i in range(max_workers)
        ]
        for t in self._threads:
            t.start()

    @property
    def queue_depth(self) -> int:
        """Jobs waiting for a worker (both priorities)."""
        with self._cond:
            return len(self._high) + len(self._low)

    @property
    def in_flight(self) -> int:
        """Jobs running now."""
        with self._cond:
            return self._in_flight

    def submit(
        self,
        fn: Callable[..., T],
        *args: Any,
        priority: Priority = "high",
        due: float | None = None,
        **kwargs: Any,
    ) -> Future[T]:
        """Queue fn(*args, **kwargs) and return a concurrent Future (thread-safe).

        `due`: when the result is needed (time.monotonic()); high jobs run soonest-due first.
        """
        ctx = contextvars.copy_context()
        job = _Job(lambda: ctx.run(fn, *args, **kwargs))
        with self._cond:
            if self._closed:
                raise PoolClosed("the worker pool is shut down; create a new Engines before submitting work")
            waiting = len(self._high) if priority == "high" else len(self._high) + len(self._low)
            if waiting >= self.max_queue:
                raise PoolOverloaded(
                    f"{waiting} {priority}-priority model jobs are already waiting (limit {self.max_queue}); "
                    "shed load or raise engines.pool_queue"
                )
            if priority == "high":
                heapq.heappush(self._high, (time.monotonic() if due is None else due, next(self._order), job))
            else:
                self._low.append(job)
            self._cond.notify()
        return job.future

    async def run(
        self, fn: Callable[..., T], *args: Any, priority: Priority = "high", due: float | None = None,
        **kwargs: Any,
    ) -> T:
        """Run fn in the pool and await its result; cancelling the await drops a job not yet started."""
        return await asyncio.wrap_future(self.submit(fn, *args, priority=priority, due=due, **kwargs))

    def _next_job(self) -> tuple[_Job, bool] | None:
        """Block until a runnable job exists (high first; low only under its thread cap)."""
        with self._cond:
            while True:
                if self._high:
                    job, low = heapq.heappop(self._high)[2], False
                elif self._low and self._low_in_flight < self.max_low_in_flight:
                    job, low = self._low.popleft(), True
                elif self._closed:
                    return None
                else:
                    self._cond.wait()
                    continue
                if not job.future.set_running_or_notify_cancel():
                    continue
                self._in_flight += 1
                self._low_in_flight += low
                return job, low

    def _work(self) -> None:
        """Worker loop."""
        while (picked := self._next_job()) is not None:
            job, low = picked
            try:
                job.future.set_result(job.fn())
            except BaseException as exc:  # noqa: BLE001 - the caller gets every error, even exit
                job.future.set_exception(exc)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._low_in_flight -= low
                    self._cond.notify_all()

    def shutdown(self, *, wait: bool = True, cancel_pending: bool = True) -> None:
        """Stop accepting work, cancel (or finish) queued jobs, and join the workers."""
        with self._cond:
            self._closed = True
            if cancel_pending:
                for job in (*(entry[2] for entry in self._high), *self._low):
                    job.future.cancel()
                self._high.clear()
                self._low.clear()
            self._cond.notify_all()
        if wait:
            for t in self._threads:
                if t is not threading.current_thread():
                    t.join()
