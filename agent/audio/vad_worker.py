"""The VAD of every call on one thread beside the event loop: frames in, verdicts back, in order.

Run on the event loop, Silero costs every call's every 20 ms frame a model call (~0.1-0.3 ms
each, more on a loaded box), and all that while the loop sends no agent audio and reads no
socket: at 16 calls it was most of what the loop ran while it was late (bench --loopwatch).
onnxruntime releases the GIL while it runs, so on a thread of its own it runs beside the loop.

`VadWorker` owns that thread and the model. Each call gets a `WorkerVadStream`
(VadStreamPort): `submit(frame, done)` queues the frame and returns at once; `done(verdict)`
is called later on the submitting loop, once per frame, in the order the frames were
submitted. The worker takes, per round (at most one every `ROUND_MS`), the next frame of
every call that has one and runs all the windows they complete as one batched model call
([B, 576], one recurrent state per row), so 16 calls cost one model call a round, not 16.
Each row gives what the same stream's own `VadStream.push` gives (tests/audio/test_vad_worker.py).

A model failure is logged and its frames are silence (probability 0): the call keeps its
clock, its turns end and its no-input timer runs, rather than hearing nothing at all.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from agent.audio.vad import SileroVad, VadFrame, VadStream

log = logging.getLogger(__name__)

ROUND_MS = 10
"""Rounds start at most this often. Woken for every frame, the thread took the GIL ~800 times a
second at 16 calls, and on a box short of CPU a holder that loses its core stalls the loop
behind it; a round every 10 ms batches the frames of ~half the calls and adds 5 ms on average
to a verdict (a VAD window is 32 ms)."""

Done = Callable[[VadFrame], None]
Item = tuple[np.ndarray, Done, asyncio.AbstractEventLoop]


class WorkerVadStream:
    """One call's VAD on the worker: the per-call state lives here, only the worker touches it."""

    __slots__ = ("_inbox", "_queued", "_worker", "closed", "core")

    def __init__(self, worker: VadWorker, core: VadStream) -> None:
        self._worker = worker
        self.core = core  # windows, recurrent state and hysteresis (worker thread only)
        self._inbox: deque[Item] = deque()  # frames submitted, not yet taken by the worker (under its lock)
        self._queued = False  # in the worker's ready list (under its lock)
        self.closed = False

    @property
    def enter(self) -> float:
        return self.core.enter

    @property
    def leave(self) -> float:
        return self.core.leave

    def submit(self, frame: np.ndarray, done: Done) -> None:
        """Queue one 20 ms int16 frame; `done(verdict)` runs on this (the running) loop, in order."""
        if frame.dtype != np.int16:
            raise TypeError(f"expected int16 samples, got {frame.dtype}")
        self._worker.put(self, frame, done, asyncio.get_running_loop())

    def close(self) -> None:
        """The call is over: frames still queued are dropped, verdicts not yet delivered are not."""
        self.closed = True


class VadWorker:
    """The thread that runs the VAD model for all calls, batching their windows."""

    def __init__(self, model: SileroVad, *, round_ms: int = ROUND_MS, name: str = "vad") -> None:
        self.model = model
        self.round_s = round_ms / 1000
        self._cond = threading.Condition()
        self._ready: list[WorkerVadStream] = []  # streams with frames waiting, each once, in order of arrival
        self._closed = False
        self.rounds = 0  # model calls made (one per batch)
        self.windows = 0  # windows run in them (windows / rounds = mean batch)
        self.failures = 0  # model calls that raised (their frames counted as silence)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def stream(self, *, enter: float = 0.5, leave: float = 0.35) -> WorkerVadStream:
        """A fresh per-call stream (thresholds checked here, as VadStream does)."""
        return WorkerVadStream(self, VadStream(self.model, enter=enter, leave=leave))

    def put(self, stream: WorkerVadStream, frame: np.ndarray, done: Done,
            loop: asyncio.AbstractEventLoop) -> None:
        """Queue a frame of `stream` (any thread)."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the VAD worker is closed")
            stream._inbox.append((frame, done, loop))
            if not stream._queued:
                stream._queued = True
                self._ready.append(stream)
                self._cond.notify()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the thread after the frames already queued (at shutdown)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        last = 0.0
        while True:
            with self._cond:
                while not self._ready and not self._closed:
                    self._cond.wait()
                closed = self._closed
            wait = last + self.round_s - time.monotonic()
            if wait > 0 and not closed:
                time.sleep(wait)  # the other calls' frames of these 20 ms come meanwhile and share the round
            last = time.monotonic()
            with self._cond:
                if not self._ready:
                    return  # closed, and nothing left
                work = []
                for stream in self._ready:
                    work.append((stream, deque(stream._inbox)))
                    stream._inbox.clear()
                    stream._queued = False
                self._ready = []
            try:
                self._process(work)
            except Exception:
                log.exception("VAD worker round failed")

    def _process(self, work: list[tuple[WorkerVadStream, deque[Item]]]) -> None:
        """Run the streams' frames: round by round, the next frame of each, windows batched."""
        replies: dict[asyncio.AbstractEventLoop, list[tuple[Done, VadFrame]]] = {}
        pending = [(stream, items) for stream, items in work if not stream.closed]
        while pending:
            taken = [(stream, items.popleft()) for stream, items in pending]
            for stream, (frame, _, _) in taken:
                stream.core.append(frame)
            active = [stream for stream, _ in taken]
            while active:  # a 20 ms frame completes at most one 32 ms window, a longer one may do more
                ready = [(s, w) for s in active if (w := s.core.next_window()) is not None]
                if ready:
                    self._infer(ready)
                active = [s for s, _ in ready]
            for stream, (_, done, loop) in taken:
                verdict = stream.core.verdict()
                if not stream.closed:
                    replies.setdefault(loop, []).append((done, verdict))
            pending = [(s, items) for s, items in pending if items and not s.closed]
        for loop, items in replies.items():
            try:
                loop.call_soon_threadsafe(_deliver, items)
            except RuntimeError:  # that loop has closed: its calls are over
                pass

    def _infer(self, ready: list[tuple[WorkerVadStream, np.ndarray]]) -> None:
        states = [s.core.state for s, _ in ready]
        try:
            windows = np.concatenate([w for _, w in ready], axis=0)
            probs, state_n = self.model.infer_batch(windows, np.concatenate(states, axis=1))
        except Exception:
            self.failures += 1
            log.exception("VAD model call failed for %d stream(s); their frames count as silence", len(ready))
            for (stream, _), state in zip(ready, states, strict=True):
                stream.core.advance(0.0, state)
            return
        self.rounds += 1
        self.windows += len(ready)
        for i, (stream, _) in enumerate(ready):
            stream.core.advance(float(probs[i]), np.ascontiguousarray(state_n[:, i : i + 1, :]))


def _deliver(items: list[tuple[Done, VadFrame]]) -> None:
    """On the loop: hand each frame's verdict to its listener, in order."""
    for done, verdict in items:
        try:
            done(verdict)
        except Exception:
            log.exception("VAD verdict callback failed")
