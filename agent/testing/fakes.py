"""Fake engines, output and store for call tests in virtual time (see agent/testing/harness.py).

- `FakeEngines`: a scripted VAD (probabilities carried by the frames), a scripted
  recogniser (words carried by the frames, a chosen compute delay) and a synthesiser that
  returns `ms_per_sentence` of audio after `synth_delay_s`; model jobs queue in a
  `FakePool` that schedules like agent.workers.WorkerPool (high first, low on at most
  workers - 1 workers), so scheduling can be tested.
- `FakeOutput`: records what the session sent and when, plays it out of a jitter buffer
  in (virtual) real time and echoes marks once the audio before them has played.
- `FakeRecorder`: records every store write with its time; can be slow or fail.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np

from agent.asr.base import Transcript
from agent.audio.frames import FRAME_SAMPLES
from agent.audio.vad import VadFrame
from agent.store.errors import StoreUnavailable
from agent.testing.speech import SpeechBook
from agent.tts.base import Speech

T = TypeVar("T")
Priority = Literal["high", "low"]


class FakeVadStream:
    """Per-call VAD over scripted frames, with the real stream's enter/leave hysteresis."""

    def __init__(self, *, enter: float = 0.5, leave: float = 0.35) -> None:
        if not 0.0 <= leave <= enter <= 1.0:
            raise ValueError(f"VAD thresholds need 0 <= leave <= enter <= 1, got leave={leave} enter={enter}")
        self.enter = enter
        self.leave = leave
        self._speech = False
        self.pushed = 0  # frames seen
        self.closed = False

    def push(self, frame: np.ndarray) -> VadFrame:
        self.pushed += 1
        prob = SpeechBook.prob(frame)
        self._speech = prob >= (self.leave if self._speech else self.enter)
        return VadFrame(prob, self._speech)

    def submit(self, frame: np.ndarray, done: Callable[[VadFrame], None]) -> None:
        """VadStreamPort: the verdict at once (`FakeEngines(vad_delay_s=...)` for one that comes later)."""
        done(self.push(frame))

    def close(self) -> None:
        self.closed = True

    def reset(self) -> None:
        self._speech = False


class DeferredVadStream(FakeVadStream):
    """The VAD as the worker thread gives it: each verdict `delay_s` after its frame, frames in order.

    Verdicts queue behind each other as on a busy VAD thread: a frame's verdict comes no earlier
    than the one before it. After `close` no verdict is delivered.
    """

    def __init__(self, delay_s: float, *, enter: float = 0.5, leave: float = 0.35) -> None:
        super().__init__(enter=enter, leave=leave)
        self.delay_s = delay_s
        self._last = 0.0
        self._due: deque[tuple[Callable[[VadFrame], None], VadFrame]] = deque()
        self.delivered = 0

    def submit(self, frame: np.ndarray, done: Callable[[VadFrame], None]) -> None:
        loop = asyncio.get_running_loop()
        self._due.append((done, self.push(frame)))
        self._last = at = max(loop.time() + self.delay_s, self._last)
        loop.call_at(at, self._deliver)  # timers due at the same time run in any order: pop the oldest

    def _deliver(self) -> None:
        done, verdict = self._due.popleft()
        if not self.closed:
            self.delivered += 1
            done(verdict)


