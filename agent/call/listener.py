"""Customer audio in: VAD per 20 ms frame, turn detection, and recognition of each turn.

Recognition starts as soon as the customer pauses (not after the end-of-turn wait), and
partial transcripts run while they speak, so the end of a complete answer ("yes", a date)
can be called after a short silence (SPEC 4.2). Heavy work goes to the engines' pool; this
module only keeps buffers and decides when to ask. The VAD too runs off the event loop (on
the VAD worker thread, agent/audio/vad_worker.py): each frame is submitted as it comes and
goes on through turn detection when its verdict is back, frames in their order.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from collections.abc import Callable

import numpy as np

from agent.asr.base import Transcript
from agent.audio.frames import FRAME_SAMPLES
from agent.audio.vad import VadFrame
from agent.call.ports import Recognizer, VadStreamPort
from agent.call.signals import BargeIn, HeardTurn, ListenerSignal, NoiseDiscarded, Partial, SpeechStarted
from agent.call.tasks import OwnedTasks
from agent.call.turns import (
    FRAME_MS,
    Discarded,
    EndOfTurn,
    Onset,
    Paused,
    Resumed,
    Sustained,
    TurnDetector,
    TurnPolicy,
)

log = logging.getLogger(__name__)

PREROLL_FRAMES = 15  # audio kept from before the VAD onset (the VAD decides a little late)
TAIL_SAMPLES = 1600  # 100 ms after the last speech frame, so word endings are not clipped

Emit = Callable[[ListenerSignal], None]


LATE_WATCH_S = 0.05  # the media watch firing this late means the loop ran late, not that media stopped
MAX_DEFERS = 5  # ... and it waits for the reads this many times (a frame apart) before filling anyway


class Listener:
    """One call's inbound pipeline: frames in, turns out."""

    def __init__(
        self,
        vad: VadStreamPort,
        asr: Recognizer,
        emit: Emit,
        policy: TurnPolicy,
        *,
        locale: str,
        partial_every_ms: int,
        media_gap_ms: int = 0,
        tap: Callable[[np.ndarray], None] | None = None,
        hint: Callable[[], str | None] = lambda: None,
        on_metric: Callable[[str, float], None] = lambda name, value: None,
        busy: Callable[[], bool] = lambda: False,
        speaking: Callable[[], tuple[bool, bool]] = lambda: (False, False),
        is_complete: Callable[[str], bool] = lambda text: False,
        on_frame: Callable[[np.ndarray, bool], None] = lambda frame, speech: None,
    ) -> None:
        self._vad = vad
        self._asr = asr
        self._locale = locale
        self._hint = hint  # the dialogue's hint for the turn being listened for
        self._metric = on_metric
        self._tap = tap  # sees the customer's audio as it arrives (the call recording)
        self._emit = emit
        self._speaking = speaking  # (agent is speaking, its utterance may be interrupted)
        self._is_complete = is_complete  # a running transcript is a complete answer for the state
        self._on_frame = on_frame  # sees each 20 ms frame with its VAD decision (answer screening)
        self.detector = TurnDetector(policy)
        self._partial_every = partial_every_ms
        self._busy = busy  # True when model workers are saturated: running transcripts wait
        self._preroll: deque[np.ndarray] = deque(maxlen=PREROLL_FRAMES)
        self._segment: list[np.ndarray] = []
        self._seg_samples = 0
        self._speech_samples = 0  # segment length up to the end of the last speech frame
        self._t_ms = 0
        self._pending = bytearray()
        self._speech_end_at = 0.0
        self._overlapped = False
        self._barged_in = False
        self._candidate: tuple[int, asyncio.Task[Transcript]] | None = None
        self._partial_task: asyncio.Task[Transcript] | None = None
        self._last_partial_ms = 0
        self._tasks = OwnedTasks()
        self.frames = 0
        self.filled = 0  # silent frames made up for media that never came (counted by the clock)
        self._loop = asyncio.get_running_loop()
        self._gap_s = media_gap_ms / 1000
        self._media_at = self._loop.time()  # loop time the last real frame arrived
        self._filled_since = 0  # frames made up since then
        self._watch: asyncio.TimerHandle | None = None
        self._due = 0.0  # loop time the watch is due
        self._deferred = 0  # times in a row the watch fired late and waited for media still unread
        self.deferred = 0  # all such times (a loaded box: the loop ran late, the media was not missing)
        self._closed = False  # verdicts the VAD delivers after close are dropped
        self._arm(self._gap_s)

    @property
    def stream_ms(self) -> int:
        """Stream time: how much customer audio has arrived."""
        return self._t_ms

    def feed(self, pcm: np.ndarray) -> None:
        """Accept 16 kHz PCM16 of any length; process every whole 20 ms frame."""
        self._media_at, self._filled_since, self._deferred = self._loop.time(), 0, 0
        self._arm(self._gap_s)
        if self._tap is not None:
            self._tap(pcm)
        self._pending.extend(pcm.astype("<i2", copy=False).tobytes())
        step = FRAME_SAMPLES * 2
        while len(self._pending) >= step:
            frame = np.frombuffer(bytes(self._pending[:step]), dtype="<i2")
            del self._pending[:step]
            self._frame(frame)

    def _arm(self, delay: float) -> None:
        if self._gap_s <= 0:
            return
        if self._watch is not None:
            self._watch.cancel()
        self._due = self._loop.time() + delay
        self._watch = self._loop.call_later(delay, self._on_gap)

    def _on_gap(self) -> None:
        """No media for longer than the jitter allowance: the missing time is silence, by the clock.

        Gateways with silence suppression (Asterisk, Twilio, SIP comfort noise, a caller on
        hold) send nothing while the customer is quiet, so turns must end by the clock. A
        gap shorter than the allowance is jitter: the late frames will come, nothing is made up.

        A watch that fires late says the event loop itself ran late (a loaded box): the media may
        be waiting unread in the socket, and the timers run before the reads of the same turn of
        the loop. Making up silence then would put a pause into the customer's speech (ending the
        turn early) and run the VAD twice over the stall (once on the made-up frames, once on the
        real ones behind them), which makes the loop later still. So a late watch first lets the
        reads run (`MAX_DEFERS` times at most, a frame apart) and fills only what is still missing.
        """
        now = self._loop.time()
        if now - self._due > LATE_WATCH_S and self._deferred < MAX_DEFERS:
            self._deferred += 1
            self.deferred += 1
            self._arm(FRAME_MS / 1000)
            return
        self._deferred = 0
        missing = int((self._loop.time() - self._media_at) / (FRAME_MS / 1000)) - self._filled_since
        silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        for _ in range(max(0, missing)):
            self._frame(silence)
        self._filled_since += max(0, missing)
        self.filled += max(0, missing)
        self._arm(FRAME_MS / 1000)

    def _frame(self, frame: np.ndarray) -> None:
        """One 20 ms frame (real or made up) into the VAD; `_heard` goes on with its verdict."""
        t = self._t_ms
        self._t_ms += FRAME_MS
        self.frames += 1
        self._vad.submit(frame, functools.partial(self._heard, frame, t, self._loop.time()))

    def _heard(self, frame: np.ndarray, t: int, arrived: float, result: VadFrame) -> None:
        """A frame's VAD verdict, in frame order: at once, or a little later from the VAD thread.

        `arrived` is when the frame came (the end of speech is then, for the voice-to-voice
        figure); a turn's end is decided now, when its last silent frame has been judged.
        """
        if self._closed:
            return
        now = self._loop.time()
        speech = bool(result.speech)
        self._on_frame(frame, speech)
        if self.detector.in_turn:
            self._segment.append(frame)
            self._seg_samples += len(frame)
        else:
            self._preroll.append(frame)
        for signal in self.detector.push(speech, t):
            if isinstance(signal, Onset):
                self._begin(frame)
            elif isinstance(signal, Sustained):
                self._on_sustained()
            elif isinstance(signal, Paused):
                self._start_candidate()
            elif isinstance(signal, Resumed):
                self._candidate = None
            elif isinstance(signal, EndOfTurn):
                self._finish(signal, now)
            elif isinstance(signal, Discarded):
                self._clear_segment()
                self._emit(NoiseDiscarded())
        if speech and self.detector.in_turn:
            self._speech_samples = self._seg_samples
            self._speech_end_at = arrived
            self._maybe_partial()

    def _begin(self, frame: np.ndarray) -> None:
        self._segment = list(self._preroll)
        self._preroll.clear()
        if not self._segment or self._segment[-1] is not frame:
            self._segment.append(frame)
        self._seg_samples = sum(len(f) for f in self._segment)
        self._speech_samples = self._seg_samples
        speaking, _ = self._speaking()
        self._overlapped = speaking
        self._barged_in = False
        self._last_partial_ms = 0
        self._emit(SpeechStarted(overlapped=speaking))

    def _on_sustained(self) -> None:
        speaking, interruptible = self._speaking()
        if speaking and interruptible:
            self._barged_in = True
            self._emit(BargeIn())

    def _audio(self, samples: int) -> np.ndarray:
        pcm = np.concatenate(self._segment) if self._segment else np.zeros(0, np.int16)
        return pcm[:samples]

    def _maybe_partial(self) -> None:
        if self._partial_every <= 0:
            return
        spoken = self._speech_samples * 1000 // 16000
        if spoken - self._last_partial_ms < self._partial_every:
            return
        if self._partial_task is not None and not self._partial_task.done():
            return
        if self._busy():
            return  # a running transcript is a nicety; never queue it behind other calls' turns
        self._last_partial_ms = spoken
        task = self._tasks.spawn(self._recognise(self._audio(self._speech_samples), True))
        self._partial_task = task
        task.add_done_callback(self._on_partial_done)

    def _on_partial_done(self, task: asyncio.Task[Transcript]) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        self._emit(Partial(task.result()))

    def _start_candidate(self) -> None:
        samples = min(self._seg_samples, self._speech_samples + TAIL_SAMPLES)
        task = self._tasks.spawn(self._recognise(self._audio(samples), False))
        self._candidate = (self._speech_samples, task)
        task.add_done_callback(functools.partial(self._on_candidate, self._speech_samples))

    def _on_candidate(self, speech_samples: int, task: asyncio.Task[Transcript]) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        current = self._candidate
        if current is None or current[0] != speech_samples or current[1] is not task:
            return  # the customer spoke again; this transcript is stale
        text = task.result().text
        self._emit(Partial(task.result()))
        self.detector.complete = bool(text) and self._is_complete(text)

    def _finish(self, signal: EndOfTurn, now: float) -> None:
        candidate = self._candidate
        samples = min(self._seg_samples, self._speech_samples + TAIL_SAMPLES)
        if candidate is not None and candidate[0] == self._speech_samples:
            task = candidate[1]
        else:
            task = self._tasks.spawn(self._recognise(self._audio(samples), False))
        overlapped, barged_in, speech_end_at = self._overlapped, self._barged_in, self._speech_end_at
        self._clear_segment()

        async def deliver() -> None:
            try:
                transcript = await task
            except Exception:
                log.exception("recognition failed; the turn is treated as unintelligible")
                transcript = Transcript("", "", 0.0, signal.end_ms - signal.onset_ms, 0, False)
            loop_now = asyncio.get_running_loop().time()
            self._emit(
                HeardTurn(
                    transcript=transcript,
                    onset_ms=signal.onset_ms,
                    end_ms=signal.end_ms,
                    speech_end_at=speech_end_at,
                    decided_at=now,
                    transcript_at=loop_now,
                    fast=signal.fast,
                    overlapped=overlapped,
                    barged_in=barged_in,
                )
            )

        self._tasks.spawn(deliver())

    def _clear_segment(self) -> None:
        self._segment = []
        self._seg_samples = 0
        self._speech_samples = 0
        self._candidate = None

    async def _recognise(self, pcm: np.ndarray, partial: bool) -> Transcript:
        transcript = await self._asr.transcribe(self._locale, pcm, hint=self._hint(), partial=partial)
        if not partial:
            self._metric("asr_ms", transcript.compute_ms)
        return transcript

    async def close(self) -> None:
        """Stop the clock and cancel recognition still running for this call."""
        if self._watch is not None:
            self._watch.cancel()
        self._gap_s = 0.0
        self._closed = True
        self._vad.close()
        await self._tasks.close()