class FakePool:
    """An asyncio model pool with WorkerPool's policy: high jobs first; low on <= workers - 1."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self.max_low = max(1, workers - 1)
        self._running = 0
        self._low_running = 0
        self._waiting: list[tuple[int, float, int, asyncio.Future[None], bool]] = []
        self._order = itertools.count()

    @property
    def queue_depth(self) -> int:
        return sum(1 for *_, fut, _ in self._waiting if not fut.done())

    async def run(
        self, job: Callable[[], Awaitable[T]], priority: Priority = "high", due: float | None = None
    ) -> T:
        low = priority == "low"
        loop = asyncio.get_running_loop()
        gate: asyncio.Future[None] = loop.create_future()
        when = loop.time() if due is None or low else due  # high jobs: soonest needed first
        heapq.heappush(self._waiting, (1 if low else 0, when, next(self._order), gate, low))
        self._dispatch()
        try:
            await gate
        except asyncio.CancelledError:
            if gate.done() and not gate.cancelled():
                self._release(low)
            raise
        try:
            return await job()
        finally:
            self._release(low)

    def _release(self, low: bool) -> None:
        self._running -= 1
        self._low_running -= low
        self._dispatch()

    def _dispatch(self) -> None:
        skipped: list[tuple[int, float, int, asyncio.Future[None], bool]] = []
        while self._waiting and self._running < self.workers:
            item = heapq.heappop(self._waiting)
            *_, gate, low = item
            if gate.done():
                continue
            if low and self._low_running >= self.max_low:
                skipped.append(item)
                continue
            self._running += 1
            self._low_running += low
            gate.set_result(None)
        for item in skipped:
            heapq.heappush(self._waiting, item)


@dataclass(frozen=True, slots=True)
class SynthRequest:
    """One synthesis the session asked for: when, what, at which priority, and when it was done."""

    asked_at: float
    text: str
    priority: str
    done_at: float


class FakeEngines:
    """Scripted VAD, ASR and TTS behind a FakePool; the ports the call session needs."""

    def __init__(
        self,
        book: SpeechBook | None = None,
        *,
        asr_delay_s: float = 0.05,
        synth_delay_s: float = 0.05,
        ms_per_sentence: int = 1000,
        workers: int = 2,
        synth_delay_for: Callable[[str], float] | None = None,
        vad_delay_s: float | None = None,
    ) -> None:
        """`vad_delay_s`: VAD verdicts come that long after their frames (as from the VAD thread)."""
        self.book = book or SpeechBook()
        self.vad_delay_s = vad_delay_s
        self.asr_delay_s = asr_delay_s
        self.synth_delay_s = synth_delay_s
        self.ms_per_sentence = ms_per_sentence
        self.synth_delay_for = synth_delay_for
        self.pool = FakePool(workers)
        self.vad_streams: list[FakeVadStream] = []
        self.transcribed: list[tuple[float, bool, str]] = []  # (time, partial, text)
        self.synthesized: list[SynthRequest] = []
        self.markers: dict[int, str] = {}  # sample value of a sentence's audio -> its text
        self.runner_ups: dict[str, tuple[str, ...]] = {}  # final text -> the runner-up readings it comes with
        self._by_text: dict[str, int] = {}

    def busy(self) -> bool:
        return self.pool.queue_depth > 0

    def new_vad_stream(self, *, enter: float = 0.5, leave: float = 0.35) -> FakeVadStream:
        stream = (FakeVadStream(enter=enter, leave=leave) if self.vad_delay_s is None
                  else DeferredVadStream(self.vad_delay_s, enter=enter, leave=leave))
        self.vad_streams.append(stream)
        return stream

    async def transcribe(
        self, locale: str, pcm16k: np.ndarray, hint: str | None = None, partial: bool = False
    ) -> Transcript:
        async def job() -> Transcript:
            await asyncio.sleep(self.asr_delay_s)
            text = self.book.words(pcm16k)
            self.transcribed.append((asyncio.get_running_loop().time(), partial, text))
            others = () if partial else self.runner_ups.get(text, ())
            ms = int(self.asr_delay_s * 1000)
            return Transcript(text, locale[:2], 0.9, len(pcm16k) // 16, ms, partial, others)

        return await self.pool.run(job, "low" if partial else "high")

    def marker(self, text: str) -> int:
        """The constant sample value of `text`'s synthesised audio (to find it in the output)."""
        if text not in self._by_text:
            value = 100 + len(self._by_text)
            self._by_text[text] = value
            self.markers[value] = text
        return self._by_text[text]

    async def synthesize(
        self, locale: str, text: str, priority: str = "high", *, due: float | None = None
    ) -> Speech:
        loop = asyncio.get_running_loop()
        asked = loop.time()
        delay = self.synth_delay_for(text) if self.synth_delay_for else self.synth_delay_s

        async def job() -> Speech:
            await asyncio.sleep(delay)
            samples = self.ms_per_sentence * 16
            pcm = np.full(samples, self.marker(text), dtype=np.int16)
            self.synthesized.append(SynthRequest(asked, text, priority, loop.time()))
            return Speech(pcm, text, compute_ms=int(delay * 1000))

        return await self.pool.run(job, "low" if priority == "low" else "high", due)

    def close(self) -> None:
        """Nothing to free (the real Engines stops its pool)."""


@dataclass(slots=True)
class Sent:
    """One thing the session sent: `kind` audio | clear | mark | hangup | notify, at loop time `t`."""

    t: float
    kind: str
    data: Any = None
    plays_at: float | None = None  # audio: when the customer hears this frame


class FakeOutput:
    """The outbound side of a gateway: records, plays out of a jitter buffer, echoes marks."""

    def __init__(self, *, echo_marks: bool = True, markers: Mapping[int, str] | None = None,
                 buffers_audio: bool = True) -> None:
        self.echo_marks = echo_marks
        self.buffers_audio = buffers_audio  # False: a gateway that plays what it gets (no lead)
        self.markers = markers if markers is not None else {}
        self.sent: list[Sent] = []
        self.events: list[dict[str, Any]] = []  # notify() payloads, in order, with "t" added
        self.on_mark: Callable[[str], None] | None = None  # the session's mark_echoed
        self.hung_up = asyncio.Event()
        self.hangup_reason: str | None = None
        self._play_until = 0.0
        self._echoes: list[asyncio.TimerHandle] = []

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def audio(self, pcm16k: np.ndarray) -> None:
        now = self._now()
        start = max(now, self._play_until)
        self._play_until = start + len(pcm16k) / 16000
        marker = int(pcm16k[len(pcm16k) // 2]) if len(pcm16k) else 0
        self.sent.append(Sent(now, "audio", self.markers.get(marker, marker), start))

    async def clear(self) -> None:
        now = self._now()
        self.sent.append(Sent(now, "clear"))
        self._play_until = now
        for handle in self._echoes:
            handle.cancel()
        self._echoes.clear()
        # audio queued but not yet played is taken back
        for item in self.sent:
            if item.kind == "audio" and item.plays_at is not None and item.plays_at >= now:
                item.plays_at = None

    async def mark(self, name: str) -> None:
        now = self._now()
        self.sent.append(Sent(now, "mark", name))
        if self.echo_marks and self.on_mark is not None:
            at = max(now, self._play_until)
            self._echoes.append(asyncio.get_running_loop().call_at(at, self.on_mark, name))

    async def hangup(self, reason: str) -> None:
        self.sent.append(Sent(self._now(), "hangup", reason))
        self.hangup_reason = reason
        self.hung_up.set()

    async def notify(self, event: Mapping[str, Any]) -> None:
        self.sent.append(Sent(self._now(), "notify", dict(event)))
        self.events.append({**event, "t": self._now()})

    # --- what the customer heard -------------------------------------------------------

    def heard(self) -> list[tuple[float, Any]]:
        """(play time, sentence text or sample value) of every frame the customer heard."""
        return [(s.plays_at, s.data) for s in self.sent if s.kind == "audio" and s.plays_at is not None]

    def heard_of(self, text: str) -> list[float]:
        """Play times of the frames heard of `text` (an utterance, or one of its sentences)."""
        return [t for t, what in self.heard() if isinstance(what, str) and what and what in text]

    def first_heard(self, text: str) -> float | None:
        """When the customer first heard (a sentence of) the utterance `text`."""
        times = self.heard_of(text)
        return times[0] if times else None

    def playing_until(self) -> float:
        return self._play_until

    def kinds(self, kind: str) -> list[Sent]:
        return [s for s in self.sent if s.kind == kind]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """Progress events of one type, in order."""
        return [e for e in self.events if e.get("type") == kind]


@dataclass(slots=True)
class FakeRecorder:
    """A CallRecorder that keeps every write (time, kind, args); may be slow or fail."""

    delay_s: float = 0.0
    opt_out_delay_s: float = 0.0
    fail_after_s: float | None = None  # every write from this loop time on raises StoreUnavailable
    writes: list[tuple[float, str, tuple[Any, ...]]] = field(default_factory=list)

    async def _write(self, kind: str, *args: Any, delay: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(self.delay_s if delay is None else delay)
        if self.fail_after_s is not None and loop.time() >= self.fail_after_s:
            raise StoreUnavailable(f"the fake store refuses writes from t={self.fail_after_s}")
        self.writes.append((loop.time(), kind, args))

    async def record_opt_out(self, call_id: str, scope: str, via: str) -> None:
        await self._write("opt_out", scope, via, delay=self.opt_out_delay_s)

    async def record_turn(
        self, call_id: str, speaker: str, text: str, intent: str | None, start_ms: int
    ) -> None:
        await self._write("turn", speaker, text, intent, start_ms)

    async def record_event(self, call_id: str, kind: str, data: Mapping[str, Any]) -> None:
        await self._write("event", kind, dict(data))

    async def finish_call(self, call_id: str, outcome: str, timings: Mapping[str, Any]) -> None:
        self.writes.append((asyncio.get_running_loop().time(), "finish", (outcome, dict(timings))))

    def of(self, kind: str) -> list[tuple[float, tuple[Any, ...]]]:
        return [(t, args) for t, k, args in self.writes if k == kind]


def frames_of(pcm: np.ndarray) -> list[np.ndarray]:
    """Split 16 kHz PCM into whole 20 ms frames (the last one padded)."""
    out = [pcm[i : i + FRAME_SAMPLES] for i in range(0, len(pcm), FRAME_SAMPLES)]
    if out and len(out[-1]) < FRAME_SAMPLES:
        out[-1] = np.pad(out[-1], (0, FRAME_SAMPLES - len(out[-1])))
    return out
